"""The plans checkout and the subscription page under AppTest, with a signed-in member (faked the way
the authenticator sets the session state; the app checks it against the database on every run)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from backend.accounts import users
from backend.billing import checkout as billing_checkout
from backend.billing import gateway, lifecycle, plans, subscriptions
from backend.billing import job as billing_job
from backend.billing import state as billing_state
from tests.conftest import app_as

PASSWORD = "correct horse 42"
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def plan_ids(engine):
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        return dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())


@pytest.fixture
def member(engine, plan_ids):
    return users.register(
        engine, "member@example.com", "Mia Member", PASSWORD, now=datetime.now(UTC) - timedelta(minutes=1)
    )


def fill_card(at, card: str) -> AppTest:
    number = next(t for t in at.text_input if t.label == "Card number")
    cvc = next(t for t in at.text_input if t.label == "CVC")
    number.input(card)
    cvc.input("123")
    return at


def test_trial_checkout_shows_the_entitlement_on_the_subscription_page(engine, member, plan_ids):
    at = app_as(member).switch_page("pages/plans.py").run()
    assert [b.label for b in at.button][:4] == ["Choose"] * 4
    at.button(key=f"choose_{plan_ids['Standard']}").click().run()
    assert any("days are free" in m.value for m in at.markdown)
    fill_card(at, "4242 4242 4242 4242")
    at.button[-1].click().run()
    assert not at.exception
    assert at.title[0].value == "Subscription"
    assert "free trial of Standard has started" in at.success[0].value
    assert "every title, the newest included" in at.success[1].value
    sub = subscriptions.current(engine, member.user_id)
    assert (sub.status, sub.plan_name) == ("trialing", "Standard")


def test_declined_card_shows_a_message_and_changes_nothing(engine, member, plan_ids):
    at = app_as(member).switch_page("pages/plans.py").run()
    at.button(key=f"choose_{plan_ids['Premium']}").click().run()
    fill_card(at, "4000 0000 0000 0002")
    at.button[-1].click().run()
    assert "declined" in at.error[0].value and "Nothing was charged" in at.error[0].value
    assert subscriptions.current(engine, member.user_id) is None
    assert subscriptions.card_on_file(engine, member.user_id) is None


def paying(engine, member, plan_ids, plan="Basic"):
    start = datetime.now(UTC) - timedelta(days=lifecycle.trial_days() + 2)
    billing_checkout.checkout(
        engine,
        member.user_id,
        plan_ids[plan],
        billing_state.CardDetails(gateway.SUCCESS_CARD, 12, 2035, "123"),
        "k",
        now=start,
    )
    billing_job.settle_account(engine, gateway.default_gateway(), member.user_id, datetime.now(UTC))
    assert subscriptions.current(engine, member.user_id).status == "active"


def test_subscription_page_changes_plan_cancels_and_resumes(engine, member, plan_ids):
    paying(engine, member, plan_ids, "Premium")
    at = app_as(member).switch_page("pages/subscription.py").run()
    assert any("renews on" in m.value for m in at.markdown)
    new_plan = next(s for s in at.selectbox if s.label == "New plan")
    new_plan.set_value(next(p for p in plans.active_plans(engine) if p.name == "Basic")).run()
    next(b for b in at.button if b.label == "Change plan").click().run()
    assert "You move to Basic on your next billing date" in at.success[0].value
    assert any("Changes to Basic" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Keep Premium").click().run()
    assert "You stay on Premium" in at.success[0].value
    assert subscriptions.current(engine, member.user_id).scheduled_plan_id is None
    next(b for b in at.button if b.label == "Cancel subscription").click().run()
    assert "Cancelled. You can watch until" in at.success[0].value
    assert subscriptions.current(engine, member.user_id).cancel_at_period_end
    next(b for b in at.button if b.label == "Resume subscription").click().run()
    assert not subscriptions.current(engine, member.user_id).cancel_at_period_end
    # billing history and a receipt
    table = at.dataframe[0].value
    assert list(table["Status"]) == ["Paid"] and list(table["Amount"]) == ["USD 19.99"]
    assert "Amount: USD 19.99" in at.code[0].value


def test_past_due_banner_retry_and_update_card(engine, member, plan_ids):
    paying(engine, member, plan_ids)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE payment_methods SET gateway_token = :t WHERE user_id = :u"),
            {"t": gateway.SimulatedGateway.token_for("insufficient_funds"), "u": member.user_id},
        )
        conn.execute(
            text("UPDATE subscriptions SET current_period_end = :t WHERE user_id = :u"),
            {"t": datetime.now(UTC) - timedelta(hours=1), "u": member.user_id},
        )
    billing_job.run(engine, gateway=gateway.default_gateway())
    at = app_as(member).switch_page("pages/subscription.py").run()
    assert "Your payment of USD 7.99 failed" in at.error[0].value
    next(b for b in at.button if b.label == "Retry now").click().run()
    assert "insufficient funds" in at.error[-1].value
    assert subscriptions.current(engine, member.user_id).status == "past_due"
    fill_card(at, gateway.SUCCESS_CARD)
    next(b for b in at.button if b.label == "Save card and pay").click().run()
    assert not at.exception
    assert "payment received" in at.success[0].value
    sub = subscriptions.current(engine, member.user_id)
    assert (sub.status, sub.mrr) == ("active", Decimal("7.99"))
    assert any("Payment received" in m.value for m in at.markdown)  # the notification centre
