"""The audit log: who did what and when, with the state before and after, for every admin action.

`record` is called inside the transaction that makes the change, so a change and its audit row are
committed (or rolled back) together. Reading the log is for admins only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from backend import users

TARGET_TYPES = ("plan", "title", "user", "job")
MAX_ENTRIES = 500


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member acting (checked by `users.require_role`)."""

    user_id: int
    email: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def record(
    conn: Connection,
    actor: users.User | Actor,
    action: str,
    target_type: str,
    target_key: Any,
    before: dict | None,
    after: dict | None,
    at: datetime,
) -> None:
    """Write one audit row in the caller's transaction."""
    conn.execute(
        text("""
        INSERT INTO audit_log (occurred_at, actor_user_id, actor_email, action, target_type, target_key, before, after)
        VALUES (:at, :actor, :email, :action, :type, :key, CAST(:before AS jsonb), CAST(:after AS jsonb))"""),
        {
            "at": at,
            "actor": actor.user_id,
            "email": actor.email,
            "action": action,
            "type": target_type,
            "key": str(target_key),
            "before": None if before is None else json.dumps(before, default=_jsonable),
            "after": None if after is None else json.dumps(after, default=_jsonable),
        },
    )


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that differ, from each side (what the log shows for an edit)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


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
