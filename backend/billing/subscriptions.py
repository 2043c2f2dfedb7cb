"""A member's subscription after checkout: plan changes, cancel and resume, paying a failed renewal, the card
on file, and what the member may watch (the entitlement).

Rules: ../shared/docs/metrics.md and backend/billing/lifecycle.py. Each transition is one transaction that
first locks the account's row (`FOR NO KEY UPDATE`), so two tabs acting at once are serialised and
the second one sees the first one's result; every transition appends a `subscription_events` row
with the member's MRR after it. Charges go through a gateway (backend/billing/gateway.py) with an
idempotency key: a double click or a retried transaction charges once. Every function takes the
current time as `now` so histories can be replayed in tests. Messages of `BillingError` are safe
to show.

State machine (statuses of `subscriptions`; "ended" = canceled or expired):

    (none) --checkout, first time--> trialing --trial end, charge ok--> active
    (none|ended) --checkout, paid at once--> active      trialing --cancelled / charge fails--> expired
    active --renewal ok / upgrade / downgrade (at renewal)--> active
    active --renewal fails--> past_due --retry ok--> active
    past_due --grace ends unpaid--> expired (involuntary churn)
    active --cancel, then period end--> canceled (voluntary churn)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, text

import database
from backend.billing import gateway as gateways
from backend.billing import lifecycle
from backend.billing.charge_keys import card_attempt, charge_key, manual_attempt
from backend.billing.charges import attempt_by_key, check_idempotency_key, recover, save_card, saved_card, verify_card
from backend.billing.errors import AlreadyOnPlan, NoSubscription, PaymentPastDue, payment_refused
from backend.billing.renewals import settle
from backend.billing.state import (
    SUBSCRIPTION_COLUMNS,
    CardDetails,
    Entitlement,
    Subscription,
    add_event,
    lock_account,
    plan_row,
    plan_terms,
    update_subscription,
)
from backend.core.clock import clock
from backend.notify import notifications


def _transition(engine: Engine, user_id: int, step, gateway: gateways.Gateway | None, now: datetime):
    gateway = gateway or gateways.default_gateway()

    def work(conn: Connection):
        lock_account(conn, user_id)
        sub = settle(conn, gateway, user_id, now)
        if sub is None:
            raise NoSubscription("You have no current subscription.")
        return step(conn, sub)

    return database.transaction(engine, work)


def change_plan(
    engine: Engine, user_id: int, plan_id: int, *, gateway: gateways.Gateway | None = None, now: datetime | None = None
) -> str:
    """Upgrade at once (the new price is charged from the next billing date) or schedule a downgrade for
    the next billing date. Returns 'upgraded', 'downgrade_scheduled' or 'downgrade_undone'. During a
    trial the plan is switched at once (nothing is charged yet)."""
    now = clock(now)

    def step(conn: Connection, sub: Subscription) -> str:
        plan = plan_row(conn, plan_id)
        if sub.status == "past_due":
            raise PaymentPastDue("Your last payment failed: retry it or update your card before changing plan.")
        if plan_id == sub.plan_id:
            if sub.scheduled_plan_id is None:
                raise AlreadyOnPlan(f"You are already on {plan['name']}.")
            return _undo_downgrade(conn, sub, now)
        new_mrr = lifecycle.monthly_recurring(plan["price"], plan["validity_days"])
        old_mrr = lifecycle.monthly_recurring(sub.price, sub.validity_days)
        if sub.status == "trialing" or new_mrr > old_mrr:  # a trial switches either way; nothing is charged yet
            kind = "upgraded" if new_mrr > old_mrr else "downgraded"
            update_subscription(conn, sub, now, plan_id=plan_id, scheduled_plan_id=None, **plan_terms(plan))
            add_event(
                conn,
                user_id,
                sub.subscription_id,
                kind,
                now,
                plan_id,
                Decimal("0.00") if sub.status == "trialing" else new_mrr,
            )
            return kind
        update_subscription(conn, sub, now, scheduled_plan_id=plan_id)
        add_event(conn, user_id, sub.subscription_id, "downgrade_scheduled", now, sub.plan_id, sub.mrr)
        return "downgrade_scheduled"

    return _transition(engine, user_id, step, gateway, now)


def undo_downgrade(
    engine: Engine, user_id: int, *, gateway: gateways.Gateway | None = None, now: datetime | None = None
) -> str:
    now = clock(now)

    def step(conn: Connection, sub: Subscription) -> str:
        if sub.scheduled_plan_id is None:
            return "unchanged"  # already undone (a second tab, a double click)
        return _undo_downgrade(conn, sub, now)

    return _transition(engine, user_id, step, gateway, now)


def _undo_downgrade(conn: Connection, sub: Subscription, now: datetime) -> str:
    update_subscription(conn, sub, now, scheduled_plan_id=None)
    add_event(conn, sub.user_id, sub.subscription_id, "downgrade_undone", now, sub.plan_id, sub.mrr)
    return "downgrade_undone"


def cancel(
    engine: Engine, user_id: int, *, gateway: gateways.Gateway | None = None, now: datetime | None = None
) -> str:
    """Cancel at the end of the paid period (or of the trial): access continues until then."""
    now = clock(now)

    def step(conn: Connection, sub: Subscription) -> str:
        if sub.status == "past_due":
            raise PaymentPastDue(
                "Your last payment failed: the subscription ends by itself at the end of the grace "
                "period unless you retry or update your card."
            )
        if sub.cancel_at_period_end:
            return "unchanged"
        update_subscription(conn, sub, now, cancel_at_period_end=True, canceled_at=now)
        add_event(conn, user_id, sub.subscription_id, "cancel_scheduled", now, sub.plan_id, sub.mrr)
        return "cancel_scheduled"

    return _transition(engine, user_id, step, gateway, now)


def resume(
    engine: Engine, user_id: int, *, gateway: gateways.Gateway | None = None, now: datetime | None = None
) -> str:
    """Undo a cancellation before the period ends."""
    now = clock(now)

    def step(conn: Connection, sub: Subscription) -> str:
        if not sub.cancel_at_period_end:
            return "unchanged"
        update_subscription(conn, sub, now, cancel_at_period_end=False, canceled_at=None)
        add_event(conn, user_id, sub.subscription_id, "cancel_undone", now, sub.plan_id, sub.mrr)
        return "cancel_undone"

    return _transition(engine, user_id, step, gateway, now)


def retry_payment(
    engine: Engine,
    user_id: int,
    idempotency_key: str,
    *,
    gateway: gateways.Gateway | None = None,
    now: datetime | None = None,
) -> str:
    """ "Retry now" on the past-due banner. Returns 'recovered' or 'not_due'; BillingError when it fails."""
    now, gateway = clock(now), gateway or gateways.default_gateway()
    attempt = manual_attempt(check_idempotency_key(idempotency_key))

    def step(conn: Connection, sub: Subscription):
        key = charge_key(sub.subscription_id, sub.current_period_start, attempt)
        previous = attempt_by_key(conn, user_id, key)
        if previous is not None:
            return "recovered" if previous["status"] == "succeeded" else ("failed", previous["failure_reason"])
        if sub.status != "past_due":
            return "not_due"
        if recover(conn, gateway, sub, key, now):
            return "recovered"
        return ("failed", attempt_by_key(conn, user_id, key)["failure_reason"])

    outcome = _transition(engine, user_id, step, gateway, now)
    if isinstance(outcome, tuple):
        raise payment_refused(outcome[1], gateways.ChargeResult(False, failure_code=outcome[1]).message)
    notifications.deliver(engine, [user_id])
    return outcome


def update_card(
    engine: Engine,
    user_id: int,
    card: CardDetails,
    *,
    gateway: gateways.Gateway | None = None,
    now: datetime | None = None,
) -> str:
    """Replace the card on file. What fell due before `now` is settled first, with the card that was on
    file then (a renewal due last week was attempted, and failed or not, last week); then the new card is
    saved and, when the subscription is past due, the unpaid period is charged to it at once. Returns
    'saved', 'recovered', or raises BillingError (the card is then kept)."""
    now, gateway = clock(now), gateway or gateways.default_gateway()
    verified = verify_card(gateway, card, now)

    def work(conn: Connection):
        lock_account(conn, user_id)
        sub = settle(conn, gateway, user_id, now)
        save_card(conn, user_id, verified, now)
        if sub is None or sub.status != "past_due":
            return "saved"
        key = charge_key(sub.subscription_id, sub.current_period_start, card_attempt(verified.token))
        if recover(conn, gateway, sub, key, now):
            return "recovered"
        return ("failed", attempt_by_key(conn, user_id, key)["failure_reason"])

    outcome = database.transaction(engine, work)
    if isinstance(outcome, tuple):
        raise payment_refused(
            outcome[1],
            gateways.ChargeResult(False, failure_code=outcome[1]).message,
            "Your card was saved, but the payment failed: ",
        )
    notifications.deliver(engine, [user_id])
    return outcome


def current(engine: Engine, user_id: int) -> Subscription | None:
    """The live subscription, else the most recent ended one; None if the member never subscribed."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(f"""
            SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s JOIN plans p ON p.plan_id = s.plan_id
            WHERE s.user_id = :id
            ORDER BY (s.status IN ('trialing', 'active', 'past_due')) DESC, s.started_at DESC, s.subscription_id DESC
            LIMIT 1"""),
                {"id": user_id},
            )
            .mappings()
            .first()
        )
    return Subscription(**row) if row else None


def entitlement(engine: Engine, user_id: int, now: datetime | None = None) -> Entitlement:
    """What the member may watch at `now` (the watching pages ask this before playing)."""
    now = clock(now)
    sub = current(engine, user_id)
    if sub is None:
        return Entitlement(False, "Choose a plan to start watching.")
    if sub.status in ("trialing", "active"):
        # Past the end without a cancellation, the billing job is about to convert or renew: access goes on.
        until = sub.trial_end if sub.status == "trialing" else sub.current_period_end
        assert until is not None  # a trial always has its end (checkout sets it)
        allowed = now < until or not sub.cancel_at_period_end
    elif sub.status == "past_due":
        until = sub.grace_until
        allowed = until is not None and now < until
    else:
        allowed = False
    if not allowed:
        return Entitlement(False, "Your subscription has ended. Resubscribe to keep watching.")
    return Entitlement(
        True, "", sub.status, sub.plan_name, sub.access_level, sub.max_devices_allowed, sub.resolution, until
    )


def card_on_file(engine: Engine, user_id: int):
    with engine.connect() as conn:
        row = saved_card(conn, user_id)
    return None if row is None else {k: row[k] for k in ("brand", "last4", "exp_month", "exp_year")}
