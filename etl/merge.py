"""Merging the staged catalogue into the live tables, set-based, in the load's transaction.

New titles are inserted, changed ones updated, titles gone from the CSV deactivated (guarded
against mass deactivation), links and generated episodes rewritten for the changed titles only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime

from etl.summary import LoadSummary

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
