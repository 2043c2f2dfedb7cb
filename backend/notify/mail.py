"""Email: messages are written to an outbox table inside the caller's transaction, then delivered
by SMTP when SMTP_HOST is set. Without it (development) they stay in the outbox and are written
to the log, so a reset link can be followed from the terminal running the app.

Settings: SMTP_HOST, SMTP_PORT (587), SMTP_USER, SMTP_PASSWORD, SMTP_FROM, SMTP_STARTTLS (1).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy import Connection, Engine, RowMapping, text

from backend.core.settings import get_settings

log = logging.getLogger("reelhouse.mail")
NOT_CONFIGURED = "not sent: SMTP_HOST is not set (see the app log)"


def queue(conn: Connection, user_id: int, to_address: str, subject: str, body: str, now: datetime) -> int:
    """Add a message to the outbox in the caller's transaction; returns its id."""
    return conn.execute(
        text("""
        INSERT INTO email_outbox (user_id, to_address, subject, body, created_at)
        VALUES (:user_id, :to, :subject, :body, :now) RETURNING message_id"""),
        {"user_id": user_id, "to": to_address, "subject": subject, "body": body, "now": now},
    ).scalar_one()


def _send(message: RowMapping) -> None:
    email = EmailMessage()
    settings = get_settings()
    if settings.smtp_host is None:  # deliver_pending sends only when it is set
        raise smtplib.SMTPException("SMTP_HOST is not set")
    email["From"] = settings.smtp_from
    email["To"] = message["to_address"]
    email["Subject"] = message["subject"]
    email.set_content(message["body"])
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(email)


def deliver_pending(engine: Engine, user_id: int) -> int:
    """Deliver the account's waiting messages; returns how many were sent."""
    with engine.connect() as conn:
        pending = (
            conn.execute(
                text("""
            SELECT message_id, to_address, subject, body FROM email_outbox
            WHERE user_id = :id AND sent_at IS NULL AND error IS NULL ORDER BY message_id"""),
                {"id": user_id},
            )
            .mappings()
            .all()
        )
    sent = 0
    for message in pending:
        if not get_settings().smtp_host:
            log.warning("dev mailbox, to %s: %s\n%s", message["to_address"], message["subject"], message["body"])
            outcome: dict[str, datetime | str | None] = {"sent_at": None, "error": NOT_CONFIGURED}
        else:
            try:
                _send(message)
                outcome, sent = {"sent_at": datetime.now(UTC), "error": None}, sent + 1
            except (OSError, smtplib.SMTPException) as error:
                outcome = {"sent_at": None, "error": f"{type(error).__name__}: {error}"[:500]}
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE email_outbox SET sent_at = :sent_at, error = :error "
                    "WHERE user_id = :id AND message_id = :mid"
                ),
                outcome | {"id": user_id, "mid": message["message_id"]},
            )
    return sent


def outbox(engine: Engine, user_id: int) -> list[dict]:
    """The account's messages, newest first."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text("""
            SELECT message_id, to_address, subject, body, created_at, sent_at, error FROM email_outbox
            WHERE user_id = :id ORDER BY message_id DESC"""),
                {"id": user_id},
            ).mappings()
        ]
