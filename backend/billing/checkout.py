"""Checkout: a first subscription (with a free trial) or a paid one, charged once however often it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, text

import database
from backend.billing import gateway as gateways
from backend.billing import lifecycle
from backend.billing.charge_keys import checkout_key
from backend.billing.charges import (
    attempt_by_key,
    charge,
    check_idempotency_key,
    paid_before,
    save_card,
    saved_card,
    verify_card,
)
from backend.billing.errors import CardRequired, SubscriptionExists, payment_refused
from backend.billing.renewals import settle
from backend.billing.state import (
    CardDetails,
    Subscription,
    add_event,
    live_subscription,
    lock_account,
    plan_row,
    plan_terms,
)
from backend.billing.statements import receipt_number
from backend.core.clock import clock
from backend.notify import notifications


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
    form_key = check_idempotency_key(idempotency_key)
    key = checkout_key(form_key)
    verified = verify_card(gateway, card, now) if card is not None else None

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
                {"k": form_key, "u": user_id, "s": live.subscription_id},
            ).scalar()
            if same:
                return ("ok", live, live.status == "trialing", None)
            raise SubscriptionExists("You already have a subscription: change or resume it on the Subscription page.")
        plan = plan_row(conn, plan_id)
        card_row = (
            {"brand": verified.brand, "last4": verified.last4, "gateway_token": verified.token}
            if verified
            else saved_card(conn, user_id)
        )
        if card_row is None:
            raise CardRequired("Enter a card to pay with.", field="card")
        first_time = not conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = :u)"), {"u": user_id}
        ).scalar()
        if first_time and lifecycle.trial_days() > 0:
            trial_end = now + timedelta(days=lifecycle.trial_days())
            sub_id = _insert_subscription(conn, user_id, plan, "trialing", now, now, trial_end, form_key, trial_end)
            add_event(conn, user_id, sub_id, "trial_started", now, plan["plan_id"], Decimal("0.00"))
            if verified:
                save_card(conn, user_id, verified, now)
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
        period_end = lifecycle.period_end(now, 1, plan["validity_days"])
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
        sub_id = _insert_subscription(conn, user_id, plan, "active", now, now, period_end, form_key, None)
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
            lifecycle.monthly_recurring(plan["price"], plan["validity_days"]),
        )
        if verified:
            save_card(conn, user_id, verified, now)
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
        raise payment_refused(outcome[1], gateways.ChargeResult(False, failure_code=outcome[1]).message)
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
        INSERT INTO subscriptions (user_id, plan_id, status, price, currency, billing_period, validity_days,
                                   access_level, max_devices_allowed, resolution, started_at, trial_end,
                                   current_period_start, current_period_end, billing_anchor, checkout_key,
                                   created_at, updated_at)
        VALUES (:u, :plan, :status, :price, :currency, :billing_period, :validity_days, :access_level,
                :max_devices_allowed, :resolution, :now, :trial_end, :ps, :pe, :anchor, :key, :now, :now)
        RETURNING subscription_id"""),
        {
            **plan_terms(plan),
            "u": user_id,
            "plan": plan["plan_id"],
            "status": status,
            "now": now,
            "trial_end": trial_end,
            "ps": period_start,
            "pe": period_end,
            "anchor": None if status == "trialing" else period_start,
            "key": key,
        },
    ).scalar_one()
