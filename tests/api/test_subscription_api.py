"""Subscription and billing over the API: checkout (trial and paid), idempotency (the same key twice
charges once), plan changes, cancel/resume, billing history and receipts, notifications, the error shape."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import state as billing_state
from backend.billing import subscriptions
from tests.api.conftest import GOOD_CARD, new_key, post, register

DECLINED_CARD = GOOD_CARD | {"number": gateways.DECLINE_CARD}


def payments(engine, user_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT amount, status, kind FROM payment_attempts WHERE user_id = :u"), {"u": user_id}
        ).all()


@pytest.fixture
def returning_member(client, api_engine, plan_ids):
    """A member whose free trial was cancelled and has ended: their next checkout pays at once."""
    member = register(client)
    uid, past = member["user"]["user_id"], datetime.now(UTC) - timedelta(days=30)
    card = billing_state.CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")
    billing_checkout.checkout(api_engine, uid, plan_ids["Basic"], card, "trial", now=past)
    subscriptions.cancel(api_engine, uid, now=past + timedelta(days=1))
    return member


def test_first_checkout_starts_a_trial_and_status_shows_the_entitlement(client, plan_ids):
    member = register(client)
    response = post(client, "/v1/me/subscription", member, {"plan_id": plan_ids["Standard"], "card": GOOD_CARD})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["trial"] is True and body["subscription"]["status"] == "trialing"
    status = client.get("/v1/me/subscription", headers=member["headers"]).json()
    assert status["entitlement"]["allowed"] is True and status["entitlement"]["access_level"] == "premium"
    assert status["card"] == {"brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    history = client.get("/v1/me/subscription/history", headers=member["headers"]).json()["items"]
    assert [e["kind"] for e in history] == ["trial_started"]
    kinds = [n["kind"] for n in client.get("/v1/me/notifications", headers=member["headers"]).json()["items"]]
    assert kinds == ["trial_started"]


def test_the_same_idempotency_key_twice_charges_once(client, api_engine, plan_ids, returning_member):
    uid, key = returning_member["user"]["user_id"], new_key()
    charged_before = gateways.default_gateway().charged()
    body = {"plan_id": plan_ids["Premium"], "card": GOOD_CARD}
    first = post(client, "/v1/me/subscription", returning_member, body, key=key)
    again = post(client, "/v1/me/subscription", returning_member, body, key=key)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["trial"] is False and first.json()["payment_id"] is not None
    assert gateways.default_gateway().charged() - charged_before == Decimal("19.99")
    assert [tuple(p) for p in payments(api_engine, uid)] == [(Decimal("19.99"), "succeeded", "checkout")]
    # the key with another request is refused, and a new key for a second checkout is refused by the backend
    other = post(client, "/v1/me/subscription", returning_member, {"plan_id": plan_ids["Basic"]}, key=key)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    second = post(client, "/v1/me/subscription", returning_member, body)
    assert second.status_code == 409 and second.json()["error"]["code"] == "subscription_exists"
    assert len(payments(api_engine, uid)) == 1


def test_a_declined_card_is_refused_again_on_replay_and_nothing_is_charged(
    client, api_engine, plan_ids, returning_member
):
    key = new_key()
    body = {"plan_id": plan_ids["Basic"], "card": DECLINED_CARD}
    first = post(client, "/v1/me/subscription", returning_member, body, key=key)
    again = post(client, "/v1/me/subscription", returning_member, body, key=key)
    assert first.status_code == again.status_code == 402
    assert first.json() == again.json() and "declined" in first.json()["error"]["message"]
    assert first.json()["error"]["code"] == "card_declined"
    assert payments(api_engine, returning_member["user"]["user_id"]) == []


def test_state_changing_posts_need_an_idempotency_key(client, plan_ids):
    member = register(client)
    response = client.post(
        "/v1/me/subscription", json={"plan_id": plan_ids["Basic"], "card": GOOD_CARD}, headers=member["headers"]
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    assert "Idempotency-Key" in response.json()["error"]["message"]
    assert client.get("/v1/me/subscription", headers=member["headers"]).json()["subscription"] is None


def test_change_plan_cancel_resume_and_billing(client, plan_ids, returning_member):
    post(client, "/v1/me/subscription", returning_member, {"plan_id": plan_ids["Standard"]})  # card on file
    up = post(client, "/v1/me/subscription/change-plan", returning_member, {"plan_id": plan_ids["Premium"]})
    assert up.status_code == 200 and up.json()["result"] == "upgraded"
    assert up.json()["subscription"]["plan_name"] == "Premium"
    down = post(client, "/v1/me/subscription/change-plan", returning_member, {"plan_id": plan_ids["Basic"]})
    assert down.json()["result"] == "downgrade_scheduled"
    assert down.json()["subscription"]["scheduled_plan_name"] == "Basic"
    undo = post(client, "/v1/me/subscription/undo-downgrade", returning_member)
    assert undo.json()["result"] == "downgrade_undone"
    cancel = post(client, "/v1/me/subscription/cancel", returning_member)
    assert cancel.json()["result"] == "cancel_scheduled" and cancel.json()["subscription"]["cancel_at_period_end"]
    assert post(client, "/v1/me/subscription/resume", returning_member).json()["result"] == "cancel_undone"
    same = post(client, "/v1/me/subscription/change-plan", returning_member, {"plan_id": plan_ids["Premium"]})
    assert same.status_code == 409 and "already on Premium" in same.json()["error"]["message"]
    assert same.json()["error"]["code"] == "already_on_plan"
    gone = post(client, "/v1/me/subscription/change-plan", returning_member, {"plan_id": 987654321})
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "plan_not_found")
    bills = client.get("/v1/me/billing", headers=returning_member["headers"]).json()["items"]
    assert [(b["amount"], b["status"]) for b in bills] == [("13.99", "succeeded")]
    receipt = client.get(f"/v1/me/billing/{bills[0]['payment_id']}/receipt", headers=returning_member["headers"])
    assert receipt.status_code == 200 and bills[0]["receipt"] in receipt.text
    assert receipt.headers["content-type"].startswith("text/plain")


def test_another_members_receipt_is_not_found(client, returning_member, plan_ids):
    post(client, "/v1/me/subscription", returning_member, {"plan_id": plan_ids["Basic"]})
    [bill] = client.get("/v1/me/billing", headers=returning_member["headers"]).json()["items"]
    stranger = register(client)
    response = client.get(f"/v1/me/billing/{bill['payment_id']}/receipt", headers=stranger["headers"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "payment_not_found"
    assert client.get("/v1/me/billing", headers=stranger["headers"]).json()["items"] == []


def test_validation_errors_name_the_field(client):
    member = register(client)
    response = post(client, "/v1/me/subscription", member, {"plan_id": "cheap"})
    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "validation_error"
    assert error["field"] == "body.plan_id" and error["message"].startswith("body.plan_id:")
    bad_card = post(client, "/v1/me/subscription", member, {"plan_id": 1, "card": GOOD_CARD | {"exp_month": 13}})
    assert bad_card.json()["error"]["field"] == "body.card.exp_month"


def test_unknown_paths_and_methods_use_the_error_shape(client):
    assert client.get("/v1/nothing-here").json()["error"]["code"] == "not_found"
    response = client.delete("/v1/plans")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_profiles_and_account_details(client):
    member = register(client)
    assert [p["name"] for p in client.get("/v1/me/profiles", headers=member["headers"]).json()["items"]] == ["Ada"]
    key = new_key()
    kids = post(client, "/v1/me/profiles", member, {"name": "Kids", "is_kids": True}, key=key)
    assert kids.status_code == 201 and kids.json()["maturity_cap"] == "older_kids"
    replay = post(client, "/v1/me/profiles", member, {"name": "Kids", "is_kids": True}, key=key)
    assert replay.json() == kids.json()  # replayed, not a duplicate-name refusal
    duplicate = post(client, "/v1/me/profiles", member, {"name": "kids"})
    assert duplicate.status_code == 409 and "already a profile" in duplicate.json()["error"]["message"]
    assert duplicate.json()["error"]["code"] == "profile_name_taken"
    assert client.get("/v1/me/profiles", headers=member["headers"]).json()["total"] == 2
    updated = client.patch(
        "/v1/me", headers=member["headers"], json={"name": "Ada King", "bio": "Engines.", "phone": "+44 20 7946 0958"}
    )
    assert updated.status_code == 200
    assert (updated.json()["display_name"], updated.json()["phone_e164"]) == ("Ada King", "+442079460958")
    bad_phone = client.patch("/v1/me", headers=member["headers"], json={"name": "Ada", "phone": "12"})
    assert bad_phone.status_code == 422 and "phone" in bad_phone.json()["error"]["message"]
    assert bad_phone.json()["error"]["field"] == "phone"


def test_notifications_can_be_marked_read(client, plan_ids):
    member = register(client)
    post(client, "/v1/me/subscription", member, {"plan_id": plan_ids["Basic"], "card": GOOD_CARD})
    assert client.get("/v1/me/notifications", headers=member["headers"]).json()["unread"] == 1
    assert post(client, "/v1/me/notifications/read", member).json() == {"marked": 1}
    assert client.get("/v1/me/notifications", headers=member["headers"]).json()["unread"] == 0


def test_plans_and_catalogue_are_open_to_everyone(client):
    names = [p["name"] for p in client.get("/v1/plans").json()["items"]]
    assert names == ["Basic", "Standard", "Premium", "Standard Annual"]
    page = client.get("/v1/titles", params={"page_size": 2}).json()
    assert page["pages"] > 1 and len(page["items"]) == 2 and page["total"] > 2
