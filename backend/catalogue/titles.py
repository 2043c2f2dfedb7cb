"""One title's details and its seasons and episodes, and the catalogue's version (for caches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, text

from backend.catalogue.cards import CARD_COLUMNS, Card, card_from


@dataclass(frozen=True)
class TitleDetails:
    card: Card
    description: str
    date_added: date | None
    seasons: int | None
    duration_minutes: int | None
    countries: tuple[str, ...]
    directors: tuple[str, ...]
    cast: tuple[str, ...]


@dataclass(frozen=True)
class Episode:
    episode_id: int
    season_number: int
    episode_number: int
    name: str
    duration_minutes: int

    @property
    def label(self) -> str:
        return f"S{self.season_number} E{self.episode_number}"


def find_title(engine: Engine, show_id: str) -> tuple[TitleDetails | None, bool]:
    """(the active title with this show id or None, whether it exists at all). Maturity is checked by
    `visible_to`."""
    with engine.connect() as conn:
        row = conn.execute(
            text(f"""
            SELECT {CARD_COLUMNS}, t.description, t.date_added, t.seasons, t.duration_minutes,
                   ARRAY(SELECT c.name FROM title_countries tc JOIN countries c USING (country_id)
                         WHERE tc.title_id = t.title_id ORDER BY tc.position) AS countries,
                   ARRAY(SELECT p.name FROM title_people tp JOIN people p USING (person_id)
                         WHERE tp.title_id = t.title_id AND tp.role = 'director' ORDER BY tp.position) AS directors,
                   ARRAY(SELECT p.name FROM title_people tp JOIN people p USING (person_id)
                         WHERE tp.title_id = t.title_id AND tp.role = 'cast' ORDER BY tp.position) AS cast_names
            FROM titles t WHERE t.show_id = :show_id AND t.is_active"""),
            {"show_id": (show_id or "")[:40]},
        ).first()
    if row is None:
        return None, False
    return TitleDetails(
        card_from(row),
        row.description,
        row.date_added,
        row.seasons,
        row.duration_minutes,
        tuple(row.countries),
        tuple(row.directors),
        tuple(row.cast_names),
    ), True


def episodes(engine: Engine, title_id: int) -> dict[int, list[Episode]]:
    """Active episodes of a series by season, in order."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT episode_id, season_number, episode_number, name, duration_minutes FROM episodes
            WHERE title_id = :id AND is_active ORDER BY season_number, episode_number"""),
            {"id": title_id},
        ).all()
    seasons: dict[int, list[Episode]] = {}
    for row in rows:
        seasons.setdefault(row.season_number, []).append(Episode(**row._mapping))
    return seasons


def catalogue_version(engine: Engine) -> tuple:
    """Changes whenever the catalogue does (a load, an admin edit): the key of cached models."""
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text("""SELECT count(*), max(updated_at), count(*) FILTER (WHERE is_active)
                                          FROM titles""")
            ).one()
        )
