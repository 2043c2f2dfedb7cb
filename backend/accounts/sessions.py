"""Signing in (throttled in the database), web sessions and signing out, and password changes.

A session is valid while the account is not suspended and it was issued after the account's
`tokens_valid_after`, and it was not signed out (`signed_out_sessions`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import Engine, text

from backend.accounts.errors import AccountError, AccountSuspended, SignInFailed, SignInLocked, WrongPassword
from backend.accounts.passwords import UNKNOWN_ACCOUNT_HASH, check_password_policy, hash_password, password_matches
from backend.accounts.users import USER_COLUMNS, User, normalise_email, user_from_row
from backend.core.clock import clock

SESSION_DAYS = 7  # a sign-in cookie lasts this long
FAILURES_BEFORE_LOCK = 5
LOCK_MINUTES = 15
SIGN_IN_FAILED = "Email or password is incorrect."


def _lock_message(locked_until: datetime, now: datetime) -> str:
    minutes = max(1, round((locked_until - now).total_seconds() / 60))
    return (
        f"Too many failed sign-ins for this email. Try again in {minutes} minute{'s' if minutes > 1 else ''}, "
        "or reset your password."
    )


def authenticate(engine: Engine, email: str, password: str, *, now: datetime | None = None) -> User:
    """The account for this email and password, or AccountError with a message that does not say
    whether the account exists. Failures are counted per email in the database: after
    FAILURES_BEFORE_LOCK of them within LOCK_MINUTES, sign-in is locked for LOCK_MINUTES."""
    now = clock(now)
    try:
        email = normalise_email(email)
    except AccountError:
        bcrypt.checkpw(b"", UNKNOWN_ACCOUNT_HASH)
        raise SignInFailed(SIGN_IN_FAILED) from None
    with engine.connect() as conn:
        locked_until = conn.execute(
            text("SELECT locked_until FROM login_throttle WHERE email = :e"), {"e": email}
        ).scalar()
        if locked_until and locked_until > now:
            raise SignInLocked(_lock_message(locked_until, now))
        row = conn.execute(
            text(f"""
            SELECT {USER_COLUMNS}, u.password_hash
            FROM user_logins l JOIN users u ON u.user_id = l.user_id WHERE l.email = :e"""),
            {"e": email},
        ).first()
    stored_hash = row.password_hash.encode() if row else UNKNOWN_ACCOUNT_HASH
    if not password_matches(password, stored_hash) or row is None:
        locked_until = _record_failure(engine, email, now)
        if locked_until:
            raise SignInLocked(_lock_message(locked_until, now))
        raise SignInFailed(SIGN_IN_FAILED)
    if row.suspended_at is not None:
        raise AccountSuspended("This account is suspended. Contact support.")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM login_throttle WHERE email = :e"), {"e": email})
    return user_from_row(row)


def _record_failure(engine: Engine, email: str, now: datetime) -> datetime | None:
    """Count a failed sign-in; returns the lock's end when this failure locks the email."""
    with engine.begin() as conn:
        failures = conn.execute(
            text("""
            INSERT INTO login_throttle AS t (email, failures, window_started_at)
            VALUES (:e, 1, :now)
            ON CONFLICT (email) DO UPDATE SET
                failures = CASE WHEN t.window_started_at > :window_start THEN t.failures + 1 ELSE 1 END,
                window_started_at = CASE WHEN t.window_started_at > :window_start
                                         THEN t.window_started_at ELSE EXCLUDED.window_started_at END,
                locked_until = NULL
            RETURNING failures"""),
            {"e": email, "now": now, "window_start": now - timedelta(minutes=LOCK_MINUTES)},
        ).scalar_one()
        if failures < FAILURES_BEFORE_LOCK:
            return None
        locked_until = now + timedelta(minutes=LOCK_MINUTES)
        conn.execute(
            text(
                "UPDATE login_throttle SET locked_until = :until, failures = 0, window_started_at = :now "
                "WHERE email = :e"
            ),
            {"until": locked_until, "now": now, "e": email},
        )
        return locked_until


def session_user(engine: Engine, email: str, token_expires_at: datetime) -> User | None:
    """The account behind a sign-in cookie that expires at `token_expires_at`, or None when that
    session was signed out, was issued before the account's last password change (or "sign out
    everywhere"), or the account is suspended."""
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    with engine.connect() as conn:  # one query on every Streamlit run
        row = conn.execute(
            text(f"""
            SELECT {USER_COLUMNS},
                   EXISTS (SELECT 1 FROM signed_out_sessions s
                           WHERE s.user_id = u.user_id AND s.token_expires_at = :exp) AS signed_out
            FROM user_logins l JOIN users u ON u.user_id = l.user_id
            WHERE l.email = :email"""),
            {"email": email, "exp": token_expires_at},
        ).first()
    if row is None or row.signed_out or row.suspended_at is not None:
        return None
    if token_expires_at - timedelta(days=SESSION_DAYS) < row.tokens_valid_after:
        return None
    return user_from_row(row)


def sign_out_session(engine: Engine, user_id: int, token_expires_at: datetime, *, now: datetime | None = None) -> None:
    """End one session (this device): its cookie, even a saved copy, no longer signs in."""
    now = clock(now)
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO signed_out_sessions (user_id, token_expires_at, signed_out_at)
                             VALUES (:id, :exp, :now) ON CONFLICT (user_id, token_expires_at) DO NOTHING"""),
            {"id": user_id, "exp": token_expires_at, "now": now},
        )
        conn.execute(
            text("DELETE FROM signed_out_sessions WHERE user_id = :id AND token_expires_at < :now"),
            {"id": user_id, "now": now},
        )


def sign_out_everywhere(engine: Engine, user_id: int, *, now: datetime | None = None) -> None:
    """End every session of the account: cookies issued before now stop working."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET tokens_valid_after = :now, updated_at = :now WHERE user_id = :id"),
            {"now": clock(now), "id": user_id},
        )


def change_password(engine: Engine, user_id: int, current: str, new: str, *, now: datetime | None = None) -> None:
    """Set a new password after checking the current one; every existing session ends."""
    now = clock(now)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE user_id = :id"), {"id": user_id}).scalar()
    if stored is None or not password_matches(current, stored.encode()):
        raise WrongPassword("Your current password is not correct.", field="current_password")
    check_password_policy(new)
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE users SET password_hash = :hash, tokens_valid_after = :now, updated_at = :now
                             WHERE user_id = :id"""),
            {"hash": hash_password(new), "now": now, "id": user_id},
        )
