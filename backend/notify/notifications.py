"""The in-app notification centre, mirrored to the email outbox (backend/notify/mail.py).

`notify` writes inside the caller's transaction, so a notification exists exactly when the change it
reports was committed. A `dedupe_key` (unique per account) makes scheduled notifications (renewal
reminders, the weekly new-titles note) safe to create again: the second one is dropped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, text

from backend.core.settings import get_settings
from backend.notify import mail


def notify(
    conn: Connection,
    user_id: int,
    kind: str,
    title: str,
    body: str,
    now: datetime,
    *,
    dedupe_key: str | None = None,
    email: bool = True,
) -> bool:
    """Add a notification (and its email); returns False when `dedupe_key` was already used."""
    created = conn.execute(
        text("""
        INSERT INTO notifications (user_id, kind, title, body, created_at, dedupe_key)
        VALUES (:user_id, :kind, :title, :body, :now, :key)
        ON CONFLICT (user_id, dedupe_key) DO NOTHING
        RETURNING notification_id"""),
        {"user_id": user_id, "kind": kind, "title": title, "body": body, "now": now, "key": dedupe_key},
    ).scalar()
    if created is None:
        return False
    if email:
        to = conn.execute(text("SELECT email FROM users WHERE user_id = :id"), {"id": user_id}).scalar_one()
        mail.queue(conn, user_id, to, f"Reelhouse: {title}", body, now)
    return True


def deliver(engine: Engine, user_ids) -> None:
    """Send the waiting emails of these accounts when SMTP is configured (else they stay in the outbox)."""
    if get_settings().smtp_host:
        for user_id in sorted(set(user_ids)):
            mail.deliver_pending(engine, user_id)


def recent(engine: Engine, user_id: int, limit: int = 50) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text("""
            SELECT notification_id, kind, title, body, created_at, read_at FROM notifications
            WHERE user_id = :id ORDER BY created_at DESC, notification_id DESC LIMIT :limit"""),
                {"id": user_id, "limit": limit},
            ).mappings()
        ]


def count(engine: Engine, user_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM notifications WHERE user_id = :id"), {"id": user_id}
        ).scalar_one()


def unread_count(engine: Engine, user_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM notifications WHERE user_id = :id AND read_at IS NULL"), {"id": user_id}
        ).scalar_one()


def mark_all_read(engine: Engine, user_id: int, now: datetime) -> int:
    with engine.begin() as conn:
        return conn.execute(
            text("UPDATE notifications SET read_at = :now WHERE user_id = :id AND read_at IS NULL"),
            {"id": user_id, "now": now},
        ).rowcount
