"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis): every operation,
with generated path, query, header and body values (valid and invalid), anonymously, as a subscriber with
a card on file and a live subscription, and as an admin. No response may be a server error (5xx)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api import tokens
from api.main import create_app
from backend.accounts import api_sessions, users
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import state as billing_state
from tests.api.conftest import LIMITLESS, PASSWORD, SECRET

EXAMPLES = 6  # per operation and run: 62 operations x 3 runs, about a minute of CPU


# The schema is read from the app itself; the app reaches this module's database through the fixture below.
APP = create_app(None, jwt_secret=SECRET, limits=LIMITLESS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def fuzz_database(api_engine):
    APP.state.engine = api_engine
    yield
    APP.state.engine = None


@pytest.fixture(scope="module")
def subscriber(api_engine, plan_ids) -> users.User:
    user = users.register(api_engine, "fuzz.subscriber@example.com", "Fuzz Subscriber", PASSWORD)
    card = billing_state.CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")
    billing_checkout.checkout(api_engine, user.user_id, plan_ids["Standard"], card, "fuzz-checkout")
    return user


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_errors_anonymously(case):
    case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_errors_as_a_subscriber(case, api_engine, subscriber):
    case.call_and_validate(headers=bearer(api_engine, subscriber), checks=[not_a_server_error])


@pytest.fixture(scope="module")
def admin(api_engine) -> users.User:
    return users.register(api_engine, "fuzz.admin@example.com", "Fuzz Admin", PASSWORD, role="admin")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_errors_as_an_admin(case, api_engine, admin):
    case.call_and_validate(headers=bearer(api_engine, admin), checks=[not_a_server_error])


def bearer(engine, user: users.User) -> dict:
    """A session of its own per case, so that a generated sign-out cannot end the next case's session."""
    access, _ = tokens.issue(SECRET, user.user_id, api_sessions.start(engine, user).family_id)
    return {"Authorization": f"Bearer {access}"}
