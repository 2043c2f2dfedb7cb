"""API tests: the FastAPI app in-process (Starlette TestClient) on a real, migrated PostgreSQL database
with the small fixture catalogue and the default plans, shared by the tests of a module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

import database
from api.main import create_app
from api.ratelimit import Limits
from backend.billing import plans
from etl.load_catalogue import load_catalogue
from tests.api import contract
from tests.conftest import QUIRKS_CSV

PASSWORD = "correct-horse-42"
SECRET = "test-secret-for-the-api-tests-0123456789"
GOOD_CARD = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
LIMITLESS = Limits(anonymous_per_minute=1_000_000, user_per_minute=1_000_000)


@pytest.fixture(scope="module")
def api_engine(module_db_url: str):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, QUIRKS_CSV)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
    return engine


@pytest.fixture(scope="module")
def app(api_engine):
    return create_app(api_engine, jwt_secret=SECRET, limits=LIMITLESS)


@pytest.fixture(scope="module")
def client(app) -> Iterator[TestClient]:
    """The app's client; every answer is checked against the app's own OpenAPI (tests/api/contract.py)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        contract.enforce(test_client, app.openapi())
        yield test_client


@pytest.fixture(scope="module")
def plan_ids(api_engine) -> dict[str, int]:
    with api_engine.connect() as conn:
        return dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())


def new_key() -> str:
    return uuid.uuid4().hex


def register(client: TestClient, tag: str | None = None, *, name: str = "Ada Lovelace") -> dict:
    """A new account through the API; its token pair (with `headers` for bearer calls added)."""
    email = f"{tag or uuid.uuid4().hex[:10]}@example.com"
    response = client.post("/v1/auth/register", json={"email": email, "name": name, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return with_headers(response.json())


def with_headers(pair: dict) -> dict:
    return pair | {"headers": {"Authorization": f"Bearer {pair['access_token']}"}}


def post(client: TestClient, url: str, who: dict | None, json=None, key: str | None = None):
    headers = dict(who["headers"]) if who else {}
    headers["Idempotency-Key"] = key or new_key()
    return client.post(url, json=json, headers=headers)
