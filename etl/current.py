"""What the catalogue holds now, as a load plan needs it, and how many members' rows a plan touches."""

from __future__ import annotations

from collections.abc import Iterable

from etl.identity import Details, DetailsOf, identity_key
from etl.plan import Existing, LoadPlan

EXISTING_TITLES = """
SELECT title_id, show_id, kind, title, release_year, identity_key, coalesce(episode_seed, show_id), source_hash,
       is_active, origin, edited_at IS NOT NULL
FROM titles
"""

TITLE_DETAILS = """
SELECT t.title_id, t.title, t.date_added, t.description,
       ARRAY(SELECT p.name FROM title_people tp JOIN people p USING (person_id) WHERE tp.title_id = t.title_id)
FROM titles t WHERE t.title_id = ANY (%(ids)s)
"""

# Members' rows on each touched title, per kind of row (one scan of each table; the titles are a bound array).
MEMBER_ROWS = """
WITH touched (title_id, category) AS MATERIALIZED (
    SELECT * FROM unnest(%(ids)s::bigint[], %(categories)s::text[])
)
SELECT 'ratings', t.category, count(*) FROM ratings r JOIN touched t USING (title_id) GROUP BY 2
UNION ALL
SELECT 'progress', t.category, count(*) FROM viewing_progress v JOIN touched t USING (title_id) GROUP BY 2
UNION ALL
SELECT 'lists', t.category, count(*) FROM list_entries l JOIN touched t USING (title_id) GROUP BY 2
UNION ALL
SELECT 'viewing', t.category, count(*) FROM playback_events e JOIN touched t USING (title_id) GROUP BY 2
"""
MEMBER_ROW_KINDS = ("ratings", "progress", "lists", "viewing")


def existing_titles(cursor) -> list[Existing]:
    """Every title; the identity of titles loaded before identities were kept is read off the title itself."""
    cursor.execute(EXISTING_TITLES)
    return [
        Existing(
            title_id,
            show_id,
            title,
            identity or identity_key(kind, title, year),
            seed,
            digest,
            active,
            origin,
            edited,
        )
        for title_id, show_id, kind, title, year, identity, seed, digest, active, origin, edited in cursor.fetchall()
    ]


def details_reader(cursor) -> DetailsOf:
    """Tie-breakers of titles, read only for the titles that need them."""

    def details_of(title_ids: Iterable[int]) -> dict[int, Details]:
        ids = sorted(title_ids)
        if not ids:
            return {}
        cursor.execute(TITLE_DETAILS, {"ids": ids})
        return {
            title_id: Details(frozenset(people), title, added, description)
            for title_id, title, added, description, people in cursor.fetchall()
        }

    return details_of


def member_rows(cursor, plan: LoadPlan) -> dict[str, dict[str, int]]:
    """category -> {ratings, progress, lists, viewing} -> how many members' rows are on those titles."""
    pairs = [(title_id, category) for category, ids in plan.titles_by_category.items() for title_id in ids]
    counts = {category: dict.fromkeys(MEMBER_ROW_KINDS, 0) for category in plan.titles_by_category}
    if pairs:
        cursor.execute(MEMBER_ROWS, {"ids": [p[0] for p in pairs], "categories": [p[1] for p in pairs]})
        for kind, category, count in cursor.fetchall():
            counts[category][kind] = count
    return counts
