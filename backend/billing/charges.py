"""Charging: the card on file, one payment attempt per idempotency key, and recovering a past-due payment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from backend.billing import gateway as gateways
from backend.billing.errors import FormExpired
from backend.billing.state import CardDetails, Subscription, add_event, update_subscription
from backend.notify import notifications


def saved_card(conn: Connection, user_id: int):
    return (
        conn.execute(
            text("SELECT brand, last4, exp_month, exp_year, gateway_token FROM payment_methods WHERE user_id = :id"),
            {"id": user_id},
        )
        .mappings()
        .first()
    )


def save_card(conn: Connection, user_id: int, card: gateways.Card, now: datetime) -> None:
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


def check_idempotency_key(key: str) -> str:
    if not key or len(key) > 200:
        raise FormExpired("This form has expired: reload the page and try again.")
    return key


def verify_card(gateway: gateways.Gateway, card: CardDetails, now: datetime) -> gateways.Card:
    return gateway.verify(card.number, card.exp_month, card.exp_year, card.cvc, now)


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
    update_subscription(conn, sub, at, status="active", grace_until=None)
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
