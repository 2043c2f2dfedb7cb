"""The scheduled steps of a subscription: trial conversion, renewal, payment retries and the ends of grace
and of cancelled periods.

`step` carries out the next step if it is due, at its own scheduled instant; `settle` runs every due step
of an account whose row is locked. The billing job (backend.billing.job) and the member's own actions
(backend.billing.subscriptions, which settle first) both go through here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from backend.billing import gateway as gateways
from backend.billing import lifecycle
from backend.billing.charge_keys import charge_key, retry_attempt
from backend.billing.charges import attempt_by_key, charge, recover, saved_card
from backend.billing.state import (
    Subscription,
    add_event,
    live_subscription,
    plan_row,
    plan_terms,
    terms_of,
    update_subscription,
)
from backend.catalogue.rules import level_summary
from backend.notify import notifications

ZERO = Decimal("0.00")


def next_period(anchor: datetime | None, start: datetime, validity_days: int) -> tuple[datetime, datetime]:
    """(billing anchor, end) of the period starting at `start`. Periods are anchored (calendar months, years,
    or `validity_days` days); when the period changed (a monthly member moved to an annual plan, an admin
    changed the plan's validity) the anchor moves to `start`."""
    if anchor is not None:
        n = 1
        while (end := lifecycle.period_end(anchor, n, validity_days)) < start:
            n += 1
        if end == start:
            return anchor, lifecycle.period_end(anchor, n + 1, validity_days)
    return start, lifecycle.period_end(start, 1, validity_days)


def retry_times(sub: Subscription) -> list[datetime]:
    return [sub.current_period_start + timedelta(days=d) for d in lifecycle.RETRY_AFTER_DAYS]


def _next_due(conn: Connection, sub: Subscription) -> tuple[datetime, str] | None:
    """(when, what) of the subscription's next scheduled step."""
    if sub.status == "trialing":
        assert sub.trial_end is not None  # a trial always has its end (checkout sets it)
        return sub.trial_end, "trial_end"
    if sub.status == "active":
        return sub.current_period_end, "period_end"
    assert sub.grace_until is not None  # past_due always has a grace period (set with the status)
    for number, when in enumerate(retry_times(sub), start=1):
        if (
            when < sub.grace_until
            and attempt_by_key(
                conn, sub.user_id, charge_key(sub.subscription_id, sub.current_period_start, retry_attempt(number))
            )
            is None
        ):
            return when, retry_attempt(number)
    return sub.grace_until, "grace_end"


def _end(conn: Connection, sub: Subscription, at: datetime, status: str, reason: str, kind: str, message: str):
    update_subscription(conn, sub, at, status=status, ended_at=at, end_reason=reason, grace_until=None)
    add_event(conn, sub.user_id, sub.subscription_id, kind, at, sub.plan_id, ZERO, reason)
    notifications.notify(conn, sub.user_id, "subscription_ended", "Your subscription has ended", message, at)


def step(conn: Connection, gateway: gateways.Gateway, sub: Subscription, now: datetime) -> str | None:
    """Carry out the subscription's next step if it is due at `now`; returns what was done."""
    due = _next_due(conn, sub)
    if due is None or due[0] > now:
        return None
    at, what = due
    if what == "trial_end":
        if sub.cancel_at_period_end:
            _end(
                conn,
                sub,
                at,
                "expired",
                "trial_not_converted",
                "trial_expired",
                "Your free trial has ended. Choose a plan whenever you want to watch again.",
            )
            return "trial_expired"
        return _convert_trial(conn, gateway, sub, at)
    if what == "period_end":
        if sub.cancel_at_period_end:
            _end(
                conn,
                sub,
                at,
                "canceled",
                "voluntary",
                "churned",
                f"Your {sub.plan_name} subscription ended on {at:%d %b %Y}, as you asked. "
                "Resubscribe any time to watch again.",
            )
            return "churned_voluntary"
        return _renew(conn, gateway, sub, at)
    if what == "grace_end":
        _end(
            conn,
            sub,
            at,
            "expired",
            "involuntary",
            "churned",
            "We could not take your payment during the grace period, so your subscription has ended. "
            "Resubscribe any time to watch again.",
        )
        return "churned_involuntary"
    return (
        "payment_recovered"
        if recover(conn, gateway, sub, charge_key(sub.subscription_id, sub.current_period_start, what), at)
        else "retry_failed"
    )


def _convert_trial(conn: Connection, gateway: gateways.Gateway, sub: Subscription, at: datetime) -> str:
    plan = plan_row(conn, sub.plan_id, on_sale=False)
    price, validity = plan["price"], plan["validity_days"]
    end = lifecycle.period_end(at, 1, validity)
    result = charge(
        conn,
        gateway,
        user_id=sub.user_id,
        subscription_id=sub.subscription_id,
        plan_id=sub.plan_id,
        amount=price,
        currency=plan["currency"],
        key=charge_key(sub.subscription_id, at, "conversion"),
        kind="conversion",
        period_start=at,
        period_end=end,
        at=at,
        card=saved_card(conn, sub.user_id),
    )
    if not result.succeeded:
        # Choice: a trial whose first charge fails ends at once (no grace: nothing was ever paid).
        _end(
            conn,
            sub,
            at,
            "expired",
            "trial_not_converted",
            "trial_expired",
            f"Your free trial has ended and the first payment failed ({result.message}) "
            "Choose a plan again with another card to keep watching.",
        )
        return "trial_expired"
    update_subscription(
        conn,
        sub,
        at,
        status="active",
        **plan_terms(plan),
        current_period_start=at,
        current_period_end=end,
        billing_anchor=at,
    )
    add_event(
        conn,
        sub.user_id,
        sub.subscription_id,
        "trial_converted",
        at,
        sub.plan_id,
        lifecycle.monthly_recurring(price, validity),
    )
    return "trial_converted"


def _renew(conn: Connection, gateway: gateways.Gateway, sub: Subscription, at: datetime) -> str:
    plan = plan_row(conn, sub.scheduled_plan_id or sub.plan_id, on_sale=False)
    price, validity = plan["price"], plan["validity_days"]
    mrr = lifecycle.monthly_recurring(price, validity)
    if sub.scheduled_plan_id is not None:
        add_event(conn, sub.user_id, sub.subscription_id, "downgraded", at, plan["plan_id"], mrr)
    else:  # an admin's change of the plan (price, period, what it plays) reaches this member now, and says so
        if price != sub.price or validity != sub.validity_days:
            add_event(conn, sub.user_id, sub.subscription_id, "price_changed", at, plan["plan_id"], mrr)
        _tell_of_new_terms(conn, sub, plan, at)
    anchor, end = next_period(sub.billing_anchor, at, validity)
    result = charge(
        conn,
        gateway,
        user_id=sub.user_id,
        subscription_id=sub.subscription_id,
        plan_id=plan["plan_id"],
        amount=price,
        currency=plan["currency"],
        key=charge_key(sub.subscription_id, at, "renewal"),
        kind="renewal",
        period_start=at,
        period_end=end,
        at=at,
        card=saved_card(conn, sub.user_id),
    )
    common = {
        "plan_id": plan["plan_id"],
        **plan_terms(plan),
        "scheduled_plan_id": None,
        "current_period_start": at,
        "current_period_end": end,
        "billing_anchor": anchor,
    }
    if result.succeeded:
        update_subscription(conn, sub, at, **common)
        add_event(conn, sub.user_id, sub.subscription_id, "renewed", at, plan["plan_id"], mrr)
        return "renewed"
    grace_until = at + timedelta(days=lifecycle.GRACE_DAYS)
    update_subscription(conn, sub, at, status="past_due", grace_until=grace_until, **common)
    add_event(conn, sub.user_id, sub.subscription_id, "payment_failed", at, plan["plan_id"], mrr)
    notifications.notify(
        conn,
        sub.user_id,
        "payment_failed",
        "Your payment failed",
        f"We could not charge {plan['currency']} {price} for {plan['name']}: {result.message} "
        f"We will try again over the next days; to keep watching after {grace_until:%d %b %Y}, "
        "update your card or press Retry now on the Subscription page.",
        at,
    )
    return "renewal_failed"


def _tell_of_new_terms(conn: Connection, sub: Subscription, plan, at: datetime) -> None:
    """Notify the member when the period starting now has other terms than the last (an admin edited the plan)."""
    before, after = terms_of(sub), plan_terms(plan)
    if before == after:
        return
    screens = after["max_devices_allowed"]
    notifications.notify(
        conn,
        sub.user_id,
        "renewal_reminder",  # a notice about this renewal (no kind of its own: the notification kinds are shared)
        f"Your {plan['name']} plan has changed",
        f"From {at:%d %b %Y}, {plan['name']} costs {after['currency']} {after['price']} per "
        f"{lifecycle.period_label(after['validity_days'])} and includes {level_summary(after['access_level'])}, "
        f"on {screens} screen{'s' * (screens > 1)} at once in {after['resolution']}.",
        at,
    )


def settle(conn: Connection, gateway: gateways.Gateway, user_id: int, now: datetime) -> Subscription | None:
    """Carry out what fell due before `now` (a renewal, the end of a period...) that the billing job has
    not reached yet, so that a member's action applies to the state as of now. The account is locked."""
    sub = live_subscription(conn, user_id)
    while sub is not None and step(conn, gateway, sub, now) is not None:
        sub = live_subscription(conn, user_id)
    return sub
