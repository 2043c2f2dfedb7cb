"""The error shape of unexpected failures (nothing leaks), and idempotency under concurrent retries."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import state as billing_state
from backend.billing import subscriptions
from tests.api.conftest import GOOD_CARD, LIMITLESS, SECRET, new_key, post, register
from tests.conftest import run_at_once


def test_an_unexpected_error_is_a_plain_500_without_details(api_engine):
    app = create_app(api_engine, jwt_secret=SECRET, limits=LIMITLESS)

    @app.get("/v1/explode")
    def explode() -> dict:
        raise RuntimeError("secret detail: password=hunter2 at /srv/app.py line 3")

    response = TestClient(app, raise_server_exceptions=False).get("/v1/explode")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "hunter2" not in response.text and "Traceback" not in response.text and "app.py" not in response.text


def test_concurrent_retries_with_one_key_charge_once(client, api_engine, plan_ids):
    member = register(client)
    uid = member["user"]["user_id"]
    card = billing_state.CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")
    past = datetime.now(UTC) - timedelta(days=30)  # a cancelled trial that has ended: the next checkout pays
    billing_checkout.checkout(api_engine, uid, plan_ids["Basic"], card, "first-trial", now=past)
    subscriptions.cancel(api_engine, uid, now=past + timedelta(days=1))
    key, body = new_key(), {"plan_id": plan_ids["Standard"], "card": GOOD_CARD}
    responses = run_at_once(*[lambda: post(client, "/v1/me/subscription", member, body, key=key)] * 3)
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}  # 409: "still running, retry"
    with api_engine.connect() as conn:
        paid = (
            conn.execute(
                text("SELECT amount FROM payment_attempts WHERE user_id = :u AND status = 'succeeded'"), {"u": uid}
            )
            .scalars()
            .all()
        )
    assert paid == [Decimal("13.99")]
    retry = post(client, "/v1/me/subscription", member, body, key=key)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
