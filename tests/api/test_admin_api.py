"""Staff endpoints: the monthly metrics table is the analytics CLI's, for admins and analysts only."""

import json
from datetime import UTC, datetime

import pytest

from api import tokens
from backend import analytics, api_sessions, subscriptions, users
from backend import gateway as gateways
from tests.api.conftest import PASSWORD, SECRET, new_key, register

CARD = subscriptions.CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")


def bearer(engine, user: users.User) -> dict:
    access, _ = tokens.issue(SECRET, user.user_id, api_sessions.start(engine, user).family_id)
    return {"Authorization": f"Bearer {access}"}


@pytest.fixture(scope="module")
def staff(api_engine):
    return {role: bearer(api_engine, users.register(api_engine, f"api.{role}@example.com", role.title(), PASSWORD,
                                                    role=role)) for role in ("admin", "analyst")}


def test_metrics_are_the_analytics_clis_table(client, api_engine, plan_ids, staff, module_db_url, monkeypatch,
                                              capsys):
    for plan in ("Basic", "Premium"):
        member = register(client)
        subscriptions.checkout(api_engine, member["user"]["user_id"], plan_ids[plan], CARD, new_key())
    analytics.refresh(api_engine)
    month = datetime.now(UTC).strftime("%Y-%m")
    response = client.get("/v1/admin/metrics", params={"start": month, "end": month}, headers=staff["analyst"])
    assert response.status_code == 200, response.text
    monkeypatch.setenv("DATABASE_URL", module_db_url)
    assert analytics.main(["metrics", "--start", month, "--end", month, "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert response.json()["months"] == cli["months"]
    [row] = response.json()["months"]
    assert row["month"] == month and row["new_subscribers"] >= 0
    by_plan = client.get("/v1/admin/metrics", headers=staff["admin"],
                         params={"start": month, "end": month, "plan_id": plan_ids["Premium"]}).json()
    cli_by_plan = analytics.monthly_metrics(api_engine, analytics.Period(datetime.now(UTC).date(),
                                                                         datetime.now(UTC).date()),
                                            analytics.Filters((plan_ids["Premium"],)),
                                            acting_user_id=users.find_user_by_email(api_engine,
                                                                                    "api.admin@example.com").user_id)
    assert by_plan["months"] == analytics.as_json_rows(cli_by_plan)


def test_metrics_refuse_subscribers_and_bad_months(client, staff):
    member = register(client)
    assert client.get("/v1/admin/metrics", params={"start": "2026-01", "end": "2026-02"},
                      headers=member["headers"]).status_code == 403
    backwards = client.get("/v1/admin/metrics", params={"start": "2026-05", "end": "2026-02"},
                           headers=staff["admin"])
    assert backwards.status_code == 422 and "first month" in backwards.json()["error"]["message"]
    wrong = client.get("/v1/admin/metrics", params={"start": "2026-13", "end": "2026-02"}, headers=staff["admin"])
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "query.start"
    too_long = client.get("/v1/admin/metrics", params={"start": "1990-01", "end": "2026-02"},
                          headers=staff["admin"])
    assert too_long.status_code == 422
