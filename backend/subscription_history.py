"""A member's subscription history as they see it: every change of their subscriptions, newest first."""

from __future__ import annotations

from sqlalchemy import Engine, text


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
