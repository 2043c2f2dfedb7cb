"""What plays: a title as the player sees it, its episodes in order, and running times."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from backend.catalogue import titles as catalogue_titles
from backend.catalogue.titles import Episode

FILM_FALLBACK_MINUTES = 90  # a film without a known running time


@dataclass(frozen=True)
class WatchTitle:
    title_id: int
    show_id: str
    title: str
    kind: str
    description: str
    release_year: int | None
    maturity_rating: str | None
    audience: str
    access_level: str
    duration_minutes: int | None
    seasons: int | None

    @property
    def is_series(self) -> bool:
        return self.kind == "tv_show"


def find_title(engine: Engine, show_id: str) -> WatchTitle | None:
    """An active title by its show id (e.g. 's123'); None if there is none."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text("""
            SELECT title_id, show_id, title, kind, description, release_year, maturity_rating, audience,
                   access_level, duration_minutes, seasons
            FROM titles WHERE show_id = :s AND is_active"""),
                {"s": (show_id or "")[:40]},
            )
            .mappings()
            .first()
        )
    return WatchTitle(**row) if row else None


def episodes(engine: Engine, title_id: int) -> list[Episode]:
    """The series' active episodes in order."""
    return [episode for season in catalogue_titles.episodes(engine, title_id).values() for episode in season]


def next_episode(engine: Engine, title_id: int, episode_id: int) -> Episode | None:
    with engine.connect() as conn:
        return next_episode_in(conn, title_id, episode_id)


def next_episode_in(conn: Connection, title_id: int, episode_id: int | None) -> Episode | None:
    if episode_id is None:
        return None
    row = conn.execute(
        text("""
        SELECT n.episode_id, n.season_number, n.episode_number, n.name, n.duration_minutes
        FROM episodes e JOIN episodes n ON n.title_id = e.title_id AND n.is_active
             AND (n.season_number, n.episode_number) > (e.season_number, e.episode_number)
        WHERE e.episode_id = :e AND e.title_id = :t
        ORDER BY n.season_number, n.episode_number LIMIT 1"""),
        {"e": episode_id, "t": title_id},
    ).first()
    return Episode(*row) if row else None


def duration_seconds(title: WatchTitle, episode: Episode | None) -> int:
    """The real running time of what plays: the episode's for a series, the film's otherwise."""
    minutes = episode.duration_minutes if episode is not None else title.duration_minutes
    return 60 * (minutes or FILM_FALLBACK_MINUTES)


def episode_by_id(conn: Connection, title_id: int, episode_id: int) -> Episode | None:
    row = conn.execute(
        text("""
        SELECT episode_id, season_number, episode_number, name, duration_minutes FROM episodes
        WHERE episode_id = :e AND title_id = :t AND is_active"""),
        {"e": episode_id, "t": title_id},
    ).first()
    return Episode(*row) if row else None


def first_episode(conn: Connection, title_id: int) -> Episode | None:
    row = conn.execute(
        text("""
        SELECT episode_id, season_number, episode_number, name, duration_minutes FROM episodes
        WHERE title_id = :t AND is_active ORDER BY season_number, episode_number LIMIT 1"""),
        {"t": title_id},
    ).first()
    return Episode(*row) if row else None
