"""Who may call what: every route of the app has a rule here (a new route without one fails), checked
anonymously, as a subscriber and as an admin; and a subscriber never reaches another's resources."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api import tokens
from api.main import create_app
from backend.accounts import api_sessions, users
from tests.api.conftest import LIMITLESS, PASSWORD, SECRET, new_key, post, register

PUBLIC, MEMBER, STAFF, ADMIN = "public", "member", "staff", "admin"
RULES: dict[tuple[str, str], str] = {
    ("POST", "/v1/auth/register"): PUBLIC,
    ("POST", "/v1/auth/sign-in"): PUBLIC,
    ("POST", "/v1/auth/refresh"): PUBLIC,
    ("POST", "/v1/auth/sign-out"): MEMBER,
    ("POST", "/v1/auth/password"): MEMBER,
    ("GET", "/v1/plans"): PUBLIC,
    ("GET", "/v1/titles"): PUBLIC,
    ("GET", "/v1/me"): MEMBER,
    ("PATCH", "/v1/me"): MEMBER,
    ("GET", "/v1/me/profiles"): MEMBER,
    ("POST", "/v1/me/profiles"): MEMBER,
    ("GET", "/v1/me/notifications"): MEMBER,
    ("POST", "/v1/me/notifications/read"): MEMBER,
    ("GET", "/v1/me/subscription"): MEMBER,
    ("GET", "/v1/me/subscription/history"): MEMBER,
    ("POST", "/v1/me/subscription"): MEMBER,
    ("POST", "/v1/me/subscription/change-plan"): MEMBER,
    ("POST", "/v1/me/subscription/undo-downgrade"): MEMBER,
    ("POST", "/v1/me/subscription/cancel"): MEMBER,
    ("POST", "/v1/me/subscription/resume"): MEMBER,
    ("POST", "/v1/me/subscription/retry-payment"): MEMBER,
    ("POST", "/v1/me/card"): MEMBER,
    ("GET", "/v1/me/billing"): MEMBER,
    ("GET", "/v1/me/billing/{payment_id}/receipt"): MEMBER,
    ("GET", "/v1/titles/{show_id}/trailer"): PUBLIC,
    ("POST", "/v1/me/playback"): MEMBER,
    ("PUT", "/v1/me/playback/{lease_id}/position"): MEMBER,
    ("DELETE", "/v1/me/playback/{lease_id}"): MEMBER,
    ("GET", "/v1/me/streams"): MEMBER,
    ("DELETE", "/v1/me/streams/{lease_id}"): MEMBER,
    ("GET", "/v1/me/profiles/{profile_id}/continue-watching"): MEMBER,
    ("DELETE", "/v1/me/profiles/{profile_id}/continue-watching/{show_id}"): MEMBER,
    ("GET", "/v1/admin/metrics"): STAFF,
    ("GET", "/v1/admin/plans"): ADMIN,
    ("POST", "/v1/admin/plans"): ADMIN,
    ("PUT", "/v1/admin/plans/{plan_id}"): ADMIN,
    ("POST", "/v1/admin/plans/{plan_id}/deactivate"): ADMIN,
    ("POST", "/v1/admin/plans/{plan_id}/activate"): ADMIN,
    ("DELETE", "/v1/admin/plans/{plan_id}"): ADMIN,
    ("GET", "/v1/admin/titles"): ADMIN,
    ("GET", "/v1/admin/titles/{title_id}"): ADMIN,
    ("POST", "/v1/admin/titles"): ADMIN,
    ("PUT", "/v1/admin/titles/{title_id}"): ADMIN,
    ("POST", "/v1/admin/titles/{title_id}/deactivate"): ADMIN,
    ("POST", "/v1/admin/titles/{title_id}/activate"): ADMIN,
    ("GET", "/v1/admin/users"): ADMIN,
    ("GET", "/v1/admin/users/{user_id}"): ADMIN,
    ("POST", "/v1/admin/users/{user_id}/suspend"): ADMIN,
    ("POST", "/v1/admin/users/{user_id}/restore"): ADMIN,
    ("PUT", "/v1/admin/users/{user_id}/role"): ADMIN,
    ("GET", "/v1/facets"): PUBLIC,
    ("GET", "/v1/titles/{show_id}"): PUBLIC,
    ("GET", "/v1/titles/{show_id}/similar"): PUBLIC,
    ("GET", "/v1/me/profiles/{profile_id}/my-list"): MEMBER,
    ("PUT", "/v1/me/profiles/{profile_id}/my-list/{show_id}"): MEMBER,
    ("DELETE", "/v1/me/profiles/{profile_id}/my-list/{show_id}"): MEMBER,
    ("GET", "/v1/me/profiles/{profile_id}/ratings/{show_id}"): MEMBER,
    ("PUT", "/v1/me/profiles/{profile_id}/ratings/{show_id}"): MEMBER,
    ("DELETE", "/v1/me/profiles/{profile_id}/ratings/{show_id}"): MEMBER,
    ("GET", "/v1/me/profiles/{profile_id}/home"): MEMBER,
    ("GET", "/v1/me/profiles/{profile_id}/recommendations"): MEMBER,
    ("GET", "/v1/me/profiles/{profile_id}/recently-watched"): MEMBER,
    ("GET", "/v1/me/avatar"): MEMBER,
    ("PUT", "/v1/me/avatar"): MEMBER,
    ("DELETE", "/v1/me/avatar"): MEMBER,
    ("GET", "/v1/admin/plans/{plan_id}"): ADMIN,
    ("PATCH", "/v1/admin/plans/{plan_id}"): ADMIN,
    ("PATCH", "/v1/admin/titles/{title_id}"): ADMIN,
    ("DELETE", "/v1/admin/titles/{title_id}"): ADMIN,
}
SAMPLE_PATH_VALUES = {
    "payment_id": "1",
    "plan_id": "987654",
    "show_id": "s1",
    "user_id": "987654",
    "title_id": "1",
    "profile_id": "1",
    "session_id": "1",
    "lease_id": "1",
    "episode_id": "1",
}
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _flatten(routes) -> list[APIRoute]:
    """The endpoints of `app.routes`, with included routers opened (FastAPI keeps them nested)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _flatten(route.original_router.routes)
    return found


APP = create_app(None, jwt_secret=SECRET, limits=LIMITLESS)
ROUTES = sorted(
    (method, route.path) for route in _flatten(APP.routes) for method in route.methods if route.path not in DOCS
)


def test_docs_are_served_without_a_cdn():
    client = TestClient(APP)
    for page, script in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        src = re.search(r'src="([^"]*' + re.escape(script) + ')"', html).group(1)
        assert src.startswith("/"), src  # the app's own copy, not a CDN
        assert client.get(src).status_code == 200


def test_every_route_has_an_access_rule():
    assert set(ROUTES) == set(RULES), "add the new route to RULES (and to the docs)"
    documented = {(method.upper(), path) for path, item in APP.openapi()["paths"].items() for method in item}
    assert documented == set(ROUTES)  # and every route is in the OpenAPI schema (so it is fuzzed too)


def _call(client, method: str, path: str, who: dict | None):
    url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], path)
    headers = dict(who["headers"]) if who else {}
    headers["Idempotency-Key"] = new_key()
    return client.request(method, url, headers=headers, json={})


def fresh_session(engine, user: users.User) -> dict:
    """Bearer headers of a new session of `user` (so that calling sign-out ends only that one)."""
    access, _ = tokens.issue(SECRET, user.user_id, api_sessions.start(engine, user).family_id)
    return {"headers": {"Authorization": f"Bearer {access}"}}


@pytest.fixture(scope="module")
def admin(api_engine):
    user = users.register(api_engine, "matrix.admin@example.com", "Matrix Admin", PASSWORD, role="admin")
    return lambda: fresh_session(api_engine, user)


@pytest.fixture(scope="module")
def subscriber(api_engine):
    user = users.register(api_engine, "matrix.member@example.com", "Matrix Member", PASSWORD)
    return lambda: fresh_session(api_engine, user)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_callers_reach_only_public_routes(client, method, path):
    status = _call(client, method, path, None).status_code
    if RULES[(method, path)] == PUBLIC:
        assert status not in (401, 403)
    else:
        assert status == 401


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_subscribers_reach_public_and_member_routes_only(client, subscriber, method, path):
    status = _call(client, method, path, subscriber()).status_code
    if RULES[(method, path)] in (STAFF, ADMIN):
        assert status == 403
    else:
        assert status not in (401, 403)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_admins_reach_every_route(client, admin, method, path):
    assert _call(client, method, path, admin()).status_code not in (401, 403)


def test_a_subscriber_never_reaches_another_subscribers_resources(client, plan_ids):
    owner, other = register(client), register(client)
    post(
        client,
        "/v1/me/subscription",
        owner,
        {
            "plan_id": plan_ids["Basic"],
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
    )
    post(client, "/v1/me/profiles", owner, {"name": "Owner Kids", "is_kids": True})
    for path in (
        "/v1/me",
        "/v1/me/profiles",
        "/v1/me/subscription",
        "/v1/me/subscription/history",
        "/v1/me/notifications",
    ):  # billing: a trial has no payments (receipts: test_subscription_api)
        mine = client.get(path, headers=owner["headers"]).json()
        theirs = client.get(path, headers=other["headers"]).json()
        assert mine != theirs and "Owner Kids" not in str(theirs), path
    # the same Idempotency-Key is per account: another member's key does not replay the owner's answer
    key = new_key()
    first = post(client, "/v1/me/profiles", owner, {"name": "Shared Key"}, key=key)
    second = post(client, "/v1/me/profiles", other, {"name": "Shared Key"}, key=key)
    assert first.status_code == second.status_code == 201
    assert first.json()["profile_id"] != second.json()["profile_id"]
