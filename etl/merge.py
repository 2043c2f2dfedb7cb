"""Applying a load plan (etl.plan) to the live tables, set-based, in the load's transaction.

Freed show ids first (a re-numbered file hands ids from one title to another), then changed and re-keyed
titles are updated, new ones inserted with the ids drawn for them, missing ones deactivated (never deleted:
members' history points at them); links and generated episodes are rewritten for new and changed titles only,
and the release's show ids are recorded. Every UPDATE joins only permanent tables or takes bound arrays
(scale-out rule 18): the stage is `catalogue_stage` (etl.staging).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime

from etl.plan import LoadPlan
from etl.staging import EMPTY_STAGE, copy_csv, stage

CHANGED = "s.action IN ('insert', 'update')"

RETIRE_SHOW_IDS = """
UPDATE titles SET show_id = show_id || '~' || title_id, updated_at = %(now)s WHERE title_id = ANY (%(ids)s)
"""

UPDATE_CHANGED_TITLES = """
UPDATE titles t SET
    show_id = s.show_id, kind = s.kind, title = s.title, description = s.description,
    release_year = s.release_year, date_added = s.date_added, maturity_rating = s.maturity_rating,
    audience = s.audience, duration_minutes = s.duration_minutes, seasons = s.seasons,
    access_level = s.access_level, source_hash = s.source_hash, identity_key = s.identity_key,
    episode_seed = s.episode_seed, is_active = TRUE, edited_at = NULL, updated_at = %(now)s
FROM catalogue_stage s
WHERE t.title_id = s.title_id AND s.action = 'update'
"""

REKEY_TITLES = """
UPDATE titles t SET show_id = s.show_id, identity_key = s.identity_key, episode_seed = s.episode_seed,
                    updated_at = %(now)s
FROM catalogue_stage s
WHERE t.title_id = s.title_id AND s.action = 'rekey'
"""

INSERT_NEW_TITLES = """
INSERT INTO titles (title_id, show_id, kind, title, description, release_year, date_added, maturity_rating, audience,
                    duration_minutes, seasons, access_level, source_hash, identity_key, episode_seed, is_active,
                    created_at, updated_at)
SELECT s.title_id, s.show_id, s.kind, s.title, s.description, s.release_year, s.date_added, s.maturity_rating,
       s.audience, s.duration_minutes, s.seasons, s.access_level, s.source_hash, s.identity_key, s.episode_seed,
       TRUE, %(now)s, %(now)s
FROM catalogue_stage s
WHERE s.action = 'insert'
ORDER BY s.show_id
"""

DEACTIVATE_TITLES = """
UPDATE titles SET is_active = FALSE, edited_at = NULL, updated_at = %(now)s WHERE title_id = ANY (%(ids)s)
"""

NEW_TITLE_IDS = "SELECT nextval(pg_get_serial_sequence('titles', 'title_id')) FROM generate_series(1, %(n)s)"

# Links are exploded from the staged lists where they are used (never materialised).
GENRE_LINKS = f"""
SELECT s.title_id, x.name, x.position FROM catalogue_stage s,
       unnest(string_to_array(s.genres, E'\\x1f')) WITH ORDINALITY x (name, position) WHERE {CHANGED}"""

COUNTRY_LINKS = f"""
SELECT s.title_id, x.name, x.position FROM catalogue_stage s,
       unnest(string_to_array(s.countries, E'\\x1f')) WITH ORDINALITY x (name, position) WHERE {CHANGED}"""

PEOPLE_LINKS = f"""
SELECT s.title_id, 'director' AS role, x.name, x.position FROM catalogue_stage s,
       unnest(string_to_array(s.directors, E'\\x1f')) WITH ORDINALITY x (name, position) WHERE {CHANGED}
UNION ALL
SELECT s.title_id, 'cast', x.name, x.position FROM catalogue_stage s,
       unnest(string_to_array(s.cast_members, E'\\x1f')) WITH ORDINALITY x (name, position) WHERE {CHANGED}"""

# The name tables are locked against other writers (reads go on) for the rest of the load,
# so new names are found with NOT EXISTS and inserted plainly, without per-row ON CONFLICT.
INSERT_NEW_NAMES = (
    "LOCK TABLE genres, countries, people IN SHARE ROW EXCLUSIVE MODE",
    f"""INSERT INTO genres (name) SELECT DISTINCT l.name FROM ({GENRE_LINKS}) l
        WHERE NOT EXISTS (SELECT 1 FROM genres g WHERE g.name = l.name) ORDER BY 1""",
    f"""INSERT INTO countries (name) SELECT DISTINCT l.name FROM ({COUNTRY_LINKS}) l
        WHERE NOT EXISTS (SELECT 1 FROM countries k WHERE k.name = l.name) ORDER BY 1""",
    f"""INSERT INTO people (name) SELECT DISTINCT l.name FROM ({PEOPLE_LINKS}) l
        WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.name = l.name) ORDER BY 1""",
)

UPDATED_IDS = "SELECT title_id FROM catalogue_stage WHERE action = 'update'"

REPLACE_LINKS = (
    f"DELETE FROM title_genres WHERE title_id IN ({UPDATED_IDS})",
    f"DELETE FROM title_countries WHERE title_id IN ({UPDATED_IDS})",
    f"DELETE FROM title_people WHERE title_id IN ({UPDATED_IDS})",
    f"""INSERT INTO title_genres (title_id, genre_id, position)
        SELECT l.title_id, g.genre_id, l.position FROM ({GENRE_LINKS}) l JOIN genres g ON g.name = l.name
        ORDER BY 1, 2""",
    f"""INSERT INTO title_countries (title_id, country_id, position)
        SELECT l.title_id, k.country_id, l.position FROM ({COUNTRY_LINKS}) l JOIN countries k ON k.name = l.name
        ORDER BY 1, 2""",
    f"""INSERT INTO title_people (title_id, person_id, role, position)
        SELECT l.title_id, p.person_id, l.role, l.position FROM ({PEOPLE_LINKS}) l JOIN people p ON p.name = l.name
        ORDER BY 1, 3, 2""",
)

# Episodes expanded from the staged plan ('6,9,8': episodes per season); new series get a plain insert,
# changed ones a merge that only rewrites episodes whose values change.
PLANNED_EPISODES = """
SELECT s.title_id, season.number AS season_number, episode AS episode_number, 'Episode ' || episode AS name,
       s.episode_minutes AS duration_minutes, TRUE AS is_generated, TRUE AS is_active
FROM catalogue_stage s
CROSS JOIN LATERAL unnest(string_to_array(s.episodes_per_season, ',')::int[])
     WITH ORDINALITY AS season (episodes, number)
CROSS JOIN LATERAL generate_series(1, season.episodes) AS episode
WHERE s.action = '{action}'
ORDER BY 1, 2, 3"""

EPISODE_COLUMNS = "title_id, season_number, episode_number, name, duration_minutes, is_generated, is_active"

MERGE_EPISODES = (
    f"INSERT INTO episodes ({EPISODE_COLUMNS}) {PLANNED_EPISODES.format(action='insert')}",
    f"""INSERT INTO episodes ({EPISODE_COLUMNS}) {PLANNED_EPISODES.format(action="update")}
        ON CONFLICT (title_id, season_number, episode_number) DO UPDATE SET
            is_active = TRUE, duration_minutes = EXCLUDED.duration_minutes
        WHERE episodes.is_generated
          AND (NOT episodes.is_active OR episodes.duration_minutes <> EXCLUDED.duration_minutes)""",
    # Generated episodes beyond a changed title's current seasons (all of them if it is no longer a series):
    # kept, because members' progress and history may point at them, but no longer offered.
    """UPDATE episodes ep SET is_active = FALSE
       FROM catalogue_stage s
       WHERE s.action = 'update' AND ep.title_id = s.title_id AND ep.is_active AND ep.is_generated
         AND (s.episodes_per_season IS NULL
              OR ep.season_number > cardinality(string_to_array(s.episodes_per_season, ','))
              OR ep.episode_number > (string_to_array(s.episodes_per_season, ',')::int[])[ep.season_number])""",
)

ACTIVE_CATALOGUE_COUNTS = """
SELECT
  (SELECT count(DISTINCT genre_id) FROM title_genres JOIN titles USING (title_id) WHERE is_active),
  (SELECT count(DISTINCT country_id) FROM title_countries JOIN titles USING (title_id) WHERE is_active),
  (SELECT count(DISTINCT person_id) FROM title_people JOIN titles USING (title_id) WHERE is_active),
  (SELECT count(*) FROM episodes e JOIN titles t USING (title_id) WHERE t.is_active AND e.is_active)
"""


# Above this many new, changed or re-keyed titles (a first load, a full refresh) the link tables are rewritten
# in PostgreSQL's bulk-loading way: their foreign keys and non-unique indexes are dropped and built
# again afterwards, one join or one sort each, instead of a trigger query and index insertions per
# row (the keys alone cost about 1.7 s of a full load on a 2-core machine). Small re-runs keep them.
BULK_CHANGE_THRESHOLD = 1000


BULK_TABLES = ("title_genres", "title_countries", "title_people", "episodes", "title_source_ids")


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


# How many of a release's recorded show ids still name the title that carries that show id now.
RELEASE_IDS_STILL_CURRENT = """
SELECT count(*), count(*) FILTER (WHERE t.show_id = x.show_id)
FROM title_source_ids x JOIN titles t USING (title_id) WHERE x.release_id = %(r)s
"""


def record_release(cursor, plan: LoadPlan, sha256: str, source_name: str, now: datetime) -> int:
    """The release (the file, by SHA-256) and which title each of its show ids names; returns its id.

    Run after the titles are written, when each row's title carries the row's show id."""
    cursor.execute("SELECT release_id FROM catalogue_releases WHERE content_sha256 = %(sha)s", {"sha": sha256})
    found = cursor.fetchone()
    if found:
        release_id = found[0]
        cursor.execute(
            "UPDATE catalogue_releases SET last_loaded_at = %(now)s WHERE release_id = %(r)s",
            {"now": now, "r": release_id},
        )
        cursor.execute(RELEASE_IDS_STILL_CURRENT, {"r": release_id})
        if cursor.fetchone() == (len(plan.rows), len(plan.rows)):
            return release_id  # recorded as it is (the usual re-run)
        cursor.execute("DELETE FROM title_source_ids WHERE release_id = %(r)s", {"r": release_id})
    else:
        cursor.execute(
            """INSERT INTO catalogue_releases (content_sha256, source_name, rows, first_loaded_at, last_loaded_at)
               VALUES (%(sha)s, %(name)s, %(rows)s, %(now)s, %(now)s) RETURNING release_id""",
            {"sha": sha256, "name": source_name, "rows": plan.file_rows, "now": now},
        )
        release_id = cursor.fetchone()[0]
    if all(p.action != "none" for p in plan.rows):  # every row is staged (a first load, a full refresh)
        cursor.execute(
            "INSERT INTO title_source_ids (release_id, show_id, title_id) "
            "SELECT %(r)s, show_id, title_id FROM catalogue_stage ORDER BY show_id",
            {"r": release_id},
        )
    else:
        rows = ((release_id, p.row.show_id, p.title_id) for p in plan.rows)
        copy_csv(cursor, "title_source_ids", ("release_id", "show_id", "title_id"), rows)
    return release_id


def _execute_all(cursor, statements: Sequence[str], params: dict | None = None) -> None:
    for statement in statements:  # one statement per execute (Citus forwards some as they are)
        cursor.execute(statement, params)


def apply_plan(
    cursor, plan: LoadPlan, now: datetime, step: Callable[[str], None], *, sha256: str, source_name: str
) -> None:
    """Write `plan`: titles, then links and episodes of the new and changed ones, then the release's ids."""
    new = [p for p in plan.rows if p.action == "insert"]
    if new:
        cursor.execute(NEW_TITLE_IDS, {"n": len(new)})
        for p, (title_id,) in zip(new, cursor.fetchall(), strict=True):
            p.title_id = title_id
    written = stage(cursor, plan.rows)
    step("staged with COPY")
    changed = sum(1 for p in plan.rows if p.action in ("insert", "update"))
    with bulk_load_mode(cursor, BULK_TABLES) if written >= BULK_CHANGE_THRESHOLD else nullcontext():
        if plan.retire:
            cursor.execute(RETIRE_SHOW_IDS, {"ids": plan.retire, "now": now})
        cursor.execute(UPDATE_CHANGED_TITLES, {"now": now})
        cursor.execute(REKEY_TITLES, {"now": now})
        cursor.execute(INSERT_NEW_TITLES, {"now": now})
        if plan.deactivate:
            cursor.execute(DEACTIVATE_TITLES, {"ids": plan.deactivate, "now": now})
        step("titles merged")
        if changed:
            _execute_all(cursor, INSERT_NEW_NAMES)
            _execute_all(cursor, REPLACE_LINKS)
        step("genres, countries and people linked")
        if changed:
            _execute_all(cursor, MERGE_EPISODES)
        step("episodes generated")
        record_release(cursor, plan, sha256, source_name, now)
    cursor.execute(EMPTY_STAGE)  # committed empty: the next load, or a reader, finds nothing staged
