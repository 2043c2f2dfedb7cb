"""The audit log: who did what and when, with the state before and after, for every admin action.

`record` is called inside the transaction that makes the change, so a change and its audit row are
committed (or rolled back) together. Reading the log is for admins only (backend.admin.audit_log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection, text

TARGET_TYPES = ("plan", "title", "user", "job")


class Acting(Protocol):
    """Whoever acts: a signed-in account (backend.accounts.users.User) or an `Actor`."""

    @property
    def user_id(self) -> int: ...

    @property
    def email(self) -> str: ...


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
    actor: Acting,
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
