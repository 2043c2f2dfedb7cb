"""Turn rows of the Kaggle Netflix CSV into clean catalogue records, or reasons for rejecting them.

Pure functions: no database. The quirks handled here are those of the real file (leading
spaces in `date_added`, durations in the `rating` column, trailing commas in `country`...) and of its copies
(`date_added` in other formats, detected per file: etl.dates).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from backend.catalogue.rules import access_level_for, audience_for
from etl import dates
from etl.identity import identity_key
from etl.reading import CsvRows

KINDS = {"Movie": "movie", "TV Show": "tv_show"}
# Positions of the fields in a checked row (etl.reading.REQUIRED_COLUMNS order).
SHOW_ID, TYPE, TITLE, DIRECTOR, CAST, COUNTRY, DATE_ADDED, RELEASE_YEAR, RATING, DURATION, LISTED_IN, DESCRIPTION = (
    range(12)
)
UNUSUAL_SPACE = re.compile(r"\s\s|[^\S ]")  # a run of spaces, or a space other than ' '

MINUTES = re.compile(r"^(\d+)\s*min$", re.IGNORECASE)
SEASONS = re.compile(r"^(\d+)\s*Seasons?$", re.IGNORECASE)
# Retired show ids (a title whose id the source gave to another title) end in "~<title_id>".
RETIRED_MARK = "~"
NOT_IN_IDS = re.compile(r"[\s~]")
MAX_SHOW_ID = 40


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
    identity: str = ""  # etl.identity.identity_key of kind, title and release year

    def __post_init__(self) -> None:
        self.identity = self.identity or identity_key(self.kind, self.title, self.release_year)


@dataclass(frozen=True)
class Rejection:
    row_number: int
    show_id: str | None
    reason: str
    cause: str = "row"  # what was wrong, for counting alike rejections: a column name, "fields", "show_id"...
    identity: str | None = None  # what title the row names, when that much of it is readable

    def __str__(self) -> str:
        where = f"row {self.row_number}" + (f" ({self.show_id})" if self.show_id else "")
        return f"{where}: {self.reason}"


@dataclass
class CleanCatalogue:
    titles: list[CleanTitle]
    rejected: list[Rejection]
    rows: int = 0
    date_styles: Counter = field(default_factory=Counter)  # date_added format -> rows


class RowError(ValueError):
    def __init__(self, message: str, cause: str = "row") -> None:
        super().__init__(message)
        self.cause = cause


def split_list(value: str) -> list[str]:
    """'a, b,, a,' -> ['a', 'b']: trimmed, empties dropped, first occurrence kept."""
    if not value:
        return []
    if UNUSUAL_SPACE.search(value):
        names = dict.fromkeys(" ".join(part.split()) for part in value.split(","))
    else:
        names = dict.fromkeys([part.strip() for part in value.split(",")])
    names.pop("", None)
    return list(names)


def parse_release_year(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1880 <= int(value) <= 2100:
        raise RowError(f"release_year {value!r} is not a year", "release_year")
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
    raise RowError(f"duration {duration!r} is neither 'N min' nor 'N Season(s)'", "duration")


def check_show_id(show_id: str) -> str:
    if not show_id:
        raise RowError("show_id is empty", "show_id")
    if len(show_id) > MAX_SHOW_ID or NOT_IN_IDS.search(show_id):
        raise RowError(
            f"show_id {show_id[:MAX_SHOW_ID]!r} is not an id (at most {MAX_SHOW_ID} characters, no spaces or "
            f"{RETIRED_MARK!r})",
            "show_id",
        )
    return show_id


def check_fields(fields: list[str], rows: CsvRows) -> list[str]:
    """The row's required fields, trimmed, in REQUIRED_COLUMNS order (SHOW_ID, TYPE...)."""
    if len(fields) != rows.width:
        message = (
            f"has {len(fields)} fields, expected {rows.width}"
            if len(fields) > rows.width
            else f"has fewer than the {rows.width} expected fields"
        )
        if any("\n" in f for f in fields):
            message += " (a quote left open swallows the lines after it?)"
        raise RowError(message, "fields")
    return [fields[i].strip() for i in rows.positions]


def clean_record(row_number: int, raw: list[str]) -> CleanTitle:
    """The row cleaned, all but its `date_added` (read once the file's date formats are known)."""
    show_id = check_show_id(raw[SHOW_ID])
    kind = KINDS.get(raw[TYPE])
    if kind is None:
        raise RowError(f"type {raw[TYPE]!r} is neither 'Movie' nor 'TV Show'", "type")
    title = " ".join(raw[TITLE].split())
    if not title:
        raise RowError("title is empty", "title")

    rating, duration = fix_rating_and_duration(raw[RATING], raw[DURATION])
    minutes, seasons = parse_duration(duration)
    release_year = parse_release_year(raw[RELEASE_YEAR])
    return CleanTitle(
        row_number=row_number,
        show_id=show_id,
        kind=kind,
        title=title,
        description=raw[DESCRIPTION],
        release_year=release_year,
        date_added=None,
        maturity_rating=rating.upper() or None,
        audience=audience_for(rating),
        duration_minutes=minutes,
        seasons=seasons,
        access_level=access_level_for(release_year),
        genres=split_list(raw[LISTED_IN]),
        countries=split_list(raw[COUNTRY]),
        directors=split_list(raw[DIRECTOR]),
        cast=split_list(raw[CAST]),
    )


def named_identity(raw: list[str]) -> str | None:
    """The identity of the title a rejected row names, when its type, title and year are readable."""
    kind, title = KINDS.get(raw[TYPE]), " ".join(raw[TITLE].split())
    try:
        year = parse_release_year(raw[RELEASE_YEAR])
    except RowError:
        return None
    return identity_key(kind, title, year) if kind and title else None


def clean_catalogue(records: CsvRows) -> CleanCatalogue:
    """Clean titles and rejections; `date_added` is read in the formats this file uses (etl.dates)."""
    cleaned: list[tuple[CleanTitle, str]] = []  # with the raw date_added
    rejected: list[Rejection] = []
    total = 0
    show_id_at = records.positions[SHOW_ID]
    for row_number, fields in records:
        total += 1
        try:
            raw = check_fields(fields, records)
        except RowError as error:
            show_id = fields[show_id_at].strip() if len(fields) > show_id_at else None
            rejected.append(Rejection(row_number, show_id or None, str(error), error.cause))
            continue
        try:
            cleaned.append((clean_record(row_number, raw), raw[DATE_ADDED]))
        except RowError as error:
            rejected.append(Rejection(row_number, raw[SHOW_ID] or None, str(error), error.cause, named_identity(raw)))
    date_reader = dates.detect(raw_date for _, raw_date in cleaned)
    titles: list[CleanTitle] = []
    first_row_of: dict[str, int] = {}
    for title, raw_date in cleaned:
        try:
            title.date_added = date_reader.parse(raw_date)
        except ValueError as error:
            rejected.append(Rejection(title.row_number, title.show_id, str(error), "date_added", title.identity))
            continue
        if title.show_id in first_row_of:
            reason = f"duplicate show_id (first seen in row {first_row_of[title.show_id]})"
            rejected.append(Rejection(title.row_number, title.show_id, reason, "duplicate show_id", title.identity))
            continue
        first_row_of[title.show_id] = title.row_number
        titles.append(title)
    rejected.sort(key=lambda r: r.row_number)
    return CleanCatalogue(titles, rejected, total, date_reader.styles)
