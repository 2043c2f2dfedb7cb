"""Shared by the discovery tests: a small catalogue written for search, maturity and similarity cases,
and helpers to make members and their viewing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import text

from backend.accounts import profiles as viewing_profiles
from backend.accounts import users
from tests.conftest import FIXTURES

DISCOVERY_CSV = FIXTURES / "discovery_titles.csv"
PASSWORD = "discovery-test-1"
_counter = itertools.count()


def member(
    engine, tag: str = "member", *, kids: bool = True
) -> tuple[users.User, viewing_profiles.Profile, viewing_profiles.Profile | None]:
    """A new account with its first (adult) profile and, when `kids`, a Kids profile."""
    user = users.register(engine, f"{tag}-{next(_counter)}-{id(engine)}@example.com", "Dana Viewer", PASSWORD)
    adult = viewing_profiles.list_profiles(engine, user.user_id)[0]
    kid = viewing_profiles.create_profile(engine, user.user_id, "Kids", is_kids=True) if kids else None
    return user, adult, kid


def title_id(engine, show_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT title_id FROM titles WHERE show_id = :s"), {"s": show_id}).scalar_one()


def watched(
    engine,
    user_id: int,
    profile_id: int,
    show_id: str,
    *,
    completed: bool = True,
    at: datetime | None = None,
    position: int = 3000,
) -> None:
    """A viewing_progress row, as the player (stream 5B) would leave it."""
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO viewing_progress (user_id, profile_id, title_id, episode_id, position_seconds,
                                          duration_seconds, completed, updated_at)
            SELECT :u, :p, t.title_id,
                   (SELECT min(e.episode_id) FROM episodes e WHERE e.title_id = t.title_id),
                   :pos, 6000, :done, :at FROM titles t WHERE t.show_id = :s
            ON CONFLICT (user_id, profile_id, title_id) DO UPDATE SET completed = EXCLUDED.completed,
                position_seconds = EXCLUDED.position_seconds, updated_at = EXCLUDED.updated_at"""),
            {
                "u": user_id,
                "p": profile_id,
                "s": show_id,
                "pos": position,
                "done": completed,
                "at": at or datetime.now(UTC),
            },
        )
