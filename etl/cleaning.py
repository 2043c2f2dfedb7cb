"""Turn rows of the Kaggle Netflix CSV into clean catalogue records, or reasons for rejecting them.

Pure functions: no database. The quirks handled here are those of the real file (leading
spaces in `date_added`, durations in the `rating` column, trailing commas in `country`...).
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TextIO

from backend.catalogue.rules import EpisodePlan, access_level_for, audience_for, episode_plan

REQUIRED_COLUMNS = (
    "show_id",
    "type",
    "title",
    "director",
    "cast",
    "country",
    "date_added",
    "release_year",
    "rating",
    "duration",
    "listed_in",
    "description",
)
KINDS = {"Movie": "movie", "TV Show": "tv_show"}
DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%Y-%m-%d")
MINUTES = re.compile(r"^(\d+)\s*min$", re.IGNORECASE)
SEASONS = re.compile(r"^(\d+)\s*Seasons?$", re.IGNORECASE)


class BadHeader(ValueError):
    pass


@dataclass
class CleanTitle:
    row_number: int
    show_id: str
    kind: str
    title: str
    description: str
    release_year: int | None
    date_added: date | None
    maturity_rating: str | None
    audience: str
    duration_minutes: int | None
    seasons: int | None
    access_level: str
    genres: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    directors: list[str] = field(default_factory=list)
    cast: list[str] = field(default_factory=list)

    def episode_plan(self) -> EpisodePlan | None:
        return episode_plan(self.show_id, self.seasons) if self.kind == "tv_show" and self.seasons else None


@dataclass(frozen=True)
class Rejection:
    row_number: int
    show_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row_number}" + (f" ({self.show_id})" if self.show_id else "")
        return f"{where}: {self.reason}"


@dataclass
class CleanCatalogue:
    titles: list[CleanTitle]
    rejected: list[Rejection]


class RowError(ValueError):
    pass


def split_list(value: str) -> list[str]:
    """'a, b,, a,' -> ['a', 'b']: trimmed, empties dropped, first occurrence kept."""
    if not value:
        return []
    names = dict.fromkeys(" ".join(part.split()) for part in value.split(","))
    names.pop("", None)
    return list(names)


@functools.lru_cache(maxsize=4096)  # ~1,700 distinct dates in 8,807 rows; strptime is slow
def parse_date_added(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise RowError(f"date_added {value!r} is not a date like 'September 25, 2021'")


def parse_release_year(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1880 <= int(value) <= 2100:
        raise RowError(f"release_year {value!r} is not a year")
    return int(value)


def fix_rating_and_duration(rating: str, duration: str) -> tuple[str, str]:
    """Three rows of the Kaggle file hold the duration ('74 min') in `rating` and nothing in `duration`."""
    if MINUTES.match(rating) and not duration:
        return "", rating
    return rating, duration


def parse_duration(duration: str) -> tuple[int | None, int | None]:
    """'90 min' -> (90, None); '2 Seasons' -> (None, 2); '' -> (None, None)."""
    if not duration:
        return None, None
    if match := MINUTES.match(duration):
        minutes = int(match.group(1))
        if minutes > 0:
            return minutes, None
    if match := SEASONS.match(duration):
        seasons = int(match.group(1))
        if seasons > 0:
            return None, seasons
    raise RowError(f"duration {duration!r} is neither 'N min' nor 'N Season(s)'")


def clean_record(row_number: int, record: dict[str | None, str | list | None]) -> CleanTitle:
    if None in record:
        raise RowError(f"has {len(REQUIRED_COLUMNS) + len(record[None])} fields, expected {len(REQUIRED_COLUMNS)}")
    if any(record[column] is None for column in REQUIRED_COLUMNS):
        raise RowError(f"has fewer than the {len(REQUIRED_COLUMNS)} expected fields")
    raw = {column: str(record[column]).strip() for column in REQUIRED_COLUMNS}

    if not raw["show_id"]:
        raise RowError("show_id is empty")
    kind = KINDS.get(raw["type"])
    if kind is None:
        raise RowError(f"type {raw['type']!r} is neither 'Movie' nor 'TV Show'")
    title = " ".join(raw["title"].split())
    if not title:
        raise RowError("title is empty")

    rating, duration = fix_rating_and_duration(raw["rating"], raw["duration"])
    minutes, seasons = parse_duration(duration)
    release_year = parse_release_year(raw["release_year"])
    return CleanTitle(
        row_number=row_number,
        show_id=raw["show_id"],
        kind=kind,
        title=title,
        description=raw["description"],
        release_year=release_year,
        date_added=parse_date_added(raw["date_added"]),
        maturity_rating=rating.upper() or None,
        audience=audience_for(rating),
        duration_minutes=minutes,
        seasons=seasons,
        access_level=access_level_for(release_year),
        genres=split_list(raw["listed_in"]),
        countries=split_list(raw["country"]),
        directors=split_list(raw["director"]),
        cast=split_list(raw["cast"]),
    )


def read_records(stream: TextIO) -> Iterator[tuple[int, dict]]:
    """(row number, record) for each data row; row 1 is the first row after the header."""
    reader = csv.DictReader(stream)
    header = [name.strip().lstrip("\ufeff") for name in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise BadHeader(f"the CSV header lacks column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}")
    reader.fieldnames = header
    yield from enumerate(reader, start=1)


def clean_catalogue(records: Iterable[tuple[int, dict]]) -> CleanCatalogue:
    titles: list[CleanTitle] = []
    rejected: list[Rejection] = []
    first_row_of: dict[str, int] = {}
    for row_number, record in records:
        show_id = (record.get("show_id") or "").strip() or None
        try:
            title = clean_record(row_number, record)
        except RowError as error:
            rejected.append(Rejection(row_number, show_id, str(error)))
            continue
        if title.show_id in first_row_of:
            reason = f"duplicate show_id (first seen in row {first_row_of[title.show_id]})"
            rejected.append(Rejection(row_number, title.show_id, reason))
            continue
        first_row_of[title.show_id] = row_number
        titles.append(title)
    return CleanCatalogue(titles, rejected)
