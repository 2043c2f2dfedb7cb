"""Staff endpoints: the monthly metrics table is the analytics CLI's, for admins and analysts only."""

import json
from datetime import UTC, datetime

import pytest

from api import tokens
from backend.accounts import api_sessions, users
from backend.analytics import __main__ as analytics_cli
from backend.analytics import reading, revenue_metrics, rollups, selection
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import state as billing_state
from tests.api.conftest import PASSWORD, SECRET, new_key, register

CARD = billing_state.CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")


def bearer(engine, user: users.User) -> dict:
    access, _ = tokens.issue(SECRET, user.user_id, api_sessions.start(engine, user).family_id)
    return {"Authorization": f"Bearer {access}"}


@pytest.fixture(scope="module")
def staff(api_engine):
    return {
        role: bearer(
            api_engine, users.register(api_engine, f"api.{role}@example.com", role.title(), PASSWORD, role=role)
        )
        for role in ("admin", "analyst")
    }


def test_metrics_are_the_analytics_clis_table(client, api_engine, plan_ids, staff, module_db_url, monkeypatch, capsys):
    for plan in ("Basic", "Premium"):
        member = register(client)
        billing_checkout.checkout(api_engine, member["user"]["user_id"], plan_ids[plan], CARD, new_key())
    rollups.refresh(api_engine)
    month = datetime.now(UTC).strftime("%Y-%m")
    response = client.get("/v1/admin/metrics", params={"start": month, "end": month}, headers=staff["analyst"])
    assert response.status_code == 200, response.text
    monkeypatch.setenv("DATABASE_URL", module_db_url)
    assert analytics_cli.main(["metrics", "--start", month, "--end", month, "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert response.json()["months"] == cli["months"]
    [row] = response.json()["months"]
    assert row["month"] == month and row["new_subscribers"] >= 0
    by_plan = client.get(
        "/v1/admin/metrics",
        headers=staff["admin"],
        params={"start": month, "end": month, "plan_id": plan_ids["Premium"]},
    ).json()
    cli_by_plan = revenue_metrics.monthly_metrics(
        api_engine,
        selection.Period(datetime.now(UTC).date(), datetime.now(UTC).date()),
        selection.Filters((plan_ids["Premium"],)),
        acting_user_id=users.find_user_by_email(api_engine, "api.admin@example.com").user_id,
    )
    assert by_plan["months"] == reading.as_json_rows(cli_by_plan)


def test_metrics_refuse_subscribers_and_bad_months(client, staff):
    member = register(client)
    assert (
        client.get(
            "/v1/admin/metrics", params={"start": "2026-01", "end": "2026-02"}, headers=member["headers"]
        ).status_code
        == 403
    )
    backwards = client.get("/v1/admin/metrics", params={"start": "2026-05", "end": "2026-02"}, headers=staff["admin"])
    assert backwards.status_code == 422 and "first month" in backwards.json()["error"]["message"]
    wrong = client.get("/v1/admin/metrics", params={"start": "2026-13", "end": "2026-02"}, headers=staff["admin"])
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "query.start"
    too_long = client.get("/v1/admin/metrics", params={"start": "1990-01", "end": "2026-02"}, headers=staff["admin"])
    assert too_long.status_code == 422


PLAN = {
    "name": "Mobile",
    "price": "4.99",
    "validity_days": 31,
    "max_devices_allowed": 1,
    "resolution": "480p",
    "access_level": "basic",
    "description": "One phone.",
}


def test_admins_create_edit_deactivate_and_delete_plans(client, staff):
    key = new_key()
    made = client.post("/v1/admin/plans", json=PLAN, headers=staff["admin"] | {"Idempotency-Key": key})
    again = client.post("/v1/admin/plans", json=PLAN, headers=staff["admin"] | {"Idempotency-Key": key})
    assert made.status_code == again.status_code == 201 and made.json() == again.json()
    plan_id = made.json()["id"]
    assert [p["name"] for p in client.get("/v1/plans").json()["items"]].count("Mobile") == 1
    taken = client.post("/v1/admin/plans", json=PLAN, headers=staff["admin"] | {"Idempotency-Key": new_key()})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "plan_name_taken"
    changed = client.put(
        f"/v1/admin/plans/{plan_id}", json=PLAN | {"price": "5.49", "is_active": True}, headers=staff["admin"]
    )
    assert changed.json()["changed"] == {"price": "5.49"} and changed.json()["live_subscribers"] == 0
    off = client.post(f"/v1/admin/plans/{plan_id}/deactivate", headers=staff["admin"] | {"Idempotency-Key": new_key()})
    assert off.status_code == 200 and "Mobile" not in [p["name"] for p in client.get("/v1/plans").json()["items"]]
    listed = {p["plan_id"]: p for p in client.get("/v1/admin/plans", headers=staff["admin"]).json()["items"]}
    assert listed[plan_id]["is_active"] is False and listed[plan_id]["price"] == "5.49"
    assert client.delete(f"/v1/admin/plans/{plan_id}", headers=staff["admin"]).status_code == 204
    listed = client.get("/v1/admin/plans", headers=staff["admin"]).json()["items"]
    assert plan_id not in {p["plan_id"] for p in listed}
    assert client.get("/v1/admin/plans", headers=staff["analyst"]).status_code == 403


def test_admins_add_edit_and_deactivate_titles(client, staff):
    body = {
        "title": "The Lighthouse Keeper",
        "kind": "movie",
        "release_year": 2024,
        "maturity_rating": "PG",
        "access_level": "premium",
        "duration_minutes": 95,
        "genres": ["Dramas"],
    }
    made = client.post("/v1/admin/titles", json=body, headers=staff["admin"] | {"Idempotency-Key": new_key()})
    assert made.status_code == 201, made.text
    title_id, show_id = made.json()["id"], made.json()["show_id"]
    assert client.get(f"/v1/titles/{show_id}").json()["card"]["title"] == "The Lighthouse Keeper"
    whole = {k: v for k, v in body.items() if k != "kind"} | {"description": "", "seasons": None, "date_added": None}
    whole["date_added"] = client.get(f"/v1/admin/titles/{title_id}", headers=staff["admin"]).json()["date_added"]
    edited = client.put(
        f"/v1/admin/titles/{title_id}", json=whole | {"title": "The Lighthouse Keepers"}, headers=staff["admin"]
    )
    assert edited.json()["changed"] == {"title": "The Lighthouse Keepers"}
    bad = client.put(f"/v1/admin/titles/{title_id}", json=whole | {"maturity_rating": "XYZ"}, headers=staff["admin"])
    assert bad.status_code == 422 and "maturity rating" in bad.json()["error"]["message"]
    assert bad.json()["error"]["field"] == "maturity_rating"
    off = client.post(
        f"/v1/admin/titles/{title_id}/deactivate", headers=staff["admin"] | {"Idempotency-Key": new_key()}
    )
    assert off.status_code == 200 and client.get(f"/v1/titles/{show_id}").status_code == 404
    found = client.get("/v1/admin/titles", params={"q": "lighthouse"}, headers=staff["admin"]).json()
    assert [(t["show_id"], t["is_active"]) for t in found["items"]] == [(show_id, False)]


def test_admins_find_suspend_restore_and_change_roles(client, staff):
    member = register(client, "to.suspend")
    uid = member["user"]["user_id"]
    [found] = client.get("/v1/admin/users", params={"q": "to.suspend"}, headers=staff["admin"]).json()["items"]
    assert found["user_id"] == uid and found["suspended_at"] is None
    page = client.get(f"/v1/admin/users/{uid}", headers=staff["admin"]).json()
    assert page["account"]["email"] == "to.suspend@example.com" and len(page["profiles"]) == 1
    suspended = client.post(f"/v1/admin/users/{uid}/suspend", headers=staff["admin"] | {"Idempotency-Key": new_key()})
    assert suspended.status_code == 200
    assert client.get("/v1/me", headers=member["headers"]).status_code == 401  # its API session ended at once
    refused_sign_in = client.post("/v1/auth/sign-in", json={"email": "to.suspend@example.com", "password": PASSWORD})
    assert (refused_sign_in.status_code, refused_sign_in.json()["error"]["code"]) == (403, "account_suspended")
    assert (
        client.post(
            f"/v1/admin/users/{uid}/restore", headers=staff["admin"] | {"Idempotency-Key": new_key()}
        ).status_code
        == 200
    )
    assert (
        client.post("/v1/auth/sign-in", json={"email": "to.suspend@example.com", "password": PASSWORD}).status_code
        == 200
    )
    assert client.put(f"/v1/admin/users/{uid}/role", json={"role": "analyst"}, headers=staff["admin"]).json() == {
        "done": True
    }
    assert (
        client.get("/v1/admin/users", params={"role": "analyst", "q": "to.suspend"}, headers=staff["admin"]).json()[
            "items"
        ][0]["role"]
        == "analyst"
    )
    own = users.find_user_by_email  # an admin cannot change their own account
    me = own(client.app.state.engine, "api.admin@example.com").user_id
    refused = client.put(f"/v1/admin/users/{me}/role", json={"role": "subscriber"}, headers=staff["admin"])
    assert refused.status_code == 403 and "your own account" in refused.json()["error"]["message"]
    assert refused.json()["error"]["code"] == "own_account"
