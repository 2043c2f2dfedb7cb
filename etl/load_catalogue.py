"""Load the Kaggle Netflix catalogue: `python -m etl.load_catalogue [--csv PATH] [--json]`.

Rows are cleaned in Python, COPYed into a temporary staging table (one row per title, its lists
split into arrays in SQL) and merged with set-based SQL in one transaction: a failed or interrupted run leaves
the previous catalogue as it was, a re-run changes nothing, titles gone from the CSV are
deactivated (never deleted), and only new or changed titles have their links rewritten.
Titles an admin edited in the app (`titles.edited_at`) or added there (`origin = 'admin'`) are kept as
they are unless `--overwrite-edits` is given (admin-added titles are never deactivated for being absent).
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

import database
from backend.catalogue.rules import catalogue_counts
from backend.core import jobs, locks
from backend.core.settings import run_cli
from etl.cleaning import BadHeader, CleanCatalogue, CleanTitle, Rejection, clean_catalogue, read_records
from etl.source import CatalogueCsvNotFound, find_catalogue_csv

JOB_NAME = "catalogue_etl"
StepCallback = Callable[[str, int, int], None]


@dataclass
class LoadSummary:
    titles: int = 0
    movies: int = 0
    tv_shows: int = 0
    genres: int = 0
    countries: int = 0
    people: int = 0
    episodes: int = 0
    inserted: int = 0
    updated: int = 0
    deactivated: int = 0
    rejected: int = 0
    kept_edits: int = 0
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("rejections")
        return data


# --- staging ---------------------------------------------------------------------------------------

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


# --- merge (set-based SQL) ---------------------------------------------------------------------------

# A title edited by an admin is left alone unless the run overwrites edits; then it takes the CSV's values
# again (even where the CSV itself did not change) and is no longer marked as edited.
FIND_CHANGES = """
CREATE TEMP TABLE changed_titles ON COMMIT DROP AS
SELECT s.show_id, t.title_id IS NULL AS is_new
FROM stage_titles s LEFT JOIN titles t USING (show_id)
WHERE t.title_id IS NULL
   OR ((t.edited_at IS NULL OR %(overwrite)s)
       AND (t.source_hash IS DISTINCT FROM s.source_hash OR NOT t.is_active OR t.edited_at IS NOT NULL));
"""

COUNT_KEPT_EDITS = """
SELECT count(*) FROM stage_titles s JOIN titles t USING (show_id)
WHERE t.edited_at IS NOT NULL AND NOT %(overwrite)s;
"""

INSERT_NEW_TITLES = """
INSERT INTO titles (show_id, kind, title, description, release_year, date_added, maturity_rating, audience,
                    duration_minutes, seasons, access_level, source_hash, is_active, created_at, updated_at)
SELECT s.show_id, s.kind, s.title, s.description, s.release_year, s.date_added, s.maturity_rating, s.audience,
       s.duration_minutes, s.seasons, s.access_level, s.source_hash, TRUE, %(now)s, %(now)s
FROM stage_titles s JOIN changed_titles c USING (show_id)
WHERE c.is_new
ORDER BY s.show_id;
"""

UPDATE_CHANGED_TITLES = """
UPDATE titles t SET
    kind = s.kind, title = s.title, description = s.description, release_year = s.release_year,
    date_added = s.date_added, maturity_rating = s.maturity_rating, audience = s.audience,
    duration_minutes = s.duration_minutes, seasons = s.seasons, access_level = s.access_level,
    source_hash = s.source_hash, is_active = TRUE, edited_at = NULL, updated_at = %(now)s
FROM stage_titles s JOIN changed_titles c USING (show_id)
WHERE t.show_id = s.show_id AND NOT c.is_new;
"""

# Titles the CSV can take away: not added in the app, and not edited there unless edits are overwritten.
CSV_OWNED = "t.origin = 'csv' AND (t.edited_at IS NULL OR %(overwrite)s)"

COUNT_MISSING = f"""
SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM stage_titles s WHERE s.show_id = t.show_id)), count(*)
FROM titles t WHERE t.is_active AND {CSV_OWNED};
"""

DEACTIVATE_MISSING = f"""
UPDATE titles t SET is_active = FALSE, edited_at = NULL, updated_at = %(now)s
WHERE t.is_active AND {CSV_OWNED} AND NOT EXISTS (SELECT 1 FROM stage_titles s WHERE s.show_id = t.show_id);
"""

CHANGED_IDS = """
CREATE TEMP TABLE changed_ids ON COMMIT DROP AS
SELECT t.title_id, s.genres, s.countries, s.directors, s.cast_members
FROM titles t JOIN changed_titles USING (show_id) JOIN stage_titles s USING (show_id);
"""

# Links are exploded from the staged arrays where they are used (never materialised).
GENRE_LINKS = (
    "SELECT c.title_id, x.name, x.position FROM changed_ids c, unnest(c.genres) WITH ORDINALITY x (name, position)"
)
COUNTRY_LINKS = (
    "SELECT c.title_id, x.name, x.position FROM changed_ids c, unnest(c.countries) WITH ORDINALITY x (name, position)"
)
PEOPLE_LINKS = """
SELECT c.title_id, 'director' AS role, x.name, x.position
FROM changed_ids c, unnest(c.directors) WITH ORDINALITY x (name, position)
UNION ALL
SELECT c.title_id, 'cast', x.name, x.position
FROM changed_ids c, unnest(c.cast_members) WITH ORDINALITY x (name, position)
"""

# The name tables are locked against other writers (reads go on) for the rest of the load,
# so new names are found with NOT EXISTS and inserted plainly, without per-row ON CONFLICT.
INSERT_NEW_NAMES = f"""
LOCK TABLE genres, countries, people IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO genres (name)
SELECT DISTINCT l.name FROM ({GENRE_LINKS}) l
WHERE NOT EXISTS (SELECT 1 FROM genres g WHERE g.name = l.name) ORDER BY 1;
INSERT INTO countries (name)
SELECT DISTINCT l.name FROM ({COUNTRY_LINKS}) l
WHERE NOT EXISTS (SELECT 1 FROM countries k WHERE k.name = l.name) ORDER BY 1;
INSERT INTO people (name)
SELECT DISTINCT l.name FROM ({PEOPLE_LINKS}) l
WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.name = l.name) ORDER BY 1;
"""

REPLACE_LINKS = f"""
DELETE FROM title_genres WHERE title_id IN (SELECT title_id FROM changed_ids);
DELETE FROM title_countries WHERE title_id IN (SELECT title_id FROM changed_ids);
DELETE FROM title_people WHERE title_id IN (SELECT title_id FROM changed_ids);

INSERT INTO title_genres (title_id, genre_id, position)
SELECT l.title_id, g.genre_id, l.position FROM ({GENRE_LINKS}) l JOIN genres g ON g.name = l.name
ORDER BY 1, 2;

INSERT INTO title_countries (title_id, country_id, position)
SELECT l.title_id, k.country_id, l.position FROM ({COUNTRY_LINKS}) l JOIN countries k ON k.name = l.name
ORDER BY 1, 2;

INSERT INTO title_people (title_id, person_id, role, position)
SELECT l.title_id, p.person_id, l.role, l.position FROM ({PEOPLE_LINKS}) l JOIN people p ON p.name = l.name
ORDER BY 1, 3, 2;
"""

# Episodes expanded from the staged plan; new series get a plain insert, changed ones a merge.
MERGE_EPISODES = """
CREATE TEMP TABLE changed_episodes ON COMMIT DROP AS
SELECT t.title_id, c.is_new, season.number AS season_number, episode AS episode_number,
       'Episode ' || episode AS name, s.episode_minutes AS duration_minutes
FROM stage_titles s
JOIN changed_titles c USING (show_id)
JOIN titles t USING (show_id)
CROSS JOIN LATERAL unnest(s.episodes_per_season) WITH ORDINALITY AS season (episodes, number)
CROSS JOIN LATERAL generate_series(1, season.episodes) AS episode;

INSERT INTO episodes (title_id, season_number, episode_number, name, duration_minutes, is_generated, is_active)
SELECT title_id, season_number, episode_number, name, duration_minutes, TRUE, TRUE
FROM changed_episodes WHERE is_new
ORDER BY 1, 2, 3;

INSERT INTO episodes (title_id, season_number, episode_number, name, duration_minutes, is_generated, is_active)
SELECT title_id, season_number, episode_number, name, duration_minutes, TRUE, TRUE
FROM changed_episodes WHERE NOT is_new
ORDER BY 1, 2, 3
ON CONFLICT (title_id, season_number, episode_number) DO UPDATE SET
    is_active = TRUE, duration_minutes = EXCLUDED.duration_minutes
WHERE episodes.is_generated;

-- Generated episodes beyond a changed series' current seasons: kept for history, no longer offered.
UPDATE episodes ep SET is_active = FALSE
FROM titles t JOIN changed_titles c USING (show_id)
WHERE NOT c.is_new AND ep.title_id = t.title_id AND ep.is_active AND ep.is_generated
  AND NOT EXISTS (SELECT 1 FROM changed_episodes e WHERE e.title_id = ep.title_id
                  AND e.season_number = ep.season_number AND e.episode_number = ep.episode_number);
"""

ACTIVE_CATALOGUE_COUNTS = """
SELECT
  (SELECT count(DISTINCT genre_id) FROM title_genres JOIN titles USING (title_id) WHERE is_active),
  (SELECT count(DISTINCT country_id) FROM title_countries JOIN titles USING (title_id) WHERE is_active),
  (SELECT count(DISTINCT person_id) FROM title_people JOIN titles USING (title_id) WHERE is_active),
  (SELECT count(*) FROM episodes e JOIN titles t USING (title_id) WHERE t.is_active AND e.is_active)
"""

# Above this many new or changed titles (a first load, a full refresh) the link tables are rewritten
# in PostgreSQL's bulk-loading way: their foreign keys and non-unique indexes are dropped and built
# again afterwards, one join or one sort each, instead of a trigger query and index insertions per
# row (the keys alone cost about 1.7 s of a full load on a 2-core machine). Small re-runs keep them.
BULK_CHANGE_THRESHOLD = 1000
BULK_TABLES = ("title_genres", "title_countries", "title_people", "episodes")


@contextmanager
def bulk_load_mode(cursor, tables: Sequence[str]):
    """Drop the foreign keys and non-unique indexes of `tables`, run the block, re-create them
    (re-adding a key re-checks every row).

    Only inside a transaction: if the block fails, the rollback restores them. Dropping a key locks
    the referenced table exclusively until commit, so catalogue reads wait out the load (~1 s).
    """
    cursor.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE contype = 'f' AND conrelid = ANY (%(tables)s::regclass[]) ORDER BY 1, 2""",
        {"tables": list(tables)},
    )
    keys = cursor.fetchall()
    cursor.execute(
        """SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
           WHERE indrelid = ANY (%(tables)s::regclass[]) AND NOT indisunique ORDER BY 1""",
        {"tables": list(tables)},
    )
    indexes = cursor.fetchall()
    for table, name, _ in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    for _, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


# A CSV that would take away more than this share of the active catalogue is refused (a wrong or
# truncated file) unless the analyst confirms it with --allow-mass-deactivation.
MAX_DEACTIVATION_SHARE = 0.5


class MassDeactivation(ValueError):
    pass


def check_deactivations(cursor, allow_mass_deactivation: bool, overwrite_edits: bool = False) -> None:
    cursor.execute(COUNT_MISSING, {"overwrite": overwrite_edits})
    missing, active = cursor.fetchone()
    if missing > MAX_DEACTIVATION_SHARE * active and not allow_mass_deactivation:
        raise MassDeactivation(
            f"this CSV lacks {missing:,} of the {active:,} active titles ({missing / active:.0%}), which would be "
            "deactivated; if that is intended, run again with --allow-mass-deactivation"
        )


def merge(
    cursor,
    now: datetime,
    summary: LoadSummary,
    step: Callable[[str], None],
    *,
    allow_mass_deactivation: bool = False,
    overwrite_edits: bool = False,
) -> None:
    check_deactivations(cursor, allow_mass_deactivation, overwrite_edits)
    cursor.execute(COUNT_KEPT_EDITS, {"overwrite": overwrite_edits})
    summary.kept_edits = cursor.fetchone()[0]
    cursor.execute(FIND_CHANGES, {"overwrite": overwrite_edits})
    cursor.execute("SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM changed_titles")
    summary.inserted, summary.updated = cursor.fetchone()
    cursor.execute(INSERT_NEW_TITLES, {"now": now})
    cursor.execute(UPDATE_CHANGED_TITLES, {"now": now})
    cursor.execute(DEACTIVATE_MISSING, {"now": now, "overwrite": overwrite_edits})
    summary.deactivated = cursor.rowcount
    step("titles merged")
    bulk = summary.inserted + summary.updated >= BULK_CHANGE_THRESHOLD
    with bulk_load_mode(cursor, BULK_TABLES) if bulk else nullcontext():
        cursor.execute(CHANGED_IDS)
        cursor.execute(INSERT_NEW_NAMES)
        cursor.execute(REPLACE_LINKS)
        step("genres, countries and people linked")
        cursor.execute(MERGE_EPISODES)
    step("episodes generated")


class NoValidRows(ValueError):
    pass


# --- the load ----------------------------------------------------------------------------------------

LOAD_STEPS = (
    "CSV read and cleaned",
    "staged with COPY",
    "titles merged",
    "genres, countries and people linked",
    "episodes generated",
    "committed",
)


@contextmanager
def _gc_paused():
    """A load creates ~300k small objects that live until it ends: automatic collections meanwhile
    (~0.1 s each) would free nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_catalogue(csv_path: Path) -> CleanCatalogue:
    with open(csv_path, encoding="utf-8-sig", newline="") as stream:
        return clean_catalogue(read_records(stream))


def load_catalogue(
    engine: Engine,
    csv_path: Path,
    *,
    on_step: StepCallback | None = None,
    allow_mass_deactivation: bool = False,
    overwrite_edits: bool = False,
) -> LoadSummary:
    """Clean and load `csv_path` in one transaction; returns what changed and what is there now."""
    with _gc_paused():
        return _load(engine, csv_path, on_step, allow_mass_deactivation, overwrite_edits)


def _load(
    engine: Engine,
    csv_path: Path,
    on_step: StepCallback | None,
    allow_mass_deactivation: bool,
    overwrite_edits: bool = False,
) -> LoadSummary:
    started = time.perf_counter()
    done = 0

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if on_step:
            on_step(name, done, len(LOAD_STEPS))

    catalogue = read_catalogue(csv_path)
    if not catalogue.titles:
        raise NoValidRows("the CSV has no valid title rows; the catalogue was left as it was")
    step("CSV read and cleaned")
    summary = LoadSummary(rejected=len(catalogue.rejected), rejections=catalogue.rejected)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (locks.CATALOGUE_LOAD,))
        # All or nothing either way; not waiting for the WAL flush at commit only risks losing the
        # whole (re-runnable) load if the server crashes in that instant.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")  # the link sorts fit in memory
        cursor.execute("SET LOCAL lock_timeout = '15s'")  # give up (and roll back) rather than queue forever
        cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")  # the fingerprints hash dates as text
        cursor.execute(STAGE_TABLE)
        copy_csv(cursor, "stage_raw", STAGE_COLUMNS, map(stage_row, catalogue.titles), not_null=NOT_NULL_TEXT_COLUMNS)
        cursor.execute(SPLIT_STAGE)
        step("staged with COPY")
        merge(
            cursor, now, summary, step, allow_mass_deactivation=allow_mass_deactivation, overwrite_edits=overwrite_edits
        )
        cursor.execute(ACTIVE_CATALOGUE_COUNTS)
        summary.genres, summary.countries, summary.people, summary.episodes = cursor.fetchone()
    step("committed")
    counts = catalogue_counts(engine)
    summary.titles, summary.movies, summary.tv_shows = counts["titles"], counts["movies"], counts["tv_shows"]
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def run_logged(
    engine: Engine,
    csv_path: Path,
    *,
    started_by: str = "cli",
    on_step: StepCallback | None = None,
    allow_mass_deactivation: bool = False,
    overwrite_edits: bool = False,
) -> LoadSummary:
    """`load_catalogue` with a row in the run log, marked failed if the load raises (or is interrupted)."""
    parameters = {
        "csv": str(csv_path),
        "allow_mass_deactivation": allow_mass_deactivation,
        "overwrite_edits": overwrite_edits,
    }
    run_id = jobs.start_run(engine, JOB_NAME, parameters, started_by=started_by)
    try:
        summary = load_catalogue(
            engine,
            csv_path,
            on_step=on_step,
            allow_mass_deactivation=allow_mass_deactivation,
            overwrite_edits=overwrite_edits,
        )
    except BaseException as error:
        jobs.finish_run(engine, run_id, error=f"{type(error).__name__}: {error}".rstrip(": "))
        raise
    details = summary.as_json() | {"rejections": [str(r) for r in summary.rejections[:1000]]}
    jobs.finish_run(engine, run_id, summary=details)
    return summary


# --- CLI -------------------------------------------------------------------------------------------


def _terminal_progress() -> tuple[StepCallback, Callable[[], None]]:
    """A tqdm bar on stderr when it is a terminal (silent otherwise)."""
    from tqdm import tqdm

    bar = tqdm(
        total=len(LOAD_STEPS),
        desc="Loading catalogue",
        unit="step",
        file=sys.stderr,
        disable=None,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total}{postfix}",
    )

    def on_step(name: str, done: int, total: int) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    return on_step, bar.close


def summary_lines(summary: LoadSummary, csv_path: Path | str) -> list[str]:
    """The summary the CLI prints (the data-operations page shows the same lines)."""
    lines = [
        f"Catalogue loaded from {csv_path} in {summary.seconds:.2f} s",
        f"  titles     {summary.titles:>7,}  ({summary.movies:,} movies, {summary.tv_shows:,} TV shows)",
        f"  genres     {summary.genres:>7,}",
        f"  countries  {summary.countries:>7,}",
        f"  people     {summary.people:>7,}",
        f"  episodes   {summary.episodes:>7,}  (generated)",
        f"  changes    {summary.inserted:,} inserted, {summary.updated:,} updated, "
        f"{summary.deactivated:,} deactivated, {summary.rejected:,} rejected",
    ]
    if summary.kept_edits:
        lines.append(f"  kept       {summary.kept_edits:>7,}  admin-edited titles (--overwrite-edits replaces them)")
    return lines


def _print_summary(summary: LoadSummary, csv_path: Path) -> None:
    print("\n".join(summary_lines(summary, csv_path)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.load_catalogue", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="path of netflix_titles.csv (default: $NETFLIX_CSV, data/, or Kaggle)")
    parser.add_argument("--json", action="store_true", help="print one JSON line with the summary")
    parser.add_argument(
        "--allow-mass-deactivation",
        action="store_true",
        help=f"accept a CSV that lacks over {MAX_DEACTIVATION_SHARE * 100:.0f}%% of the active titles",
    )
    parser.add_argument(
        "--overwrite-edits",
        action="store_true",
        help="replace titles edited or deactivated by an admin in the app with the CSV's values",
    )
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="only load when no catalogue is loaded yet; a missing CSV is then not an error",
    )
    args = parser.parse_args(argv)

    engine = database.get_engine()
    if args.if_empty and catalogue_counts(engine)["titles"]:
        print("Catalogue already loaded; nothing to do.", file=sys.stderr)
        return 0
    try:
        csv_path = find_catalogue_csv(args.csv)
    except CatalogueCsvNotFound as error:
        print(error, file=sys.stderr)
        return 0 if args.if_empty else 2

    on_step, close_progress = _terminal_progress()
    try:
        summary = run_logged(
            engine,
            csv_path,
            on_step=on_step,
            allow_mass_deactivation=args.allow_mass_deactivation,
            overwrite_edits=args.overwrite_edits,
        )
    except (BadHeader, NoValidRows, MassDeactivation) as error:
        print(f"\n{csv_path}: {error}. Nothing was changed.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted: the previous catalogue is unchanged.", file=sys.stderr)
        return 130
    finally:
        close_progress()

    for rejection in summary.rejections:
        print(f"rejected {rejection}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.as_json()))
    else:
        _print_summary(summary, csv_path)
    return 0


if __name__ == "__main__":
    run_cli(main)
