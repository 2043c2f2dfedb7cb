"""A member's subscription: checkout (trial or paid), plan changes, cancel/resume, payment recovery,
the card on file, what the member may watch, and the billing history.

Rules: ../shared/docs/metrics.md and backend/lifecycle.py. Each transition is one transaction that
first locks the account's row (`FOR NO KEY UPDATE`), so two tabs acting at once are serialised and
the second one sees the first one's result; every transition appends a `subscription_events` row
with the member's MRR after it. Charges go through a gateway (backend/gateway.py) with an
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

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, text

import database
from backend import gateway as gateways
from backend import lifecycle, notifications
from backend.catalogue import PREMIUM_FROM_RELEASE_YEAR
from backend.users import clock

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


class BillingError(ValueError):
    """A refusal whose message can be shown to the member as it is."""


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
    access_level: str
    max_streams: int
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
            return lifecycle.monthly_recurring(self.price, self.billing_period)
        return Decimal("0.00")


@dataclass(frozen=True)
class Entitlement:
    """What the member may watch now; `allowed` False comes with a `reason` to show."""

    allowed: bool
    reason: str
    state: str | None = None
    plan_name: str | None = None
    access_level: str | None = None
    max_streams: int = 0
    resolution: str | None = None
    until: datetime | None = None

    @property
    def summary(self) -> str:
        if not self.allowed:
            return self.reason
        titles = (
            "every title, the newest included"
            if self.access_level == "premium"
            else f"titles released before {PREMIUM_FROM_RELEASE_YEAR}"
        )
        screens = f"{self.max_streams} screen{'s' if self.max_streams > 1 else ''}"
        return f"Your plan includes {titles}, on {screens} at once in {self.resolution}."


_SUB_COLUMNS = """
    s.subscription_id, s.user_id, s.plan_id, p.name AS plan_name, s.status, s.price, s.currency, s.billing_period,
    p.access_level, p.max_streams, p.resolution, s.started_at, s.trial_end, s.current_period_start,
    s.current_period_end, s.cancel_at_period_end, s.grace_until, s.ended_at, s.end_reason, s.scheduled_plan_id,
    (SELECT sp.name FROM plans sp WHERE sp.plan_id = s.scheduled_plan_id) AS scheduled_plan_name, s.billing_anchor
"""


# --- shared helpers (also used by backend/billing.py) ---------------------------------------------


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
        SELECT {_SUB_COLUMNS} FROM subscriptions s JOIN plans p ON p.plan_id = s.plan_id
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
    if row is None or (on_sale and not row["is_active"]):
        raise BillingError("This plan is not on sale. Choose another plan.")
    return row


def saved_card(conn: Connection, user_id: int):
    return (
        conn.execute(
            text("SELECT brand, last4, exp_month, exp_year, gateway_token FROM payment_methods WHERE user_id = :id"),
            {"id": user_id},
        )
        .mappings()
        .first()
    )


def _save_card(conn: Connection, user_id: int, card: gateways.Card, now: datetime) -> None:
    conn.execute(
        text("""
        INSERT INTO payment_methods (user_id, brand, last4, exp_month, exp_year, gateway_token, updated_at)
        VALUES (:u, :brand, :last4, :m, :y, :token, :now)
        ON CONFLICT (user_id) DO UPDATE SET brand = EXCLUDED.brand, last4 = EXCLUDED.last4,
            exp_month = EXCLUDED.exp_month, exp_year = EXCLUDED.exp_year, gateway_token = EXCLUDED.gateway_token,
            updated_at = EXCLUDED.updated_at"""),
        {
            "u": user_id,
            "brand": card.brand,
            "last4": card.last4,
            "m": card.exp_month,
            "y": card.exp_year,
            "token": card.token,
            "now": now,
        },
    )


def attempt_by_key(conn: Connection, user_id: int, key: str):
    return (
        conn.execute(
            text(
                "SELECT payment_id, status, failure_reason, subscription_id FROM payment_attempts "
                "WHERE user_id = :u AND idempotency_key = :k"
            ),
            {"u": user_id, "k": key},
        )
        .mappings()
        .first()
    )


def charge(
    conn: Connection,
    gateway: gateways.Gateway,
    *,
    user_id: int,
    subscription_id: int | None,
    plan_id: int,
    amount: Decimal,
    currency: str,
    key: str,
    kind: str,
    period_start: datetime,
    period_end: datetime,
    at: datetime,
    card,
) -> gateways.ChargeResult:
    """Charge the card on file and record the attempt (succeeded or failed) under `key`."""
    if card is None:
        result = gateways.ChargeResult(False, failure_code="no_card")
    else:
        result = gateway.charge(card["gateway_token"], amount, currency, key)
    conn.execute(
        text("""
        INSERT INTO payment_attempts (user_id, subscription_id, plan_id, amount, currency, status, idempotency_key,
                                      failure_reason, period_start, period_end, attempted_at, kind, card_brand,
                                      card_last4, gateway_reference)
        VALUES (:u, :s, :plan, :amount, :currency, :status, :key, :reason, :ps, :pe, :at, :kind, :brand, :last4,
                :ref)"""),
        {
            "u": user_id,
            "s": subscription_id,
            "plan": plan_id,
            "amount": amount,
            "currency": currency,
            "status": "succeeded" if result.succeeded else "failed",
            "key": key,
            "reason": None if result.succeeded else result.failure_code,
            "ps": period_start,
            "pe": period_end,
            "at": at,
            "kind": kind,
            "brand": card["brand"] if card else None,
            "last4": card["last4"] if card else None,
            "ref": result.reference,
        },
    )
    return result


def paid_before(conn: Connection, user_id: int) -> bool:
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM subscription_events WHERE user_id = :u AND mrr > 0)"), {"u": user_id}
        ).scalar()
    )


def settle(conn: Connection, gateway: gateways.Gateway, user_id: int, now: datetime) -> Subscription | None:
    """Carry out what fell due before `now` (a renewal, the end of a period...) that the billing job has
    not reached yet, so that a member's action applies to the state as of now. The account is locked."""
    from backend import billing  # billing builds on this module

    sub = live_subscription(conn, user_id)
    while sub is not None and billing.step(conn, gateway, sub, now) is not None:
        sub = live_subscription(conn, user_id)
    return sub


def _check_key(key: str) -> str:
    if not key or len(key) > 200:
        raise BillingError("This form has expired: reload the page and try again.")
    return key


def _verify(gateway: gateways.Gateway, card: CardDetails, now: datetime) -> gateways.Card:
    try:
        return gateway.verify(card.number, card.exp_month, card.exp_year, card.cvc, now)
    except gateways.CardError as error:
        raise BillingError(str(error)) from None


# --- checkout ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutResult:
    subscription: Subscription
    trial: bool
    payment_id: int | None = None


def checkout(
    engine: Engine,
    user_id: int,
    plan_id: int,
    card: CardDetails | None,
    idempotency_key: str,
    *,
    gateway: gateways.Gateway | None = None,
    now: datetime | None = None,
) -> CheckoutResult:
    """Start a subscription. First-time subscribers get a free trial (the card is verified, nothing is
    charged); anyone else pays the first period now. `card` None uses the card on file.

    Repeating a call with the same key returns the first call's result (a declined payment is refused
    again with the same message) and never charges twice."""
    now, gateway = clock(now), gateway or gateways.default_gateway()
    key = _check_key(idempotency_key)
    verified = _verify(gateway, card, now) if card is not None else None

    def work(conn: Connection):
        lock_account(conn, user_id)
        previous = attempt_by_key(conn, user_id, key)
        if previous is not None:
            if previous["status"] != "succeeded":
                return ("failed", previous["failure_reason"])
            return ("ok", live_subscription(conn, user_id), False, previous["payment_id"])
        live = settle(conn, gateway, user_id, now)
        if live is not None:
            same = conn.execute(
                text("SELECT checkout_key = :k FROM subscriptions WHERE user_id = :u AND subscription_id = :s"),
                {"k": key, "u": user_id, "s": live.subscription_id},
            ).scalar()
            if same:
                return ("ok", live, live.status == "trialing", None)
            raise BillingError("You already have a subscription: change or resume it on the Subscription page.")
        plan = plan_row(conn, plan_id)
        card_row = (
            {"brand": verified.brand, "last4": verified.last4, "gateway_token": verified.token}
            if verified
            else saved_card(conn, user_id)
        )
        if card_row is None:
            raise BillingError("Enter a card to pay with.")
        first_time = not conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = :u)"), {"u": user_id}
        ).scalar()
        if first_time and lifecycle.TRIAL_DAYS > 0:
            trial_end = now + timedelta(days=lifecycle.TRIAL_DAYS)
            sub_id = _insert_subscription(conn, user_id, plan, "trialing", now, now, trial_end, key, trial_end)
            add_event(conn, user_id, sub_id, "trial_started", now, plan["plan_id"], Decimal("0.00"))
            if verified:
                _save_card(conn, user_id, verified, now)
            notifications.notify(
                conn,
                user_id,
                "trial_started",
                "Your free trial has started",
                f"Enjoy {plan['name']} free until {trial_end:%d %b %Y}. We will charge "
                f"{plan['currency']} {plan['price']} then unless you cancel before.",
                now,
            )
            return ("ok", live_subscription(conn, user_id), True, None)
        period_end = lifecycle.period_end(now, 1, plan["billing_period"])
        result = charge(
            conn,
            gateway,
            user_id=user_id,
            subscription_id=None,
            plan_id=plan["plan_id"],
            amount=plan["price"],
            currency=plan["currency"],
            key=key,
            kind="checkout",
            period_start=now,
            period_end=period_end,
            at=now,
            card=card_row,
        )
        if not result.succeeded:
            return ("failed", result.failure_code)  # the failed attempt is kept in the history; nothing else
        sub_id = _insert_subscription(conn, user_id, plan, "active", now, now, period_end, key, None)
        conn.execute(
            text("UPDATE payment_attempts SET subscription_id = :s WHERE user_id = :u AND idempotency_key = :k"),
            {"s": sub_id, "u": user_id, "k": key},
        )
        kind = "reactivated" if paid_before(conn, user_id) else "subscribed"
        add_event(
            conn,
            user_id,
            sub_id,
            kind,
            now,
            plan["plan_id"],
            lifecycle.monthly_recurring(plan["price"], plan["billing_period"]),
        )
        if verified:
            _save_card(conn, user_id, verified, now)
        payment_id = attempt_by_key(conn, user_id, key)["payment_id"]
        notifications.notify(
            conn,
            user_id,
            "receipt",
            "Payment received",
            f"{plan['currency']} {plan['price']} for {plan['name']}, "
            f"{now:%d %b %Y} to {period_end:%d %b %Y}. Receipt {receipt_number(user_id, payment_id)}.",
            now,
        )
        return ("ok", live_subscription(conn, user_id), False, payment_id)

    outcome = database.transaction(engine, work)
    if outcome[0] == "failed":
        raise BillingError(gateways.ChargeResult(False, failure_code=outcome[1]).message)
    notifications.deliver(engine, [user_id])
    return CheckoutResult(outcome[1], outcome[2], outcome[3])


def _insert_subscription(
    conn: Connection,
    user_id: int,
    plan,
    status: str,
    now: datetime,
    period_start: datetime,
    period_end: datetime,
    key: str,
    trial_end: datetime | None,
) -> int:
    return conn.execute(
        text("""
        INSERT INTO subscriptions (user_id, plan_id, status, price, currency, billing_period, started_at, trial_end,
                                   current_period_start, current_period_end, billing_anchor, checkout_key,
                                   created_at, updated_at)
        VALUES (:u, :plan, :status, :price, :currency, :bp, :now, :trial_end, :ps, :pe, :anchor, :key, :now, :now)
        RETURNING subscription_id"""),
        {
            "u": user_id,
            "plan": plan["plan_id"],
            "status": status,
            "price": plan["price"],
            "currency": plan["currency"],
            "bp": plan["billing_period"],
            "now": now,
            "trial_end": trial_end,
            "ps": period_start,
            "pe": period_end,
            "anchor": None if status == "trialing" else period_start,
            "key": key,
        },
    ).scalar_one()


# --- changes by the member ---------------------------------------------------------------------------


def _transition(engine: Engine, user_id: int, step, gateway: gateways.Gateway | None, now: datetime):
    gateway = gateway or gateways.default_gateway()

    def work(conn: Connection):
        lock_account(conn, user_id)
        sub = settle(conn, gateway, user_id, now)
        if sub is None:
            raise BillingError("You have no current subscription.")
        return step(conn, sub)

    return database.transaction(engine, work)


def _set(conn: Connection, sub: Subscription, now: datetime, **changes) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in changes)
    conn.execute(
        text(f"UPDATE subscriptions SET {assignments}, updated_at = :now WHERE user_id = :u AND subscription_id = :s"),
        {**changes, "now": now, "u": sub.user_id, "s": sub.subscription_id},
    )


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
            raise BillingError("Your last payment failed: retry it or update your card before changing plan.")
        if plan_id == sub.plan_id:
            if sub.scheduled_plan_id is None:
                raise BillingError(f"You are already on {plan['name']}.")
            return _undo_downgrade(conn, sub, now)
        new_mrr = lifecycle.monthly_recurring(plan["price"], plan["billing_period"])
        old_mrr = lifecycle.monthly_recurring(sub.price, sub.billing_period)
        if sub.status == "trialing" or new_mrr > old_mrr:  # a trial switches either way; nothing is charged yet
            kind = "upgraded" if new_mrr > old_mrr else "downgraded"
            _set(
                conn,
                sub,
                now,
                plan_id=plan_id,
                price=plan["price"],
                billing_period=plan["billing_period"],
                currency=plan["currency"],
                scheduled_plan_id=None,
            )
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
        _set(conn, sub, now, scheduled_plan_id=plan_id)
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
    _set(conn, sub, now, scheduled_plan_id=None)
    add_event(conn, sub.user_id, sub.subscription_id, "downgrade_undone", now, sub.plan_id, sub.mrr)
    return "downgrade_undone"


def cancel(
    engine: Engine, user_id: int, *, gateway: gateways.Gateway | None = None, now: datetime | None = None
) -> str:
    """Cancel at the end of the paid period (or of the trial): access continues until then."""
    now = clock(now)

    def step(conn: Connection, sub: Subscription) -> str:
        if sub.status == "past_due":
            raise BillingError(
                "Your last payment failed: the subscription ends by itself at the end of the grace "
                "period unless you retry or update your card."
            )
        if sub.cancel_at_period_end:
            return "unchanged"
        _set(conn, sub, now, cancel_at_period_end=True, canceled_at=now)
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
        _set(conn, sub, now, cancel_at_period_end=False, canceled_at=None)
        add_event(conn, user_id, sub.subscription_id, "cancel_undone", now, sub.plan_id, sub.mrr)
        return "cancel_undone"

    return _transition(engine, user_id, step, gateway, now)


def recover(conn: Connection, gateway: gateways.Gateway, sub: Subscription, key: str, at: datetime) -> bool:
    """Charge the unpaid period of a past-due subscription under `key`; on success it is active again."""
    previous = attempt_by_key(conn, sub.user_id, key)
    if previous is not None:
        return previous["status"] == "succeeded"
    result = charge(
        conn,
        gateway,
        user_id=sub.user_id,
        subscription_id=sub.subscription_id,
        plan_id=sub.plan_id,
        amount=sub.price,
        currency=sub.currency,
        key=key,
        kind="retry",
        period_start=sub.current_period_start,
        period_end=sub.current_period_end,
        at=at,
        card=saved_card(conn, sub.user_id),
    )
    if not result.succeeded:
        return False
    _set(conn, sub, at, status="active", grace_until=None)
    add_event(conn, sub.user_id, sub.subscription_id, "payment_recovered", at, sub.plan_id, sub.mrr)
    notifications.notify(
        conn,
        sub.user_id,
        "payment_recovered",
        "Payment received: you are all set",
        f"{sub.currency} {sub.price} for {sub.plan_name} was paid. Thank you!",
        at,
    )
    return True


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
    key = "manual:" + _check_key(idempotency_key)

    def step(conn: Connection, sub: Subscription):
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
        raise BillingError(gateways.ChargeResult(False, failure_code=outcome[1]).message)
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
    """Replace the card on file. When the subscription is past due, the unpaid period is charged to the
    new card at once. Returns 'saved', 'recovered', or raises BillingError (the card is then kept)."""
    now, gateway = clock(now), gateway or gateways.default_gateway()
    verified = _verify(gateway, card, now)

    def work(conn: Connection):
        lock_account(conn, user_id)
        _save_card(conn, user_id, verified, now)
        sub = settle(conn, gateway, user_id, now)
        if sub is None or sub.status != "past_due":
            return "saved"
        key = f"card:{sub.subscription_id}:{sub.current_period_start.isoformat()}:{verified.token}"
        if recover(conn, gateway, sub, key, now):
            return "recovered"
        return ("failed", attempt_by_key(conn, user_id, key)["failure_reason"])

    outcome = database.transaction(engine, work)
    if isinstance(outcome, tuple):
        raise BillingError(
            "Your card was saved, but the payment failed: "
            + gateways.ChargeResult(False, failure_code=outcome[1]).message
        )
    notifications.deliver(engine, [user_id])
    return outcome


# --- what the member sees ------------------------------------------------------------------------------


def current(engine: Engine, user_id: int) -> Subscription | None:
    """The live subscription, else the most recent ended one; None if the member never subscribed."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(f"""
            SELECT {_SUB_COLUMNS} FROM subscriptions s JOIN plans p ON p.plan_id = s.plan_id
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
        allowed = now < until or not sub.cancel_at_period_end
    elif sub.status == "past_due":
        until = sub.grace_until
        allowed = until is not None and now < until
    else:
        allowed = False
    if not allowed:
        return Entitlement(False, "Your subscription has ended. Resubscribe to keep watching.")
    return Entitlement(True, "", sub.status, sub.plan_name, sub.access_level, sub.max_streams, sub.resolution, until)


def card_on_file(engine: Engine, user_id: int):
    with engine.connect() as conn:
        row = saved_card(conn, user_id)
    return None if row is None else {k: row[k] for k in ("brand", "last4", "exp_month", "exp_year")}


def receipt_number(user_id: int, payment_id: int) -> str:
    return f"RH-{user_id}-{payment_id:06d}"


def billing_history(engine: Engine, user_id: int) -> list[dict]:
    """Every payment attempt of the member, newest first, with the plan's name and the receipt number."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT a.payment_id, a.attempted_at, a.kind, p.name AS plan_name, a.amount, a.currency, a.status,
                   a.failure_reason, a.period_start, a.period_end, a.card_brand, a.card_last4
            FROM payment_attempts a JOIN plans p ON p.plan_id = a.plan_id
            WHERE a.user_id = :u ORDER BY a.attempted_at DESC, a.payment_id DESC"""),
            {"u": user_id},
        ).mappings()
        return [
            dict(r) | {"receipt": receipt_number(user_id, r["payment_id"]) if r["status"] == "succeeded" else None}
            for r in rows
        ]


def receipt(engine: Engine, user_id: int, payment_id: int) -> str | None:
    """A plain-text receipt for one of the member's successful payments (None if there is no such payment)."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text("""
            SELECT a.payment_id, a.attempted_at, a.amount, a.currency, a.period_start, a.period_end, a.card_brand,
                   a.card_last4, a.gateway_reference, p.name AS plan_name, p.billing_period, u.display_name, u.email
            FROM payment_attempts a JOIN plans p ON p.plan_id = a.plan_id JOIN users u ON u.user_id = a.user_id
            WHERE a.user_id = :u AND a.payment_id = :p AND a.status = 'succeeded'"""),
                {"u": user_id, "p": payment_id},
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    card = f"{row['card_brand']} ending {row['card_last4']}" if row["card_last4"] else "card on file"
    return (
        "\n".join(
            [
                "Reelhouse - receipt",
                f"Receipt number: {receipt_number(user_id, row['payment_id'])}",
                f"Date: {row['attempted_at']:%Y-%m-%d %H:%M} UTC",
                f"Billed to: {row['display_name']} <{row['email']}>",
                f"Plan: {row['plan_name']} (billed per {row['billing_period']})",
                f"Period: {row['period_start']:%Y-%m-%d} to {row['period_end']:%Y-%m-%d}",
                f"Paid with: {card}",
                f"Amount: {row['currency']} {row['amount']:.2f}",
                f"Reference: {row['gateway_reference'] or '-'}",
            ]
        )
        + "\n"
    )
