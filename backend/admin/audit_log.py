"""Reading the audit log (admins only): the newest entries, filtered by actor and action."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, text

from backend.accounts import users

MAX_ENTRIES = 500


def entries(
    engine: Engine,
    *,
    acting_user_id: int | None,
    actor_email: str = "",
    action: str = "",
    target_type: str = "",
    target_key: str = "",
    since: date | None = None,
    until: date | None = None,
    limit: int = 200,
) -> list[dict]:
    """Audit rows, newest first, filtered by actor (email contains), action (prefix), target and days
    (inclusive, UTC). Admins only."""
    users.require_role(engine, acting_user_id, "admin")
    limit = max(1, min(int(limit), MAX_ENTRIES))
    params = {
        "email": actor_email.strip().lower(),
        "action": action.strip(),
        "type": target_type or None,
        "key": target_key.strip() or None,
        "since": datetime.combine(since, time(), UTC) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
        "limit": limit,
    }
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text("""
            SELECT audit_id, occurred_at, actor_email, actor_user_id, action, target_type, target_key, before, after
            FROM audit_log
            WHERE strpos(actor_email, :email) > 0 AND starts_with(action, :action)
              AND (CAST(:type AS text) IS NULL OR target_type = :type)
              AND (CAST(:key AS text) IS NULL OR target_key = :key)
              AND (CAST(:since AS timestamptz) IS NULL OR occurred_at >= :since)
              AND (CAST(:until AS timestamptz) IS NULL OR occurred_at < :until)
            ORDER BY occurred_at DESC, audit_id DESC
            LIMIT :limit"""),
                params,
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def actions(engine: Engine, *, acting_user_id: int | None) -> list[str]:
    """The distinct actions logged so far (for the filter)."""
    users.require_role(engine, acting_user_id, "admin")
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT DISTINCT action FROM audit_log ORDER BY 1")).scalars())
