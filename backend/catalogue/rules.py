"""Catalogue rules (shared by the ETL, the seeder and the app) and catalogue queries."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, text

from backend.core.settings import get_settings


class Audience(StrEnum):
    """Audience groups, youngest first, as Netflix groups maturity ratings; unrated titles are apart."""

    KIDS = "kids"
    OLDER_KIDS = "older_kids"
    TEENS = "teens"
    ADULTS = "adults"
    UNRATED = "unrated"


class AccessLevel(StrEnum):
    """The level a title needs and a plan gives, lowest first: a plan plays titles of its own level and of
    every lower one (Basic: Basic or Free; Premium: everything). Free titles play for every signed-in
    member, with or without a subscription."""

    FREE = "free"
    BASIC = "basic"
    PREMIUM = "premium"


AUDIENCES = tuple(a.value for a in Audience)
RATED_AUDIENCES = AUDIENCES[:-1]  # youngest first: a maturity cap allows its own group and the younger ones
KIDS_PROFILE_CAP = Audience.OLDER_KIDS.value  # a Kids profile's cap unless one is set
KIDS_AUDIENCES = RATED_AUDIENCES[: RATED_AUDIENCES.index(KIDS_PROFILE_CAP) + 1]
ACCESS_LEVELS = tuple(a.value for a in AccessLevel)  # lowest first


def level_includes(plan_level: str | None, title_level: str) -> bool:
    """Whether a plan of `plan_level` (None: no plan) plays a title of `title_level`."""
    if title_level == AccessLevel.FREE:
        return True
    return plan_level in ACCESS_LEVELS and ACCESS_LEVELS.index(plan_level) >= ACCESS_LEVELS.index(title_level)


def level_summary(plan_level: str | None) -> str:
    """What a plan of this level plays, in words."""
    if plan_level == AccessLevel.PREMIUM:
        return "every title, the newest included"
    if plan_level == AccessLevel.BASIC:
        return f"the free titles and every title released before {PREMIUM_FROM_RELEASE_YEAR}"
    return "the free titles"


# Maturity rating -> audience group, as Netflix groups them (little kids, older kids, teens, mature).
AUDIENCE_BY_RATING: dict[str, str] = {
    "TV-Y": "kids",
    "TV-G": "kids",
    "G": "kids",
    "TV-Y7": "older_kids",
    "TV-Y7-FV": "older_kids",
    "PG": "older_kids",
    "TV-PG": "older_kids",
    "PG-13": "teens",
    "TV-14": "teens",
    "R": "adults",
    "NC-17": "adults",
    "TV-MA": "adults",
}
UNRATED_LABELS = {"", "NR", "UR"}

# Access level rule: the newest releases (this year or later) are premium, the back catalogue basic.
# Fixed, not relative to "now", so a title's tier never changes by itself.
PREMIUM_FROM_RELEASE_YEAR = 2020

# Generated episodes: 6-12 per season, one running time per series (22-60 min); derived from
# CRC32 of the show id, so every run and every machine generates the same episodes.
EPISODES_PER_SEASON = (6, 12)
EPISODE_MINUTES = (22, 60)
MAX_SEARCH_LENGTH = 200


def audience_for(rating: str | None) -> str:
    """The audience group of a maturity rating; missing, NR and UR are 'unrated'."""
    rating = (rating or "").strip().upper()
    if rating in UNRATED_LABELS:
        return "unrated"
    return AUDIENCE_BY_RATING.get(rating, "unrated")


def access_level_for(release_year: int | None) -> str:
    if release_year is not None and release_year >= PREMIUM_FROM_RELEASE_YEAR:
        return "premium"
    return "basic"


def _stable_pick(key: str, low: int, high: int) -> int:
    return low + zlib.crc32(key.encode()) % (high - low + 1)


@dataclass(frozen=True)
class EpisodePlan:
    """How many episodes each season of a series has, and their running time."""

    episodes_per_season: tuple[int, ...]
    minutes: int

    def episodes(self) -> list[tuple[int, int]]:
        """(season_number, episode_number) pairs, in order."""
        return [
            (season, number)
            for season, count in enumerate(self.episodes_per_season, start=1)
            for number in range(1, count + 1)
        ]


def episode_plan(show_id: str, seasons: int) -> EpisodePlan:
    """The deterministic episode layout of a series with `seasons` seasons; episodes are named
    'Episode N'. The ETL expands it in SQL (generate_series)."""
    counts = tuple(_stable_pick(f"{show_id}/season/{season}", *EPISODES_PER_SEASON) for season in range(1, seasons + 1))
    return EpisodePlan(counts, _stable_pick(f"{show_id}/minutes", *EPISODE_MINUTES))


# --- queries -------------------------------------------------------------------------------------


def catalogue_counts(engine: Engine) -> dict[str, int]:
    """Active titles by kind: {'titles', 'movies', 'tv_shows'}."""
    sql = text("""
        SELECT count(*) AS titles,
               count(*) FILTER (WHERE kind = 'movie') AS movies,
               count(*) FILTER (WHERE kind = 'tv_show') AS tv_shows
        FROM titles WHERE is_active
    """)
    with engine.connect() as conn:
        return dict(conn.execute(sql).mappings().one())


KAGGLE_DATASET = "shivamb/netflix-shows"
CATALOGUE_CSV_NAME = "netflix_titles.csv"


def how_to_load_the_catalogue() -> str:
    data_dir = get_settings().data_dir
    return (
        f"No catalogue CSV found. Download '{CATALOGUE_CSV_NAME}' from the Kaggle dataset {KAGGLE_DATASET} "
        f"(https://www.kaggle.com/datasets/{KAGGLE_DATASET}) and either put it at {data_dir}/{CATALOGUE_CSV_NAME}, "
        "set NETFLIX_CSV=/path/to/netflix_titles.csv, or pass --csv PATH to `python -m etl.load_catalogue`."
    )
