"""A subscription as stored: its row, its state machine, its event log and the plan it is on.

The state machine (statuses of `subscriptions`; "ended" = canceled or expired) and the events allowed
from each status are in backend/billing/subscriptions.py's docstring and `ALLOWED` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from backend.billing import lifecycle
from backend.billing.errors import PlanNotFound, PlanNotOnSale
from backend.catalogue.rules import level_summary

ENDED_STATES = ("canceled", "expired")


# Event kinds allowed from each status (the property tests check the log against this).
ALLOWED = {
    None: {"trial_started", "subscribed", "reactivated"},
    "trialing": {"trial_converted", "trial_expired", "upgraded", "downgraded", "cancel_scheduled", "cancel_undone"},
    "active": {
        "upgraded",
        "downgrade_scheduled",
        "downgrade_undone",
        "downgraded",
        "cancel_scheduled",
        "cancel_undone",
        "renewed",
        "payment_failed",
        "churned",
        "price_changed",
    },
    "past_due": {"payment_recovered", "churned", "payment_failed"},
}


NEXT_STATUS = {
    "trial_started": "trialing",
    "subscribed": "active",
    "reactivated": "active",
    "trial_converted": "active",
    "trial_expired": None,
    "churned": None,
    "payment_failed": "past_due",
    "payment_recovered": "active",
}


@dataclass(frozen=True)
class CardDetails:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@dataclass(frozen=True)
class Subscription:
    subscription_id: int
    user_id: int
    plan_id: int
    plan_name: str
    status: str
    price: Decimal
    currency: str
    billing_period: str
    validity_days: int
    access_level: str
    max_devices_allowed: int
    resolution: str
    started_at: datetime
    trial_end: datetime | None
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    grace_until: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    scheduled_plan_id: int | None
    scheduled_plan_name: str | None
    billing_anchor: datetime | None

    @property
    def is_live(self) -> bool:
        return self.status in lifecycle.LIVE_STATES

    @property
    def mrr(self) -> Decimal:
        if self.status in lifecycle.PAYING_STATES:
            return lifecycle.monthly_recurring(self.price, self.validity_days)
        return Decimal("0.00")


@dataclass(frozen=True)
class Entitlement:
    """What the member may watch now; `allowed` False comes with a `reason` to show."""

    allowed: bool
    reason: str
    state: str | None = None
    plan_name: str | None = None
    access_level: str | None = None
    max_devices_allowed: int = 0
    resolution: str | None = None
    until: datetime | None = None

    @property
    def summary(self) -> str:
        if not self.allowed:
            return self.reason
        screens = f"{self.max_devices_allowed} screen{'s' if self.max_devices_allowed > 1 else ''}"
        return f"Your plan includes {level_summary(self.access_level)}, on {screens} at once in {self.resolution}."


SUBSCRIPTION_COLUMNS = """
    s.subscription_id, s.user_id, s.plan_id, p.name AS plan_name, s.status, s.price, s.currency,
    s.billing_period, s.validity_days, s.access_level, s.max_devices_allowed, s.resolution, s.started_at,
    s.trial_end, s.current_period_start, s.current_period_end, s.cancel_at_period_end, s.grace_until,
    s.ended_at, s.end_reason, s.scheduled_plan_id,
    (SELECT sp.name FROM plans sp WHERE sp.plan_id = s.scheduled_plan_id) AS scheduled_plan_name, s.billing_anchor
"""


def lock_account(conn: Connection, user_id: int, *, skip_locked: bool = False) -> bool:
    """Serialise subscription changes of one account. FOR NO KEY UPDATE does not block rows that
    merely reference the account (their foreign-key checks take KEY SHARE)."""
    suffix = " SKIP LOCKED" if skip_locked else ""
    found = conn.execute(
        text(f"SELECT user_id FROM users WHERE user_id = :id FOR NO KEY UPDATE{suffix}"), {"id": user_id}
    ).scalar()
    return found is not None


def live_subscription(conn: Connection, user_id: int) -> Subscription | None:
    row = (
        conn.execute(
            text(f"""
        SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s JOIN plans p ON p.plan_id = s.plan_id
        WHERE s.user_id = :id AND s.status IN ('trialing', 'active', 'past_due')
        FOR UPDATE OF s"""),
            {"id": user_id},
        )
        .mappings()
        .first()
    )
    return Subscription(**row) if row else None


def add_event(
    conn: Connection,
    sub_user_id: int,
    subscription_id: int,
    kind: str,
    at: datetime,
    plan_id: int,
    mrr: Decimal,
    reason: str | None = None,
) -> None:
    conn.execute(
        text("""
        INSERT INTO subscription_events (user_id, subscription_id, kind, occurred_at, plan_id, mrr, reason)
        VALUES (:u, :s, :kind, :at, :plan, :mrr, :reason)"""),
        {"u": sub_user_id, "s": subscription_id, "kind": kind, "at": at, "plan": plan_id, "mrr": mrr, "reason": reason},
    )


def plan_row(conn: Connection, plan_id: int, *, on_sale: bool = True):
    row = conn.execute(text("SELECT * FROM plans WHERE plan_id = :id"), {"id": plan_id}).mappings().first()
    if row is None:
        raise PlanNotFound("There is no such plan. Choose one of the plans on sale.", field="plan_id")
    if on_sale and not row["is_active"]:
        raise PlanNotOnSale("This plan is not on sale. Choose another plan.", field="plan_id")
    return row


# What a subscription keeps of its plan for the period it is in (a plan's later edits reach it at renewal).
PLAN_TERMS = (
    "price",
    "currency",
    "billing_period",
    "validity_days",
    "access_level",
    "max_devices_allowed",
    "resolution",
)


def plan_terms(plan) -> dict:
    """The plan's terms as the subscription's columns (the `PLAN_TERMS` of a plans row)."""
    return {column: plan[column] for column in PLAN_TERMS}


def terms_of(sub: Subscription) -> dict:
    return {column: getattr(sub, column) for column in PLAN_TERMS}


def update_subscription(conn: Connection, sub: Subscription, now: datetime, **changes) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in changes)
    conn.execute(
        text(f"UPDATE subscriptions SET {assignments}, updated_at = :now WHERE user_id = :u AND subscription_id = :s"),
        {**changes, "now": now, "u": sub.user_id, "s": sub.subscription_id},
    )
