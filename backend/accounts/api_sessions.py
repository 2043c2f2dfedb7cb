"""API sign-in sessions: rotating refresh tokens stored server-side (only a hash of each).

A refresh token reads `<user_id>.<token_id>.<secret>`; the row is found by its key (user_id first, as
the scale-out rules want) and the secret checked against the stored SHA-256 (a 256-bit random secret
needs no slow hash). Using a token rotates it: it is revoked and replaced by a new one of the same
family. Presenting a token that was already rotated means it leaked: the whole family (that sign-in) is
revoked. Sessions follow the web app's rules: a suspended account, or a token issued before the
account's `tokens_valid_after` (password change, "sign out everywhere"), no longer works.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text

from backend.accounts import users
from backend.core.clock import clock
from backend.core.errors import Refusal

REFRESH_DAYS = 30


class SessionError(Refusal):
    """The refresh token cannot be used (unknown, expired or revoked): sign in again."""

    kind = "unauthorised"
    code = "invalid_refresh_token"


class RefreshTokenReused(SessionError):
    """A refresh token was presented again after it was rotated: its whole session has been ended."""

    code = "refresh_token_reused"


@dataclass(frozen=True)
class Issued:
    user: users.User
    family_id: int
    refresh_token: str
    refresh_expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _insert(conn: Connection, user_id: int, family_id: int | None, now: datetime) -> tuple[int, int, str]:
    secret = secrets.token_urlsafe(32)
    token_id, family = conn.execute(
        text("""
        INSERT INTO api_refresh_tokens (user_id, token_hash, family_id, issued_at, expires_at)
        VALUES (:u, :h, COALESCE(:f, 0), :now, :exp) RETURNING token_id, family_id"""),
        {"u": user_id, "h": _hash(secret), "f": family_id, "now": now, "exp": now + timedelta(days=REFRESH_DAYS)},
    ).one()
    if family_id is None:  # a new sign-in: the family is named after its first token
        family = token_id
        conn.execute(
            text("UPDATE api_refresh_tokens SET family_id = :t WHERE user_id = :u AND token_id = :t"),
            {"u": user_id, "t": token_id},
        )
    return token_id, family, f"{user_id}.{token_id}.{secret}"


def start(engine: Engine, user: users.User, *, now: datetime | None = None) -> Issued:
    """A new session (family) for an account that has just signed in."""
    now = clock(now)
    with engine.begin() as conn:
        _, family, token = _insert(conn, user.user_id, None, now)
    return Issued(user, family, token, now + timedelta(days=REFRESH_DAYS))


def _parse(token: str) -> tuple[int, int, str]:
    try:
        user_id, token_id, secret = (token or "").split(".", 2)
        parsed = int(user_id), int(token_id), secret
    except ValueError:
        raise SessionError("This refresh token is not valid. Sign in again.") from None
    if not (0 < parsed[0] < 2**63 and 0 < parsed[1] < 2**63) or not secret:
        raise SessionError("This refresh token is not valid. Sign in again.")
    return parsed


def rotate(engine: Engine, token: str, *, now: datetime | None = None) -> Issued:
    """Exchange a refresh token for a new one (same session). A reused token revokes its whole session."""
    now = clock(now)
    user_id, token_id, secret = _parse(token)
    invalid = SessionError("This refresh token is not valid. Sign in again.")
    with engine.begin() as conn:
        row = conn.execute(
            text("""
            SELECT r.token_hash, r.family_id, r.issued_at, r.expires_at, r.revoked_at, u.tokens_valid_after,
                   u.suspended_at
            FROM api_refresh_tokens r JOIN users u ON u.user_id = r.user_id
            WHERE r.user_id = :u AND r.token_id = :t FOR UPDATE OF r"""),
            {"u": user_id, "t": token_id},
        ).first()
        if row is None or not hmac.compare_digest(row.token_hash, _hash(secret)):
            raise invalid
        if row.revoked_at is not None:
            _revoke_family(conn, user_id, row.family_id, now)
            reuse = True
        else:
            reuse = False
        if not reuse:
            if row.expires_at <= now or row.issued_at < row.tokens_valid_after or row.suspended_at is not None:
                raise invalid
            new_id, family, new_token = _insert(conn, user_id, row.family_id, now)
            conn.execute(
                text("""UPDATE api_refresh_tokens SET revoked_at = :now, replaced_by = :n
                                 WHERE user_id = :u AND token_id = :t"""),
                {"now": now, "n": new_id, "u": user_id, "t": token_id},
            )
    if reuse:  # committed: the family stays revoked
        raise RefreshTokenReused("This refresh token was already used, so this session has been ended. Sign in again.")
    user = users.get_user(engine, user_id)
    if user is None:  # the account was removed meanwhile
        raise invalid
    return Issued(user, family, new_token, now + timedelta(days=REFRESH_DAYS))


def _revoke_family(conn: Connection, user_id: int, family_id: int, now: datetime) -> None:
    conn.execute(
        text("""UPDATE api_refresh_tokens SET revoked_at = :now
                         WHERE user_id = :u AND family_id = :f AND revoked_at IS NULL"""),
        {"now": now, "u": user_id, "f": family_id},
    )


def end(engine: Engine, user_id: int, family_id: int, *, now: datetime | None = None) -> None:
    """Sign out of one session: its refresh token (and the access tokens naming it) stop working."""
    with engine.begin() as conn:
        _revoke_family(conn, user_id, family_id, clock(now))


def end_all(engine: Engine, user_id: int, *, now: datetime | None = None) -> None:
    """Revoke every API session of the account (after a password change, for instance)."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE api_refresh_tokens SET revoked_at = :now WHERE user_id = :u AND revoked_at IS NULL"),
            {"now": clock(now), "u": user_id},
        )


def session_user(engine: Engine, user_id: int, family_id: int, *, now: datetime | None = None) -> users.User | None:
    """The account behind an access token of session `family_id`, or None when that session ended
    (signed out, token reuse, expired), the password changed since, or the account is suspended."""
    with engine.connect() as conn:
        row = conn.execute(
            text(f"""
            SELECT {users.USER_COLUMNS} FROM users u
            WHERE u.user_id = :u AND u.suspended_at IS NULL
              AND EXISTS (SELECT 1 FROM api_refresh_tokens r
                          WHERE r.user_id = u.user_id AND r.family_id = :f AND r.revoked_at IS NULL
                            AND r.expires_at > :now AND r.issued_at >= u.tokens_valid_after)"""),
            {"u": user_id, "f": family_id, "now": clock(now)},
        ).first()
    return users.user_from_row(row) if row else None
