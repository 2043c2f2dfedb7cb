"""The API contract of issue 19, point by point: partial and full updates, unknown fields, the plan model,
statuses and codes by situation, pagination, CORS, and the OpenAPI document itself."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from backend.accounts import users
from tests.api.conftest import GOOD_CARD, LIMITLESS, PASSWORD, SECRET, new_key, post, register, with_headers

PLAN = {
    "name": "Trio",
    "price": "11.00",
    "validity_days": 30,
    "access_level": "basic",
    "max_devices_allowed": 3,
    "resolution": "1080p",
    "description": "Three screens.",
    "is_active": False,
}


@pytest.fixture(scope="module")
def admin(client, api_engine) -> dict:
    users.register(api_engine, "contract.admin@example.com", "Con Admin", PASSWORD, role="admin")
    pair = client.post("/v1/auth/sign-in", json={"email": "contract.admin@example.com", "password": PASSWORD})
    return with_headers(pair.json())


@pytest.fixture(scope="module")
def schema(app) -> dict:
    return app.openapi()


def error(response) -> dict:
    return response.json()["error"]


# --- updates ---------------------------------------------------------------------------------------------


def test_patch_me_changes_only_the_fields_sent(client):
    member = register(client)
    assert client.patch("/v1/me", json={"phone": "+44 20 7946 0958"}, headers=member["headers"]).status_code == 200
    changed = client.patch("/v1/me", json={"name": "Ada King", "bio": "Engines."}, headers=member["headers"])
    assert changed.status_code == 200
    me = changed.json()
    assert (me["display_name"], me["bio"], me["phone_e164"]) == ("Ada King", "Engines.", "+442079460958")
    cleared = client.patch("/v1/me", json={"phone": ""}, headers=member["headers"]).json()
    assert (cleared["phone_e164"], cleared["display_name"], cleared["bio"]) == (None, "Ada King", "Engines.")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PATCH", "/v1/me", {"name": "Ada", "nickname": "A"}),
        ("POST", "/v1/auth/sign-in", {"email": "a@example.com", "password": "x", "remember": True}),
        ("POST", "/v1/me/profiles", {"name": "Kids", "is_kids": True, "avatar": "cat"}),
    ],
)
def test_unknown_fields_are_refused_naming_them(client, method, url, body):
    member = register(client)
    headers = member["headers"] | {"Idempotency-Key": new_key()}
    refused = client.request(method, url, json=body, headers=headers)
    assert refused.status_code == 422
    unknown = next(k for k in body if k in ("nickname", "remember", "avatar"))
    assert error(refused)["code"] == "unknown_field" and error(refused)["field"] == f"body.{unknown}"
    assert unknown in error(refused)["message"]


def test_a_plan_is_created_as_sent_and_unknown_fields_are_refused(client, admin):
    refused = post(client, "/v1/admin/plans", admin, PLAN | {"max_streams": 2, "screens": 3})
    assert refused.status_code == 422 and error(refused)["code"] == "unknown_field"
    assert "max_streams" in error(refused)["message"] and "screens" in error(refused)["message"]
    made = post(client, "/v1/admin/plans", admin, PLAN)
    assert made.status_code == 201
    plan = client.get(f"/v1/admin/plans/{made.json()['id']}", headers=admin["headers"]).json()
    assert (plan["max_devices_allowed"], plan["is_active"], plan["validity_days"]) == (3, False, 30)
    assert "Trio" not in [p["name"] for p in client.get("/v1/plans?page_size=100").json()["items"]]  # not on sale


def test_put_needs_every_field_and_patch_changes_only_those_sent(client, admin, plan_ids):
    premium = plan_ids["Premium"]
    before = client.get(f"/v1/admin/plans/{premium}", headers=admin["headers"]).json()
    partial = client.put(
        f"/v1/admin/plans/{premium}", json={"name": "Premium", "price": "21.99"}, headers=admin["headers"]
    )
    assert partial.status_code == 422 and error(partial)["code"] == "validation_error"
    missing = {f["field"] for f in error(partial)["fields"]}
    assert {"body.validity_days", "body.access_level", "body.max_devices_allowed", "body.resolution"} <= missing
    patched = client.patch(f"/v1/admin/plans/{premium}", json={"price": "21.99"}, headers=admin["headers"])
    assert patched.status_code == 200 and patched.json()["changed"] == {"price": "21.99"}
    after = patched.json()["plan"]
    for field in ("access_level", "max_devices_allowed", "resolution", "validity_days", "is_active", "name"):
        assert after[field] == before[field], field
    whole = {k: after[k] for k in ("name", "validity_days", "access_level", "max_devices_allowed", "resolution")}
    replaced = client.put(
        f"/v1/admin/plans/{premium}",
        json=whole | {"price": before["price"], "description": "All of it.", "is_active": True},
        headers=admin["headers"],
    )
    assert replaced.status_code == 200 and replaced.json()["changed"] == {
        "price": before["price"],
        "description": "All of it.",
    }


def test_a_plan_edit_leaves_live_subscribers_their_terms_until_renewal(client, admin, plan_ids):
    member = register(client)
    assert (
        post(client, "/v1/me/subscription", member, {"plan_id": plan_ids["Premium"], "card": GOOD_CARD}).status_code
        == 201
    )
    changed = client.patch(
        f"/v1/admin/plans/{plan_ids['Premium']}",
        json={
            "name": "Premium",
            "price": "24.99",
            "access_level": "basic",
            "max_devices_allowed": 1,
            "resolution": "1080p",
        },
        headers=admin["headers"],
    )
    assert changed.status_code == 200 and changed.json()["live_subscribers"] >= 1
    mine = client.get("/v1/me/subscription", headers=member["headers"]).json()
    assert (mine["entitlement"]["access_level"], mine["entitlement"]["max_devices_allowed"]) == ("premium", 4)
    assert (mine["entitlement"]["resolution"], mine["subscription"]["price"]) == ("4K", "19.99")
    restored = {"access_level": "premium", "max_devices_allowed": 4, "resolution": "4K", "price": "19.99"}
    assert (
        client.patch(f"/v1/admin/plans/{plan_ids['Premium']}", json=restored, headers=admin["headers"]).status_code
        == 200
    )


def test_title_put_needs_every_field_and_patch_keeps_the_rest(client, admin):
    made = post(
        client,
        "/v1/admin/titles",
        admin,
        {"title": "The Tin Orchard", "genres": ["Dramas"], "access_level": "premium", "duration_minutes": 90},
    )
    title_id = made.json()["id"]
    partial = client.put(f"/v1/admin/titles/{title_id}", json={"title": "The Tin Orchard II"}, headers=admin["headers"])
    assert partial.status_code == 422 and error(partial)["code"] == "validation_error"
    patched = client.patch(
        f"/v1/admin/titles/{title_id}", json={"title": "The Tin Orchard II"}, headers=admin["headers"]
    )
    assert patched.status_code == 200 and patched.json()["changed"] == {"title": "The Tin Orchard II"}
    title = client.get(f"/v1/admin/titles/{title_id}", headers=admin["headers"]).json()
    assert (title["access_level"], title["duration_minutes"], title["genres"]) == ("premium", 90, ["Dramas"])


def test_deleting_content_hides_it_keeps_it_and_is_idempotent(client, admin):
    made = post(
        client, "/v1/admin/titles", admin, {"title": "Gone Tomorrow", "genres": ["Dramas"], "duration_minutes": 80}
    )
    title_id, show_id = made.json()["id"], made.json()["show_id"]
    assert client.get(f"/v1/titles/{show_id}").status_code == 200
    for _ in range(2):
        assert client.delete(f"/v1/admin/titles/{title_id}", headers=admin["headers"]).status_code == 204
    assert error(client.get(f"/v1/titles/{show_id}"))["code"] == "title_not_found"
    assert client.get(f"/v1/admin/titles/{title_id}", headers=admin["headers"]).json()["is_active"] is False
    assert error(client.delete("/v1/admin/titles/987654321", headers=admin["headers"]))["code"] == "title_not_found"


# --- statuses by situation -------------------------------------------------------------------------------


def test_each_situation_has_its_status_and_code(client, admin, plan_ids):
    member, standard_subscriber = register(client), register(client)
    subscribed = post(
        client, "/v1/me/subscription", standard_subscriber, {"plan_id": plan_ids["Standard"], "card": GOOD_CARD}
    )
    assert subscribed.status_code == 201, subscribed.text
    cases = [
        (client.get("/v1/admin/plans/987654", headers=admin["headers"]), 404, "plan_not_found"),
        (post(client, "/v1/me/subscription", member, {"plan_id": 987654, "card": GOOD_CARD}), 404, "plan_not_found"),
        (client.get("/v1/titles/zz-missing"), 404, "title_not_found"),
        (
            client.post(
                "/v1/auth/register", json={"email": member["user"]["email"], "name": "Dup", "password": PASSWORD}
            ),
            409,
            "email_taken",
        ),
        (post(client, "/v1/admin/plans", admin, PLAN | {"name": "standard"}), 409, "plan_name_taken"),
        (
            client.delete(f"/v1/admin/plans/{plan_ids['Standard']}", headers=admin["headers"]),
            409,
            "plan_has_subscribers",
        ),
        (
            post(
                client,
                "/v1/me/subscription",
                member,
                {"plan_id": plan_ids["Basic"], "card": GOOD_CARD | {"number": "4000 0000 0000 0002"}},
            ),
            402,
            "card_declined",
        ),
        (
            post(
                client,
                "/v1/me/subscription",
                member,
                {"plan_id": plan_ids["Basic"], "card": GOOD_CARD | {"exp_month": 13}},
            ),
            422,
            "validation_error",
        ),
        (
            post(
                client,
                "/v1/me/subscription",
                member,
                {"plan_id": plan_ids["Basic"], "card": GOOD_CARD | {"number": "1234"}},
            ),
            422,
            "card_invalid",
        ),
        (post(client, "/v1/me/subscription/cancel", member, None), 409, "no_subscription"),
    ]
    for response, status, code in cases:
        assert (response.status_code, error(response)["code"]) == (status, code), response.text
    invalid = post(
        client, "/v1/me/subscription", member, {"plan_id": plan_ids["Basic"], "card": GOOD_CARD | {"number": "1234"}}
    )
    assert error(invalid)["field"] == "card.number"


def test_a_second_checkout_is_a_conflict_and_a_declined_renewal_retry_is_402(client, plan_ids, api_engine):
    member = register(client)
    assert (
        post(client, "/v1/me/subscription", member, {"plan_id": plan_ids["Basic"], "card": GOOD_CARD}).status_code
        == 201
    )
    again = post(client, "/v1/me/subscription", member, {"plan_id": plan_ids["Basic"]})
    assert (again.status_code, error(again)["code"]) == (409, "subscription_exists")
    poor = post(client, "/v1/me/card", member, GOOD_CARD | {"number": "4000 0000 0000 9995"})
    assert poor.status_code == 200  # a card with no funds is a valid card: refused when charged


# --- the public plan model -------------------------------------------------------------------------------


def test_the_public_plans_carry_every_field_of_the_required_model(client):
    page = client.get("/v1/plans").json()
    required = {
        "name",
        "price",
        "validity_days",
        "access_level",
        "max_devices_allowed",
        "resolution",
        "description",
        "is_active",
    }
    assert page["items"] and all(required <= set(plan) for plan in page["items"])
    assert all(plan["is_active"] for plan in page["items"]) and "max_streams" not in page["items"][0]
    assert Decimal(page["items"][0]["price"]) > 0


# --- pagination ------------------------------------------------------------------------------------------


def list_operations(schema: dict) -> list[str]:
    return sorted(
        path
        for path, methods in schema["paths"].items()
        if "get" in methods
        and re.search(r"Page_|Results|NotificationsPage", str(methods["get"]["responses"]["200"]["content"]))
    )


def test_every_list_paginates_the_same_way(schema):
    lists = list_operations(schema)
    profile = "/v1/me/profiles/{profile_id}"
    assert lists == sorted(
        ["/v1/plans", "/v1/titles", "/v1/titles/{show_id}/similar", "/v1/me/profiles", "/v1/me/notifications"]
        + ["/v1/me/subscription/history", "/v1/me/billing", "/v1/me/streams", "/v1/admin/plans", "/v1/admin/titles"]
        + ["/v1/admin/users"]
        + [
            f"{profile}/{name}"
            for name in ("continue-watching", "my-list", "home", "recommendations", "recently-watched")
        ]
    )
    for path in lists:
        names = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
        assert {"page", "page_size"} <= names, path
    arrays = [
        path
        for path, methods in schema["paths"].items()
        if "get" in methods
        and methods["get"]["responses"]
        .get("200", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("type")
        == "array"
    ]
    assert arrays == []  # no bare arrays left: every list is a page


@pytest.mark.parametrize("url", ["/v1/plans", "/v1/titles", "/v1/titles?q=lantern"])
def test_open_lists_page_forward_and_past_the_end_is_empty(client, url):
    joiner = "&" if "?" in url else "?"
    first = client.get(f"{url}{joiner}page_size=1").json()
    assert first["page"] == 1 and len(first["items"]) == min(1, first["total"])
    if first["total"] > 1:
        following = client.get(first["next"]).json()
        assert following["page"] == 2 and following["items"] != first["items"]
    beyond = client.get(f"{url}{joiner}page={first['total'] + 5}&page_size=1").json()
    assert beyond["items"] == [] and beyond["total"] == first["total"] and beyond["next"] is None


def test_member_lists_past_the_end_are_empty_pages(client):
    member = register(client)
    for url in ("/v1/me/profiles", "/v1/me/billing", "/v1/me/streams", "/v1/me/notifications"):
        page = client.get(f"{url}?page=50", headers=member["headers"]).json()
        assert page["items"] == [] and page["page"] == 50 and page["next"] is None, url


# --- CORS and rate-limit headers ---------------------------------------------------------------------------


def test_cors_follows_the_allow_list_of_the_settings(api_engine, monkeypatch):
    monkeypatch.setenv("API_CORS_ORIGINS", "https://app.example.com")
    web = TestClient(create_app(api_engine, jwt_secret=SECRET, limits=LIMITLESS))
    asked = {"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type"}
    allowed = web.options("/v1/me", headers={"Origin": "https://app.example.com"} | asked)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "PATCH" in allowed.headers["access-control-allow-methods"]
    other = web.options("/v1/me", headers={"Origin": "https://evil.example.net"} | asked)
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    answer = web.get("/v1/plans", headers={"Origin": "https://app.example.com"})
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "ratelimit-remaining" in answer.headers["access-control-expose-headers"].lower()


def test_every_answer_says_where_the_caller_stands_with_the_rate_limit(client):
    answer = client.get("/v1/plans")
    limit, remaining = int(answer.headers["RateLimit-Limit"]), int(answer.headers["RateLimit-Remaining"])
    assert limit == LIMITLESS.anonymous_per_minute and 0 <= remaining < limit
    assert int(answer.headers["RateLimit-Reset"]) >= 0


# --- the OpenAPI document --------------------------------------------------------------------------------

OPEN = {
    ("get", "/v1/plans"),
    ("get", "/v1/facets"),
    ("get", "/v1/titles/{show_id}/trailer"),
    ("post", "/v1/auth/register"),
    ("post", "/v1/auth/sign-in"),
    ("post", "/v1/auth/refresh"),
}
OPTIONAL_SIGN_IN = {("get", "/v1/titles"), ("get", "/v1/titles/{show_id}"), ("get", "/v1/titles/{show_id}/similar")}


def each_operation(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_open_operations_are_marked_open_and_the_others_need_a_token(schema):
    for method, path, operation in each_operation(schema):
        if (method, path) in OPEN:
            assert "security" not in operation, path
        elif (method, path) in OPTIONAL_SIGN_IN:
            assert operation["security"] == [{}, {"HTTPBearer": []}], path
        else:
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)


def test_each_operation_lists_its_own_errors_with_their_codes(schema):
    listed = {}
    for method, path, operation in each_operation(schema):
        errors = {s: r["x-error-codes"] for s, r in operation["responses"].items() if s >= "400"}
        assert errors, path
        for status, codes in errors.items():
            assert codes, (path, status)
            enum = operation["responses"][status]["content"]["application/json"]["schema"]["allOf"][1]
            assert enum["properties"]["error"]["properties"]["code"]["enum"] == codes
        listed[(method, path)] = errors
    assert "401" not in listed[("get", "/v1/plans")] and "403" not in listed[("get", "/v1/me")]
    assert listed[("post", "/v1/me/subscription")]["402"] == ["card_declined", "insufficient_funds"]
    assert listed[("delete", "/v1/admin/plans/{plan_id}")]["409"] == ["plan_has_subscribers"]
    assert "plan_not_found" in listed[("post", "/v1/me/subscription")]["404"]
    assert len({tuple(sorted(e)) for e in listed.values()}) > 10  # not the same list everywhere


def test_operation_ids_are_the_route_names_stable_and_unique(schema):
    ids = [operation["operationId"] for _, _, operation in each_operation(schema)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z_]*", i) for i in ids), ids
    assert {"list_plans", "admin_list_plans", "checkout", "browse", "update_me", "admin_update_plan"} <= set(ids)


def test_every_response_is_typed_and_schema_names_do_not_collide(schema):
    assert not [name for name in schema["components"]["schemas"] if "__" in name]
    for method, path, operation in each_operation(schema):
        for status, response in operation["responses"].items():
            if status == "204":
                continue
            content = response.get("content")
            assert content, (method, path, status)
            for media, body in content.items():
                assert body.get("schema"), (method, path, status, media)
                assert body["schema"] != {} and body["schema"] != {"type": "object"}, (method, path, status)


def test_the_examples_show_only_fields_that_exist(schema):
    components = schema["components"]["schemas"]
    checked = 0
    for name, component in components.items():
        for example in component.get("examples", []):
            assert set(example) <= set(component.get("properties", {})), (
                name,
                set(example) - set(component["properties"]),
            )
            checked += 1
    assert checked >= 3
