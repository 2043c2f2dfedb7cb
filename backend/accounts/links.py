"""One-time links emailed to members: password reset and confirmation of a new email address.

A link carries `<user_id>.<secret>`; only a SHA-256 of the secret is stored. Links expire, work
once, and a password reset ends every session and lifts a sign-in lock.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from backend.accounts import errors as account_errors
from backend.accounts import passwords, sessions, users
from backend.core import clock as clock_module
from backend.core import errors as core_errors
from backend.notify import mail

RESET_VALID = timedelta(minutes=30)
EMAIL_CHANGE_VALID = timedelta(hours=24)
INVALID_LINK = "This link is invalid, was already used, or has expired. Ask for a new one."


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_link(
    conn: Connection, user_id: int, purpose: str, now: datetime, valid: timedelta, new_email: str | None = None
) -> str:
    secret = secrets.token_urlsafe(32)
    conn.execute(
        text("""
        INSERT INTO account_links (user_id, token_hash, purpose, new_email, created_at, expires_at)
        VALUES (:id, :hash, :purpose, :new_email, :now, :expires)"""),
        {
            "id": user_id,
            "hash": _hash(secret),
            "purpose": purpose,
            "new_email": new_email,
            "now": now,
            "expires": now + valid,
        },
    )
    return f"{user_id}.{secret}"


def _use_link(conn: Connection, token: str, purpose: str, now: datetime):
    """Mark the link used and return its row, or raise AccountError when it cannot be used."""
    user_id, _, secret = (token or "").strip().partition(".")
    if not user_id.isdigit() or not secret or len(secret) > 100:
        raise account_errors.AccountError(INVALID_LINK)
    row = conn.execute(
        text("""
        UPDATE account_links SET used_at = :now
        WHERE user_id = :id AND token_hash = :hash AND purpose = :purpose AND used_at IS NULL AND expires_at > :now
        RETURNING user_id, new_email"""),
        {"id": int(user_id), "hash": _hash(secret), "purpose": purpose, "now": now},
    ).first()
    if row is None:
        raise account_errors.AccountError(INVALID_LINK)
    return row


def request_password_reset(engine: Engine, email: str, base_url: str, *, now: datetime | None = None) -> None:
    """Email a reset link if the address belongs to an active account. Says nothing either way."""
    now = clock_module.clock(now)
    user = users.find_user_by_email(engine, email)
    if user is None or user.suspended_at is not None:
        return
    with engine.begin() as conn:
        token = _new_link(conn, user.user_id, "password_reset", now, RESET_VALID)
        mail.queue(
            conn,
            user.user_id,
            user.email,
            "Reset your Reelhouse password",
            f"Hello {user.display_name},\n\nto choose a new password, open this link within "
            f"{int(RESET_VALID.total_seconds() // 60)} minutes:\n\n{base_url}/reset-password?token={token}\n\n"
            "If you did not ask for this, ignore this message: your password stays as it is.",
            now,
        )
    mail.deliver_pending(engine, user.user_id)


def reset_password(engine: Engine, token: str, new_password: str, *, now: datetime | None = None) -> users.User:
    """Set a new password through a reset link: every session ends and a sign-in lock is lifted."""
    now = clock_module.clock(now)
    passwords.check_password_policy(new_password)
    with engine.begin() as conn:
        link = _use_link(conn, token, "password_reset", now)
        conn.execute(
            text("""UPDATE users SET password_hash = :hash, tokens_valid_after = :now, updated_at = :now
                             WHERE user_id = :id"""),
            {"hash": passwords.hash_password(new_password), "now": now, "id": link.user_id},
        )
        conn.execute(
            text(
                "UPDATE account_links SET used_at = :now WHERE user_id = :id AND used_at IS NULL "
                "AND purpose = 'password_reset'"
            ),
            {"now": now, "id": link.user_id},
        )
        email = conn.execute(text("SELECT email FROM users WHERE user_id = :id"), {"id": link.user_id}).scalar()
        conn.execute(text("DELETE FROM login_throttle WHERE email = :e"), {"e": email})
    user = users.get_user(engine, link.user_id)
    if user is None:  # the account was removed meanwhile
        raise core_errors.NotAuthorised("You do not have access to this.")
    return user


def request_email_change(
    engine: Engine, user_id: int, new_email: str, password: str, base_url: str, *, now: datetime | None = None
) -> None:
    """Email a confirmation link to the new address; the change happens when it is followed."""
    now = clock_module.clock(now)
    new_email = users.normalise_email(new_email)
    user = users.get_user(engine, user_id)
    if user is None:
        raise core_errors.NotAuthorised("You do not have access to this.")
    try:
        sessions.authenticate(engine, user.email, password, now=now)
    except account_errors.AccountError:
        raise account_errors.AccountError("Your password is not correct.") from None
    if new_email == user.email:
        raise account_errors.AccountError("That is already your email address.")
    if users.find_user_by_email(engine, new_email) is not None:
        raise account_errors.EmailTaken("Another account uses this email address.", field="email")
    with engine.begin() as conn:
        token = _new_link(conn, user_id, "email_change", now, EMAIL_CHANGE_VALID, new_email=new_email)
        mail.queue(
            conn,
            user_id,
            new_email,
            "Confirm your new Reelhouse email address",
            f"Hello {user.display_name},\n\nto use {new_email} for Reelhouse, open this link within "
            f"24 hours:\n\n{base_url}/confirm-email?token={token}\n\n"
            "If you did not ask for this, ignore this message.",
            now,
        )
    mail.deliver_pending(engine, user_id)


def confirm_email_change(engine: Engine, token: str, *, now: datetime | None = None) -> users.User:
    """Switch the account to the confirmed address (and its login entry), in one transaction."""
    now = clock_module.clock(now)
    try:
        with engine.begin() as conn:
            link = _use_link(conn, token, "email_change", now)
            old = conn.execute(
                text("SELECT email FROM users WHERE user_id = :id FOR UPDATE"), {"id": link.user_id}
            ).scalar()
            conn.execute(
                text("INSERT INTO user_logins (email, user_id, created_at) VALUES (:e, :id, :now)"),
                {"e": link.new_email, "id": link.user_id, "now": now},
            )
            conn.execute(
                text("DELETE FROM user_logins WHERE email = :e AND user_id = :id"), {"e": old, "id": link.user_id}
            )
            conn.execute(
                text("UPDATE users SET email = :e, updated_at = :now WHERE user_id = :id"),
                {"e": link.new_email, "now": now, "id": link.user_id},
            )
    except IntegrityError:
        raise account_errors.EmailTaken("Another account took this email address meanwhile.", field="email") from None
    user = users.get_user(engine, link.user_id)
    if user is None:  # the account was removed meanwhile
        raise core_errors.NotAuthorised("You do not have access to this.")
    return user
