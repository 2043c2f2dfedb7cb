"""A profile's own library: My List, and ratings (thumbs down / up / love) with an optional short review.

Everything is per profile and keyed by (user_id, profile_id); the foreign key to profiles means a
profile of another account can never be written to. Upserts follow scale-out rule 7: the conflict
target includes user_id and updates use only EXCLUDED values (times come from Python).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from backend.catalogue.cards import Card, allowed_param, audience_condition, cards_by_ids
from backend.core.clock import clock
from backend.core.errors import Refusal

MAX_REVIEW_LENGTH = 500
SCORES = {-1: "Not for me", 1: "I like this", 2: "Love this!"}


class LibraryError(Refusal):
    """Bad input (a review too long, an unknown score); the field says which."""


class TitleUnavailable(LibraryError):
    """No title with this id is in the catalogue for this profile (its maturity cap included)."""

    kind = "not_found"
    code = "title_not_found"


@dataclass(frozen=True)
class Rating:
    score: int
    review: str | None
    updated_at: datetime


@dataclass(frozen=True)
class RatingSummary:
    down: int
    up: int
    love: int

    @property
    def total(self) -> int:
        return self.down + self.up + self.love

    @property
    def liked_share(self) -> float | None:
        """Share of ratings that are up or love; None without ratings."""
        return (self.up + self.love) / self.total if self.total else None


@dataclass(frozen=True)
class Review:
    score: int
    text: str
    updated_at: datetime
    mine: bool


def _visible_title_id(conn, show_id: str, allowed: tuple[str, ...] | None) -> int:
    title_id = conn.execute(
        text(f"""SELECT title_id FROM titles t WHERE t.show_id = :show_id AND t.is_active
                                     AND {audience_condition()}"""),
        {"show_id": (show_id or "")[:40], "allowed": allowed_param(allowed)},
    ).scalar()
    if title_id is None:
        raise TitleUnavailable("That title is not available for this profile.", field="show_id")
    return title_id


# --- My List ------------------------------------------------------------------------------------


def add_to_list(
    engine: Engine,
    user_id: int,
    profile_id: int,
    show_id: str,
    *,
    allowed: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> None:
    """Add a title to the profile's list (again: no change)."""
    with engine.begin() as conn:
        title_id = _visible_title_id(conn, show_id, allowed)
        conn.execute(
            text("""INSERT INTO list_entries (user_id, profile_id, title_id, added_at)
                             VALUES (:u, :p, :t, :now)
                             ON CONFLICT (user_id, profile_id, title_id) DO NOTHING"""),
            {"u": user_id, "p": profile_id, "t": title_id, "now": clock(now)},
        )


def remove_from_list(engine: Engine, user_id: int, profile_id: int, show_id: str) -> bool:
    """Take a title off the list; whether it was there."""
    with engine.begin() as conn:
        done = conn.execute(
            text("""DELETE FROM list_entries l USING titles t
                                    WHERE l.user_id = :u AND l.profile_id = :p AND l.title_id = t.title_id
                                      AND t.show_id = :show_id"""),
            {"u": user_id, "p": profile_id, "show_id": show_id},
        )
    return done.rowcount > 0


def in_list(engine: Engine, user_id: int, profile_id: int, title_id: int) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                text("""SELECT 1 FROM list_entries WHERE user_id = :u AND profile_id = :p
                                    AND title_id = :t"""),
                {"u": user_id, "p": profile_id, "t": title_id},
            ).first()
            is not None
        )


def list_title_ids(conn, user_id: int, profile_id: int, limit: int | None = None) -> list[int]:
    """The profile's list, most recently added first."""
    return list(
        conn.execute(
            text("""SELECT title_id FROM list_entries WHERE user_id = :u AND profile_id = :p
                                     ORDER BY added_at DESC, title_id LIMIT :limit"""),
            {"u": user_id, "p": profile_id, "limit": limit},
        ).scalars()
    )


def my_list(
    engine: Engine, user_id: int, profile_id: int, *, allowed: tuple[str, ...] | None = None, limit: int | None = None
) -> list[Card]:
    with engine.connect() as conn:
        return cards_by_ids(conn, list_title_ids(conn, user_id, profile_id, limit), allowed)


# --- ratings and reviews ------------------------------------------------------------------------


def clean_review(review: str | None) -> str | None:
    """The review trimmed (None when empty); too long is an error, never silently cut."""
    review = (review or "").replace("\x00", "").strip()
    if len(review) > MAX_REVIEW_LENGTH:
        raise LibraryError(
            f"Reviews are at most {MAX_REVIEW_LENGTH} characters (this one has {len(review)}).", field="review"
        )
    return review or None


def rate(
    engine: Engine,
    user_id: int,
    profile_id: int,
    show_id: str,
    score: int,
    review: str | None = None,
    *,
    allowed: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> Rating:
    """Rate a title (one rating per profile and title; rating again replaces it)."""
    if score not in SCORES:
        raise LibraryError("Choose thumbs down, thumbs up or love.", field="score")
    review, now = clean_review(review), clock(now)
    with engine.begin() as conn:
        title_id = _visible_title_id(conn, show_id, allowed)
        row = conn.execute(
            text("""
            INSERT INTO ratings (user_id, profile_id, title_id, score, review, created_at, updated_at)
            VALUES (:u, :p, :t, :score, :review, :now, :now)
            ON CONFLICT (user_id, profile_id, title_id)
            DO UPDATE SET score = EXCLUDED.score, review = EXCLUDED.review, updated_at = EXCLUDED.updated_at
            RETURNING score, review, updated_at"""),
            {"u": user_id, "p": profile_id, "t": title_id, "score": score, "review": review, "now": now},
        ).one()
    return Rating(**row._mapping)


def remove_rating(engine: Engine, user_id: int, profile_id: int, title_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM ratings WHERE user_id = :u AND profile_id = :p AND title_id = :t"),
            {"u": user_id, "p": profile_id, "t": title_id},
        )


def my_rating(engine: Engine, user_id: int, profile_id: int, title_id: int) -> Rating | None:
    with engine.connect() as conn:
        row = conn.execute(
            text("""SELECT score, review, updated_at FROM ratings
                                   WHERE user_id = :u AND profile_id = :p AND title_id = :t"""),
            {"u": user_id, "p": profile_id, "t": title_id},
        ).first()
    return Rating(**row._mapping) if row else None


def rating_summary(engine: Engine, title_id: int) -> RatingSummary:
    with engine.connect() as conn:
        row = conn.execute(
            text("""SELECT count(*) FILTER (WHERE score = -1) AS down,
                                          count(*) FILTER (WHERE score = 1) AS up,
                                          count(*) FILTER (WHERE score = 2) AS love
                                   FROM ratings WHERE title_id = :t"""),
            {"t": title_id},
        ).one()
    return RatingSummary(**row._mapping)


def reviews(
    engine: Engine, title_id: int, *, user_id: int | None = None, profile_id: int | None = None, limit: int = 10
) -> list[Review]:
    """The latest written reviews of a title, anonymous (no member names are shown to others)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT score, review AS text, updated_at,
                   coalesce(user_id = :u AND profile_id = :p, false) AS mine
            FROM ratings WHERE title_id = :t AND review IS NOT NULL
            ORDER BY updated_at DESC LIMIT :limit"""),
            {"t": title_id, "u": user_id, "p": profile_id, "limit": limit},
        ).all()
    return [Review(**row._mapping) for row in rows]
