"""Admin management of accounts: search, one account's page, role changes, suspension and restoring.

Every function checks the acting account's role here (`checks.require_admin`), and every change writes an
audit row in the same transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, text

from backend.accounts import profiles as viewing_profiles
from backend.accounts import users
from backend.admin.checks import (
    AccountNotFound,
    AccountStateUnchanged,
    AdminError,
    OwnAccount,
    one_of,
    require_admin,
)
from backend.billing import statements, subscriptions
from backend.core import audit
from backend.core.clock import clock

MAX_SEARCH = 100


@dataclass(frozen=True)
class AccountRow:
    user_id: int
    email: str
    display_name: str
    role: str
    created_at: datetime
    suspended_at: datetime | None
    is_seeded: bool


def search_users(
    engine: Engine,
    query: str,
    *,
    acting_user_id: int | None,
    role: str = "",
    suspended_only: bool = False,
    limit: int = 50,
) -> list[AccountRow]:
    """Accounts whose email or name contains `query` (any case), newest first; an exact id too."""
    return search_users_page(
        engine, query, acting_user_id=acting_user_id, role=role, suspended_only=suspended_only, limit=limit
    )[0]


def search_users_page(
    engine: Engine,
    query: str,
    *,
    acting_user_id: int | None,
    role: str = "",
    suspended_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AccountRow], int]:
    """`limit` of the matching accounts from `offset` (as `search_users` orders them), and how many match."""
    require_admin(engine, acting_user_id)
    query = (query or "").strip().lower()[:MAX_SEARCH]
    if role and role not in users.ROLES:
        raise AdminError(f"Role must be one of: {', '.join(users.ROLES)}.", field="role")
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT count(*) OVER () AS total, user_id, email, display_name, role, created_at, suspended_at, is_seeded
            FROM users
            WHERE (:q = '' OR strpos(email, :q) > 0 OR strpos(lower(display_name), :q) > 0
                   OR CAST(user_id AS text) = :q)
              AND (:role = '' OR role = :role) AND (NOT :suspended OR suspended_at IS NOT NULL)
            ORDER BY created_at DESC, user_id DESC LIMIT :limit OFFSET :offset"""),
            {
                "q": query,
                "role": role,
                "suspended": suspended_only,
                "limit": max(1, min(limit, 500)),
                "offset": max(0, offset),
            },
        ).all()
    if not rows and offset > 0:  # past the last page: how many there are
        first = search_users_page(
            engine, query, acting_user_id=acting_user_id, role=role, suspended_only=suspended_only, limit=1
        )
        return [], first[1]
    return [AccountRow(*r[1:]) for r in rows], rows[0].total if rows else 0


VIEWING_HISTORY_ROWS = 50


def account_page(engine: Engine, user_id: int, *, acting_user_id: int | None) -> dict:
    """One account as the admin sees it: details, profiles, subscription, billing and recent viewing."""
    require_admin(engine, acting_user_id)
    with engine.connect() as conn:
        account = (
            conn.execute(
                text("""
            SELECT user_id, email, display_name, role, country_code, phone_e164, created_at, suspended_at,
                   tokens_valid_after, is_seeded FROM users WHERE user_id = :id"""),
                {"id": user_id},
            )
            .mappings()
            .first()
        )
        if account is None:
            raise AccountNotFound("There is no such account.")
        viewing = (
            conn.execute(
                text("""
            SELECT e.started_at, p.name AS profile, t.title, ep.season_number AS season, ep.episode_number AS episode,
                   e.device, round(e.watched_seconds / 60.0, 1) AS minutes_watched, e.completed
            FROM playback_events e
            JOIN profiles p ON p.user_id = e.user_id AND p.profile_id = e.profile_id
            JOIN titles t ON t.title_id = e.title_id
            LEFT JOIN episodes ep ON ep.episode_id = e.episode_id
            WHERE e.user_id = :id ORDER BY e.started_at DESC LIMIT :n"""),
                {"id": user_id, "n": VIEWING_HISTORY_ROWS},
            )
            .mappings()
            .all()
        )
    sub = subscriptions.current(engine, user_id)
    return {
        "account": dict(account),
        "profiles": [asdict(p) for p in viewing_profiles.list_profiles(engine, user_id)],
        "subscription": asdict(sub) if sub else None,
        "billing": statements.billing_history(engine, user_id),
        "viewing": [dict(v) for v in viewing],
    }


def _account_for_change(conn: Connection, actor: users.User, user_id: int) -> dict:
    if user_id == actor.user_id:
        raise OwnAccount("You cannot change your own account here: ask another admin.")
    row = (
        conn.execute(
            text("SELECT user_id, email, role, suspended_at FROM users WHERE user_id = :id FOR UPDATE"), {"id": user_id}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise AccountNotFound("There is no such account.")
    return dict(row)


def change_role(
    engine: Engine, user_id: int, role: str, *, acting_user_id: int | None, now: datetime | None = None
) -> None:
    """Make an account a subscriber, analyst or admin (not your own: an admin cannot lock themselves out)."""
    actor = require_admin(engine, acting_user_id)
    one_of(role, "The role", users.ROLES, field="role")
    now = clock(now)
    with engine.begin() as conn:
        before = _account_for_change(conn, actor, user_id)
        if before["role"] == role:
            return
        conn.execute(
            text("UPDATE users SET role = :r, updated_at = :now WHERE user_id = :id"),
            {"r": role, "now": now, "id": user_id},
        )
        audit.record(
            conn,
            actor,
            "user.change_role",
            "user",
            user_id,
            {"email": before["email"], "role": before["role"]},
            {"email": before["email"], "role": role},
            now,
        )


def suspend(engine: Engine, user_id: int, *, acting_user_id: int | None, now: datetime | None = None) -> None:
    """Suspend an account: it cannot sign in, and every session it holds (cookies in the app, API
    tokens) stops working on its next request, because sessions issued before `tokens_valid_after`
    are refused. Restoring the account does not bring those sessions back."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _account_for_change(conn, actor, user_id)
        if before["suspended_at"] is not None:
            raise AccountStateUnchanged("This account is already suspended.")
        conn.execute(
            text("""UPDATE users SET suspended_at = :now, tokens_valid_after = :now, updated_at = :now
                             WHERE user_id = :id"""),
            {"now": now, "id": user_id},
        )
        audit.record(
            conn,
            actor,
            "user.suspend",
            "user",
            user_id,
            {"email": before["email"], "suspended_at": None},
            {"email": before["email"], "suspended_at": now},
            now,
        )


def restore(engine: Engine, user_id: int, *, acting_user_id: int | None, now: datetime | None = None) -> None:
    """Lift a suspension: the account can sign in again (with a new sign-in)."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _account_for_change(conn, actor, user_id)
        if before["suspended_at"] is None:
            raise AccountStateUnchanged("This account is not suspended.")
        conn.execute(
            text("UPDATE users SET suspended_at = NULL, updated_at = :now WHERE user_id = :id"),
            {"now": now, "id": user_id},
        )
        audit.record(
            conn,
            actor,
            "user.restore",
            "user",
            user_id,
            {"email": before["email"], "suspended_at": before["suspended_at"]},
            {"email": before["email"], "suspended_at": None},
            now,
        )
