"""What each member wants to be told (migration 0013): reminders, the weekly new-titles note and its genres,
and whether these optional notes also come by email.

Messages about the member's money and access (receipts, a failed payment, the end of a subscription, a
started trial) are always sent, in the app and by email; only the optional notes can be turned off. A member
who never saved preferences gets the defaults: everything on, and the new-titles note in the three genres
they watch, rate and list most. Choosing genres replaces those three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, text

from backend.core.errors import Refusal

MAX_GENRES = 10


class PreferencesRefused(Refusal):
    code = "preferences_refused"


@dataclass(frozen=True)
class Preferences:
    reminders: bool = True  # "renews / trial ends / subscription ends in 3 days"
    new_titles: bool = True  # the weekly note of titles added in the member's genres
    email: bool = True  # the optional notes by email too (in-app always)
    genre_ids: tuple[int, ...] = field(default=())  # () = the three genres they watch most


def of_member(conn: Connection, user_id: int) -> Preferences:
    row = (
        conn.execute(
            text("SELECT reminders, new_titles, email FROM notification_preferences WHERE user_id = :u"),
            {"u": user_id},
        )
        .mappings()
        .first()
    )
    genres = tuple(
        conn.execute(
            text("SELECT genre_id FROM followed_genres WHERE user_id = :u ORDER BY genre_id"), {"u": user_id}
        ).scalars()
    )
    return Preferences(**(dict(row) if row else {}), genre_ids=genres)


def preferences(engine: Engine, user_id: int) -> Preferences:
    with engine.connect() as conn:
        return of_member(conn, user_id)


def genre_names(engine: Engine) -> dict[int, str]:
    """Every genre a member can follow, by name."""
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT genre_id, name FROM genres ORDER BY name")).all())


def save(
    engine: Engine,
    user_id: int,
    *,
    reminders: bool,
    new_titles: bool,
    email: bool,
    genre_ids: Iterable[int],
    now: datetime,
) -> Preferences:
    """Store the member's choices (all of them, in one transaction); unknown genres are refused."""
    chosen = sorted({int(g) for g in genre_ids})
    if len(chosen) > MAX_GENRES:
        raise PreferencesRefused(f"Choose at most {MAX_GENRES} genres.")
    with engine.begin() as conn:
        known = set(conn.execute(text("SELECT genre_id FROM genres WHERE genre_id = ANY(:g)"), {"g": chosen}).scalars())
        if known != set(chosen):
            raise PreferencesRefused("One of the genres no longer exists: reload the page and choose again.")
        conn.execute(
            text("""
            INSERT INTO notification_preferences (user_id, reminders, new_titles, email, updated_at)
            VALUES (:u, :reminders, :new_titles, :email, :now)
            ON CONFLICT (user_id) DO UPDATE SET reminders = EXCLUDED.reminders, new_titles = EXCLUDED.new_titles,
                email = EXCLUDED.email, updated_at = EXCLUDED.updated_at"""),
            {"u": user_id, "reminders": reminders, "new_titles": new_titles, "email": email, "now": now},
        )
        conn.execute(
            text("DELETE FROM followed_genres WHERE user_id = :u AND NOT (genre_id = ANY(:g))"),
            {"u": user_id, "g": chosen},
        )
        conn.execute(
            text("""
            INSERT INTO followed_genres (user_id, genre_id, followed_at)
            SELECT :u, g, :now FROM unnest(CAST(:g AS bigint[])) AS g
            ON CONFLICT (user_id, genre_id) DO NOTHING"""),
            {"u": user_id, "g": chosen, "now": now},
        )
        return of_member(conn, user_id)
