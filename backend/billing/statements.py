"""What a member sees of their billing: payment attempts with receipts, and every change of their subscriptions."""

from __future__ import annotations

from sqlalchemy import Engine, text

from backend.billing.lifecycle import period_label
from backend.core.money import format_amount


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
                   a.card_last4, a.gateway_reference, p.name AS plan_name, p.validity_days, u.display_name, u.email
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
                f"Plan: {row['plan_name']} (billed per {period_label(row['validity_days'])})",
                f"Period: {row['period_start']:%Y-%m-%d} to {row['period_end']:%Y-%m-%d}",
                f"Paid with: {card}",
                f"Amount: {row['currency']} {format_amount(row['amount'])}",
                f"Reference: {row['gateway_reference'] or '-'}",
            ]
        )
        + "\n"
    )


def events(engine: Engine, user_id: int, limit: int = 200) -> list[dict]:
    """The member's `subscription_events` with the plan's name (MRR left out: it is an internal figure)."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text("""
            SELECT e.event_id, e.subscription_id, e.kind, e.occurred_at, e.plan_id, p.name AS plan_name, e.reason
            FROM subscription_events e JOIN plans p ON p.plan_id = e.plan_id
            WHERE e.user_id = :u ORDER BY e.occurred_at DESC, e.event_id DESC LIMIT :limit"""),
                {"u": user_id, "limit": limit},
            ).mappings()
        ]
