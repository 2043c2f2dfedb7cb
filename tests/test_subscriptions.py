"""Subscription transitions with explicit timestamps against a real database: checkout (trial and
paid), conversion, upgrades, downgrades, cancel/resume, renewals, failed payments and grace,
reactivation, idempotency under double clicks and concurrent tabs, and isolation between members."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.accounts.users import register
from backend.admin import plans as plan_admin
from backend.admin.checks import AdminError
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import job as billing_job
from backend.billing import lifecycle, plans, renewals, statements, subscriptions
from backend.billing.errors import BillingError, PlanNotFound, PlanNotOnSale
from backend.billing.state import CardDetails
from backend.core.errors import NotAuthorised
from backend.notify import notifications
from ops import billing as billing_ops
from tests.conftest import run_at_once

T0 = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
GOOD = CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")
DECLINE = CardDetails(gateways.DECLINE_CARD, 12, 2030, "123")
POOR = CardDetails(gateways.INSUFFICIENT_FUNDS_CARD, 12, 2030, "123")
NETWORK = CardDetails(gateways.NETWORK_ERROR_CARD, 12, 2030, "123")


@pytest.fixture
def gw():
    return gateways.SimulatedGateway()


@pytest.fixture
def plan_ids(engine):
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        return dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())


def member(engine, tag="m"):
    return register(engine, f"{tag}@example.com", "Mia Member", "correct horse 42", now=T0 - timedelta(days=1))


def events(engine, user_id):
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT kind, occurred_at, mrr, reason FROM subscription_events"
                    " WHERE user_id = :u ORDER BY event_id"
                ),
                {"u": user_id},
            )
        ]


def payments(engine, user_id):
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text("SELECT * FROM payment_attempts WHERE user_id = :u ORDER BY payment_id"), {"u": user_id}
            ).mappings()
        ]


def test_first_checkout_starts_a_free_trial_that_converts_at_its_end(engine, plan_ids, gw):
    user = member(engine)
    result = billing_checkout.checkout(engine, user.user_id, plan_ids["Standard"], GOOD, "k1", gateway=gw, now=T0)
    assert result.trial and result.subscription.status == "trialing"
    trial_end = T0 + timedelta(days=lifecycle.trial_days())
    assert result.subscription.trial_end == trial_end
    assert payments(engine, user.user_id) == [] and gw.charged() == 0
    assert subscriptions.entitlement(engine, user.user_id, T0).access_level == "premium"
    assert billing_job.run(engine, trial_end - timedelta(seconds=1), gateway=gw).get("trial_converted") is None
    summary = billing_job.run(engine, trial_end + timedelta(hours=1), gateway=gw)
    assert summary["trial_converted"] == 1
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.status, sub.current_period_start, sub.billing_anchor) == ("active", trial_end, trial_end)
    assert sub.current_period_end == lifecycle.period_end(trial_end, 1, 30)
    [paid] = payments(engine, user.user_id)
    assert (paid["amount"], paid["status"], paid["kind"], paid["attempted_at"]) == (
        Decimal("13.99"),
        "succeeded",
        "conversion",
        trial_end,
    )
    assert events(engine, user.user_id) == [
        ("trial_started", T0, Decimal("0.00"), None),
        ("trial_converted", trial_end, Decimal("13.99"), None),
    ]
    assert gw.charged() == Decimal("13.99")
    # re-running the job is a no-op
    assert billing_job.run(engine, trial_end + timedelta(hours=2), gateway=gw)["accounts"] == 0
    assert len(payments(engine, user.user_id)) == 1


def test_card_is_never_stored_in_full(engine, plan_ids, gw):
    user = member(engine)
    billing_checkout.checkout(engine, user.user_id, plan_ids["Basic"], GOOD, "k1", gateway=gw, now=T0)
    assert subscriptions.card_on_file(engine, user.user_id) == {
        "brand": "Visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
    }
    with engine.connect() as conn:
        dump = str(conn.execute(text("SELECT * FROM payment_methods")).all())
    assert gateways.SUCCESS_CARD not in dump


@pytest.mark.parametrize(
    ("card", "message"),
    [
        (DECLINE, "declined"),
        (NETWORK, "could not reach"),
        (CardDetails("4242 4242 4242 4241", 12, 2030, "123"), "valid card number"),
        (CardDetails(gateways.SUCCESS_CARD, 1, 2024, "123"), "expired"),
        (CardDetails(gateways.SUCCESS_CARD, 12, 2030, "1"), "CVC"),
    ],
)
def test_a_refused_card_changes_nothing(engine, plan_ids, gw, card, message):
    user = member(engine)
    with pytest.raises(BillingError, match=message):
        billing_checkout.checkout(engine, user.user_id, plan_ids["Premium"], card, "k1", gateway=gw, now=T0)
    assert subscriptions.current(engine, user.user_id) is None
    assert subscriptions.card_on_file(engine, user.user_id) is None
    assert events(engine, user.user_id) == [] and gw.charged() == 0


def test_double_click_on_start_trial_creates_one_subscription(engine, plan_ids, gw):
    user = member(engine)
    results = run_at_once(
        *[lambda: billing_checkout.checkout(engine, user.user_id, plan_ids["Basic"], GOOD, "same", gateway=gw, now=T0)]
        * 4
    )
    assert {r.subscription.subscription_id for r in results} == {results[0].subscription.subscription_id}
    assert [e[0] for e in events(engine, user.user_id)] == ["trial_started"]
    with pytest.raises(BillingError, match="already have a subscription"):
        billing_checkout.checkout(engine, user.user_id, plan_ids["Basic"], GOOD, "other", gateway=gw, now=T0)


def ended_member(engine, plan_ids, gw, tag="m"):
    """A member whose trial was cancelled and has ended (so the next checkout is paid)."""
    user = member(engine, tag)
    billing_checkout.checkout(engine, user.user_id, plan_ids["Basic"], GOOD, "trial", gateway=gw, now=T0)
    subscriptions.cancel(engine, user.user_id, now=T0 + timedelta(hours=1))
    assert billing_job.run(engine, T0 + timedelta(days=30), gateway=gw)["trial_expired"] == 1
    return user


def test_paid_checkout_double_click_charges_once_and_is_subscribed_not_reactivated(engine, plan_ids, gw):
    user = ended_member(engine, plan_ids, gw)
    t = T0 + timedelta(days=40)
    results = run_at_once(
        *[lambda: billing_checkout.checkout(engine, user.user_id, plan_ids["Premium"], None, "pay", gateway=gw, now=t)]
        * 3
    )
    assert len({r.payment_id for r in results}) == 1
    assert gw.charged() == Decimal("19.99")
    assert [p["status"] for p in payments(engine, user.user_id)] == ["succeeded"]
    kinds = [e[0] for e in events(engine, user.user_id)]
    assert kinds == ["trial_started", "cancel_scheduled", "trial_expired", "subscribed"]
    text_receipt = statements.receipt(engine, user.user_id, results[0].payment_id)
    assert "USD 19.99" in text_receipt and "Premium" in text_receipt and "4242" in text_receipt


def test_insufficient_funds_at_checkout_is_recorded_and_changes_nothing_else(engine, plan_ids, gw):
    user = ended_member(engine, plan_ids, gw)
    t = T0 + timedelta(days=40)
    for _ in range(2):  # the double click gets the same answer
        with pytest.raises(BillingError, match="insufficient funds"):
            billing_checkout.checkout(engine, user.user_id, plan_ids["Premium"], POOR, "pay", gateway=gw, now=t)
    [failed] = payments(engine, user.user_id)
    assert (failed["status"], failed["failure_reason"], failed["subscription_id"]) == (
        "failed",
        "insufficient_funds",
        None,
    )
    assert subscriptions.current(engine, user.user_id).status == "expired"
    assert subscriptions.card_on_file(engine, user.user_id)["last4"] == "4242"  # the old card is kept
    assert gw.charged() == 0
    assert [h["status"] for h in statements.billing_history(engine, user.user_id)] == ["failed"]


def paying_member(engine, plan_ids, gw, plan="Standard", tag="m", card=GOOD):
    """Trial started at T0, converted at T0 + trial: paying from there."""
    user = member(engine, tag)
    billing_checkout.checkout(engine, user.user_id, plan_ids[plan], card, "k", gateway=gw, now=T0)
    billing_job.run(engine, T0 + timedelta(days=lifecycle.trial_days()), gateway=gw)
    assert subscriptions.current(engine, user.user_id).status == "active"
    return user


START = T0 + timedelta(days=lifecycle.trial_days())  # first paid day


def test_upgrade_takes_effect_at_once_and_the_new_price_is_charged_at_renewal(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw, "Basic")
    t = START + timedelta(days=10)
    assert subscriptions.change_plan(engine, user.user_id, plan_ids["Premium"], now=t) == "upgraded"
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.plan_name, sub.price, sub.current_period_end) == (
        "Premium",
        Decimal("19.99"),
        lifecycle.period_end(START, 1, 30),
    )
    assert subscriptions.entitlement(engine, user.user_id, t).max_devices_allowed == 4
    assert len(payments(engine, user.user_id)) == 1  # nothing charged now
    billing_job.run(engine, sub.current_period_end, gateway=gw)
    assert [p["amount"] for p in payments(engine, user.user_id)] == [Decimal("7.99"), Decimal("19.99")]
    assert [e[:3] for e in events(engine, user.user_id)][-2:] == [
        ("upgraded", t, Decimal("19.99")),
        ("renewed", sub.current_period_end, Decimal("19.99")),
    ]


def test_downgrade_waits_for_renewal_and_can_be_undone(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw, "Premium")
    t = START + timedelta(days=3)
    assert subscriptions.change_plan(engine, user.user_id, plan_ids["Basic"], now=t) == "downgrade_scheduled"
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.plan_name, sub.scheduled_plan_name, sub.mrr) == ("Premium", "Basic", Decimal("19.99"))
    assert subscriptions.undo_downgrade(engine, user.user_id, now=t + timedelta(hours=1)) == "downgrade_undone"
    assert subscriptions.current(engine, user.user_id).scheduled_plan_id is None
    subscriptions.change_plan(engine, user.user_id, plan_ids["Basic"], now=t + timedelta(hours=2))
    renewal = sub.current_period_end
    billing_job.run(engine, renewal, gateway=gw)
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.plan_name, sub.price, sub.scheduled_plan_id) == ("Basic", Decimal("7.99"), None)
    assert payments(engine, user.user_id)[-1]["amount"] == Decimal("7.99")
    assert [e[0] for e in events(engine, user.user_id)][-3:] == ["downgrade_scheduled", "downgraded", "renewed"]
    assert subscriptions.entitlement(engine, user.user_id, renewal).access_level == "basic"


def test_cancel_keeps_access_until_period_end_then_churns_voluntarily(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw)
    end = lifecycle.period_end(START, 1, 30)
    subscriptions.cancel(engine, user.user_id, now=START + timedelta(days=2))
    subscriptions.resume(engine, user.user_id, now=START + timedelta(days=3))
    subscriptions.cancel(engine, user.user_id, now=START + timedelta(days=4))
    assert subscriptions.entitlement(engine, user.user_id, end - timedelta(seconds=1)).allowed
    assert not subscriptions.entitlement(engine, user.user_id, end).allowed
    billing_job.run(engine, end + timedelta(days=1), gateway=gw)
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.status, sub.ended_at, sub.end_reason) == ("canceled", end, "voluntary")
    assert events(engine, user.user_id)[-1] == ("churned", end, Decimal("0.00"), "voluntary")
    assert len(payments(engine, user.user_id)) == 1
    # resubscribing later is a reactivation, paid at once
    later = end + timedelta(days=20)
    billing_checkout.checkout(engine, user.user_id, plan_ids["Standard"], None, "again", gateway=gw, now=later)
    assert events(engine, user.user_id)[-1][:3] == ("reactivated", later, Decimal("13.99"))
    assert subscriptions.current(engine, user.user_id).billing_anchor == later


def test_failed_renewal_is_past_due_with_retries_and_recovers(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw)
    renewal = lifecycle.period_end(START, 1, 30)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE payment_methods SET gateway_token = :t WHERE user_id = :u"),
            {"t": gw.token_for("insufficient_funds"), "u": user.user_id},
        )
    billing_job.run(engine, renewal + timedelta(hours=1), gateway=gw)
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.status, sub.grace_until) == ("past_due", renewal + timedelta(days=lifecycle.GRACE_DAYS))
    assert sub.mrr == Decimal("13.99")  # still counts during grace
    assert subscriptions.entitlement(engine, user.user_id, renewal + timedelta(days=6)).allowed
    assert notifications.recent(engine, user.user_id)[0]["kind"] == "payment_failed"
    billing_job.run(engine, renewal + timedelta(days=3, hours=1), gateway=gw)  # retries on days 1 and 3
    assert [p["kind"] for p in payments(engine, user.user_id)] == ["conversion", "renewal", "retry", "retry"]
    with pytest.raises(BillingError, match="insufficient funds"):
        subscriptions.retry_payment(engine, user.user_id, "click", gateway=gw, now=renewal + timedelta(days=4))
    assert (
        subscriptions.update_card(engine, user.user_id, GOOD, gateway=gw, now=renewal + timedelta(days=4))
        == "recovered"
    )
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.status, sub.grace_until) == ("active", None)
    assert events(engine, user.user_id)[-1][:3] == ("payment_recovered", renewal + timedelta(days=4), Decimal("13.99"))
    assert billing_job.run(engine, renewal + timedelta(days=8), gateway=gw)["accounts"] == 0  # no more retries
    paid = [p for p in payments(engine, user.user_id) if p["status"] == "succeeded"]
    assert [(p["period_start"], p["period_end"]) for p in paid] == [
        (START, renewal),
        (renewal, lifecycle.period_end(START, 2, 30)),
    ]


def test_grace_ends_unpaid_with_involuntary_churn(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw)
    renewal = lifecycle.period_end(START, 1, 30)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE payment_methods SET gateway_token = :t WHERE user_id = :u"),
            {"t": gw.token_for("declined"), "u": user.user_id},
        )
    summary = billing_job.run(engine, renewal + timedelta(days=30), gateway=gw)
    assert summary["renewal_failed"] == 1 and summary["retry_failed"] == 3
    end = renewal + timedelta(days=lifecycle.GRACE_DAYS)
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.status, sub.ended_at, sub.end_reason) == ("expired", end, "involuntary")
    assert events(engine, user.user_id)[-1] == ("churned", end, Decimal("0.00"), "involuntary")
    assert [p["attempted_at"] - renewal for p in payments(engine, user.user_id)][1:] == [
        timedelta(0),
        timedelta(days=1),
        timedelta(days=3),
        timedelta(days=5),
    ]
    assert not subscriptions.entitlement(engine, user.user_id, end).allowed
    assert "subscription_ended" in [n["kind"] for n in notifications.recent(engine, user.user_id)]


def test_trial_whose_first_charge_fails_expires(engine, plan_ids, gw):
    user = member(engine)
    billing_checkout.checkout(engine, user.user_id, plan_ids["Standard"], POOR, "k", gateway=gw, now=T0)
    billing_job.run(engine, T0 + timedelta(days=30), gateway=gw)
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.status, sub.end_reason) == ("expired", "trial_not_converted")
    assert [e[0] for e in events(engine, user.user_id)] == ["trial_started", "trial_expired"]
    assert [p["status"] for p in payments(engine, user.user_id)] == ["failed"]


def test_annual_plan_renews_yearly_and_a_monthly_member_moving_to_annual_is_re_anchored(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw, "Basic")
    t = START + timedelta(days=5)
    assert subscriptions.change_plan(engine, user.user_id, plan_ids["Standard Annual"], now=t) == "upgraded"
    assert events(engine, user.user_id)[-1][2] == Decimal("11.99")
    first_renewal = lifecycle.period_end(START, 1, 30)
    billing_job.run(engine, first_renewal + timedelta(days=400), gateway=gw)
    paid = [(p["amount"], p["period_start"], p["period_end"]) for p in payments(engine, user.user_id)]
    assert paid[1] == (Decimal("143.88"), first_renewal, lifecycle.period_end(first_renewal, 1, 365))
    assert paid[2][1:] == (
        lifecycle.period_end(first_renewal, 1, 365),
        lifecycle.period_end(first_renewal, 2, 365),
    )


def test_anchor_on_the_31st_renews_at_month_ends(engine, plan_ids, gw):
    assert renewals.next_period(datetime(2025, 1, 31, tzinfo=UTC), datetime(2025, 2, 28, tzinfo=UTC), 30) == (
        datetime(2025, 1, 31, tzinfo=UTC),
        datetime(2025, 3, 31, tzinfo=UTC),
    )


def test_admin_price_change_applies_from_the_next_period_only(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw)
    admin = register(engine, "boss@example.com", "Ada Admin", "correct horse 42", role="admin", now=T0)
    standard = next(p for p in plan_admin.list_plans(engine, acting_user_id=admin.user_id) if p["name"] == "Standard")
    edit = plan_admin.PlanInput(**{field: standard[field] for field in plan_admin.INPUT_FIELDS})

    def set_price(acting_user_id, price):
        plan_admin.update_plan(engine, standard["plan_id"], replace(edit, price=price), acting_user_id=acting_user_id)

    with pytest.raises(NotAuthorised):
        set_price(user.user_id, "1.00")
    with pytest.raises(AdminError, match="above 0"):
        set_price(admin.user_id, "-3")
    set_price(admin.user_id, "15.49")
    assert {p.name: p.price for p in plans.active_plans(engine)}["Standard"] == Decimal("15.49")
    renewal = lifecycle.period_end(START, 1, 30)
    assert subscriptions.current(engine, user.user_id).price == Decimal("13.99")
    billing_job.run(engine, renewal, gateway=gw)
    assert [p["amount"] for p in payments(engine, user.user_id)] == [Decimal("13.99"), Decimal("15.49")]
    assert [e[:3] for e in events(engine, user.user_id)][-2:] == [
        ("price_changed", renewal, Decimal("15.49")),
        ("renewed", renewal, Decimal("15.49")),
    ]


def test_cancel_and_upgrade_from_two_tabs_at_once_end_consistent(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw, "Basic")
    t = START + timedelta(days=1)
    run_at_once(
        lambda: subscriptions.cancel(engine, user.user_id, now=t),
        lambda: subscriptions.change_plan(engine, user.user_id, plan_ids["Premium"], now=t),
    )
    sub = subscriptions.current(engine, user.user_id)
    assert (sub.plan_name, sub.cancel_at_period_end) == ("Premium", True)
    assert events(engine, user.user_id)[-1][2] == Decimal("19.99")
    assert sorted(e[0] for e in events(engine, user.user_id)[-2:]) == ["cancel_scheduled", "upgraded"]


def test_bad_requests_are_refused_with_a_message(engine, plan_ids, gw):
    user = member(engine)
    with pytest.raises(BillingError, match="no current subscription"):
        subscriptions.cancel(engine, user.user_id, now=T0)
    with pytest.raises(PlanNotFound, match="There is no such plan"):
        billing_checkout.checkout(engine, user.user_id, 999999, GOOD, "k", gateway=gw, now=T0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE plans SET is_active = false WHERE plan_id = :p"), {"p": plan_ids["Premium"]})
    with pytest.raises(PlanNotOnSale, match="not on sale"):
        billing_checkout.checkout(engine, user.user_id, plan_ids["Premium"], GOOD, "k", gateway=gw, now=T0)
    billing_checkout.checkout(engine, user.user_id, plan_ids["Basic"], GOOD, "k", gateway=gw, now=T0)
    with pytest.raises(BillingError, match="already on Basic"):
        subscriptions.change_plan(engine, user.user_id, plan_ids["Basic"], now=T0)
    assert [e[0] for e in events(engine, user.user_id)] == ["trial_started"]


def test_members_never_see_each_others_billing(engine, plan_ids, gw):
    a = paying_member(engine, plan_ids, gw, tag="a")
    b = member(engine, "b")
    [payment] = statements.billing_history(engine, a.user_id)
    assert statements.receipt(engine, b.user_id, payment["payment_id"]) is None
    assert statements.billing_history(engine, b.user_id) == []
    assert not subscriptions.entitlement(engine, b.user_id, START).allowed


def test_concurrent_billing_runs_charge_each_period_once(engine, plan_ids, gw):
    users = [paying_member(engine, plan_ids, gw, tag=f"u{i}") for i in range(5)]
    until = START + timedelta(days=100)
    run_at_once(*[lambda: billing_job.run(engine, until, gateway=gw, use_job_lock=False)] * 4)
    for user in users:
        paid = [p for p in payments(engine, user.user_id) if p["status"] == "succeeded"]
        assert len(paid) == 4 and len({p["period_start"] for p in paid}) == 4
    assert billing_job.run(engine, until, gateway=gw)["accounts"] == 0


def test_reminders_and_new_titles_are_sent_once(engine, plan_ids, gw):
    user = paying_member(engine, plan_ids, gw)
    renewal = lifecycle.period_end(START, 1, 30)
    added = [("s1", "Old One", datetime(2020, 1, 1).date()), ("s2", "Fresh One", (renewal - timedelta(days=4)).date())]
    with engine.begin() as conn:
        genre = conn.execute(text("INSERT INTO genres (name) VALUES ('Dramas') RETURNING genre_id")).scalar()
        old, new = (
            conn.execute(
                text("""
            INSERT INTO titles (show_id, kind, title, audience, access_level, date_added)
            VALUES (:s, 'movie', :t, 'adults', 'basic', :d) RETURNING title_id"""),
                {"s": s, "t": t, "d": d},
            ).scalar()
            for s, t, d in added
        )
        conn.execute(text("INSERT INTO title_genres VALUES (:a, :g, 1), (:b, :g, 1)"), {"a": old, "b": new, "g": genre})
        profile = conn.execute(text("SELECT profile_id FROM profiles WHERE user_id = :u"), {"u": user.user_id}).scalar()
        conn.execute(
            text("INSERT INTO list_entries VALUES (:u, :p, :t, :now)"),
            {"u": user.user_id, "p": profile, "t": old, "now": START},
        )
    for _ in range(2):
        billing_job.run(engine, renewal - timedelta(days=2), gateway=gw)
    kinds = [n["kind"] for n in notifications.recent(engine, user.user_id)]
    assert sorted(kinds) == ["new_titles", "renewal_reminder", "trial_started"]
    note = next(n for n in notifications.recent(engine, user.user_id) if n["kind"] == "new_titles")
    assert "Fresh One" in note["body"] and "Old One" not in note["body"]
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM email_outbox WHERE user_id = :u"), {"u": user.user_id}).scalar()
            == 3
        )
    assert notifications.unread_count(engine, user.user_id) == 3
    notifications.mark_all_read(engine, user.user_id, renewal)
    assert notifications.unread_count(engine, user.user_id) == 0


def test_billing_job_cli_records_a_run(engine, plan_ids, gw, capsys):
    paying_member(engine, plan_ids, gw)
    assert billing_ops.main(["run", "--until", "2025-12-31", "--json"]) == 0
    assert '"renewed"' in capsys.readouterr().out
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT status FROM job_runs WHERE job = 'billing' ORDER BY run_id DESC")).scalar()
            == "succeeded"
        )
