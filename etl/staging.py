"""Staging the cleaned catalogue: one row per title with its lists, COPYed into a temporary table."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from etl.cleaning import CleanTitle

# Lists travel as one text field joined by the ASCII unit separator (never part of a cleaned name)
# and are split in SQL: no per-name quoting or escaping in Python.
LIST_SEPARATOR = "\x1f"


STAGE_TABLE = """
CREATE TEMP TABLE stage_raw (
    show_id text, kind text, title text, description text, release_year int, date_added date,
    maturity_rating text, audience text, duration_minutes int, seasons int, access_level text,
    genres text, countries text, directors text, cast_members text, episodes_per_season text, episode_minutes int
) ON COMMIT DROP;
"""


STAGE_COLUMNS = (
    "show_id",
    "kind",
    "title",
    "description",
    "release_year",
    "date_added",
    "maturity_rating",
    "audience",
    "duration_minutes",
    "seasons",
    "access_level",
    "genres",
    "countries",
    "directors",
    "cast_members",
    "episodes_per_season",
    "episode_minutes",
)


# An empty CSV field is NULL, except in these columns, where it is the empty string.
NOT_NULL_TEXT_COLUMNS = ("description",)


# Lists split into arrays, and a fingerprint of everything the load writes for a title, so that
# unchanged titles are skipped (DateStyle is pinned for the load, so the text form is stable).
SPLIT_STAGE = """
CREATE TEMP TABLE stage_titles ON COMMIT DROP AS
SELECT r.show_id, r.kind, r.title, r.description, r.release_year, r.date_added, r.maturity_rating, r.audience,
       r.duration_minutes, r.seasons, r.access_level,
       coalesce(string_to_array(r.genres, E'\\x1f'), '{}') AS genres,
       coalesce(string_to_array(r.countries, E'\\x1f'), '{}') AS countries,
       coalesce(string_to_array(r.directors, E'\\x1f'), '{}') AS directors,
       coalesce(string_to_array(r.cast_members, E'\\x1f'), '{}') AS cast_members,
       string_to_array(r.episodes_per_season, ',')::int[] AS episodes_per_season,
       r.episode_minutes,
       md5(ROW(r.kind, r.title, r.description, r.release_year, r.date_added, r.maturity_rating, r.audience,
               r.duration_minutes, r.seasons, r.access_level, r.genres, r.countries, r.directors,
               r.cast_members, r.episodes_per_season, r.episode_minutes)::text) AS source_hash
FROM stage_raw r;
ALTER TABLE stage_titles ADD PRIMARY KEY (show_id);
"""


def stage_row(t: CleanTitle) -> tuple:
    plan = t.episode_plan()
    join = LIST_SEPARATOR.join
    return (
        t.show_id,
        t.kind,
        t.title,
        t.description,
        t.release_year,
        t.date_added,
        t.maturity_rating,
        t.audience,
        t.duration_minutes,
        t.seasons,
        t.access_level,
        join(t.genres),
        join(t.countries),
        join(t.directors),
        join(t.cast),
        ",".join(map(str, plan.episodes_per_season)) if plan else None,
        plan.minutes if plan else None,
    )


def copy_csv(
    cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence], *, not_null: Sequence[str] = ()
) -> None:
    """COPY rows (str, int, date or None) into `table` as CSV (scale-out rule 11).

    None and '' are both written as an empty field, which COPY reads as NULL, except in the
    `not_null` columns (FORCE_NOT_NULL), where it reads ''.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    options = f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else ""
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv{options})", buffer)
