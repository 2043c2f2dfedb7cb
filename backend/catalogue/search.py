"""Browsing the catalogue: typo-tolerant search, filters, sort, pages and the filter bar's facets.

Search runs on pg_trgm (GIN trigram indexes on lower(title) and lower(people.name), migration 0006): a title
matches when its title, a cast member or a director contains the query, or is similar to it (`%`, `<%`),
so "strangr thngs" finds Stranger Things. Exact titles rank first, then prefixes, then substrings and
people, then near matches by similarity. A viewing profile's maturity cap hides titles everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Engine, text

from backend.catalogue.cards import CARD_COLUMNS, Card, allowed_param, audience_condition, card_from
from backend.catalogue.rules import MAX_SEARCH_LENGTH

SORTS = {  # name -> ORDER BY (relevance falls back to newest without a query)
    "relevance": "h.tier, h.score DESC, t.date_added DESC NULLS LAST, t.title_id",
    "newest": "t.date_added DESC NULLS LAST, t.title_id DESC",
    "release_desc": "t.release_year DESC NULLS LAST, t.title, t.title_id",
    "release_asc": "t.release_year ASC NULLS LAST, t.title, t.title_id",
    "title": "lower(t.title), t.title_id",
}


SORT_LABELS = {
    "relevance": "Best match",
    "newest": "Newest on Reelhouse",
    "release_desc": "Release year (newest)",
    "release_asc": "Release year (oldest)",
    "title": "Title A–Z",
}


SIMILARITY_THRESHOLD = 0.3  # pg_trgm `%`: whole-string similarity
WORD_SIMILARITY_THRESHOLD = 0.5  # pg_trgm `<%`: the query against the closest part of a title or name
PAGE_SIZE = 24
FUZZY_BELOW = 10  # near matches are looked for when fewer titles than this contain the query
FUZZY_MAX_LENGTH = 60  # longer queries are not names: substring matches only


@dataclass(frozen=True)
class Filters:
    query: str = ""
    kinds: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    audiences: tuple[str, ...] = ()
    access_levels: tuple[str, ...] = ()
    person: str | None = None
    sort: str = "relevance"


@dataclass(frozen=True)
class Results:
    cards: list[Card]
    total: int
    page: int
    pages: int
    query: str = ""  # the query searched for, after trimming and cutting
    truncated: bool = False  # the query was longer than MAX_SEARCH_LENGTH and was cut
    notes: list[str] = field(default_factory=list)


def normalise_query(query: str | None) -> tuple[str, bool]:
    """(query lower-cased, whitespace collapsed, NULs removed, cut to MAX_SEARCH_LENGTH; whether it was cut)."""
    cleaned = " ".join((query or "").replace("\x00", " ").split()).lower()
    return cleaned[:MAX_SEARCH_LENGTH].rstrip(), len(cleaned) > MAX_SEARCH_LENGTH


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Substring matches first (GIN trigram index, LIKE): exact title, title prefix, title substring, then people;
# shorter names rank higher within a tier. Only when they are few (FUZZY_BELOW) and the query is short
# enough to be a name (FUZZY_MAX_LENGTH) are near matches added: similarity (%) or word similarity (<%).
_HITS = """
substring_hits AS (
    SELECT t.title_id,
           CASE WHEN lower(t.title) = :q THEN 0 WHEN lower(t.title) LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END AS tier,
           1.0 / length(t.title) AS score
    FROM titles t WHERE lower(t.title) LIKE :pattern ESCAPE '\\'
    UNION ALL
    SELECT tp.title_id, 3, 1.0 / length(p.name)
    FROM people p JOIN title_people tp USING (person_id) WHERE lower(p.name) LIKE :pattern ESCAPE '\\'
),
fuzzy_hits AS (
    SELECT t.title_id, 4 AS tier, similarity(lower(t.title), :q) + strict_word_similarity(:q, lower(t.title)) AS score
    FROM titles t
    WHERE :fuzzy AND (SELECT count(*) FROM substring_hits) < :fuzzy_below
      AND (lower(t.title) % :q OR :q <% lower(t.title))
    UNION ALL
    SELECT tp.title_id, 5, similarity(lower(p.name), :q) + strict_word_similarity(:q, lower(p.name))
    FROM people p JOIN title_people tp USING (person_id)
    WHERE :fuzzy AND (SELECT count(*) FROM substring_hits) < :fuzzy_below
      AND (lower(p.name) % :q OR :q <% lower(p.name))
),
hits AS (
    SELECT DISTINCT ON (title_id) title_id, tier, score
    FROM (SELECT * FROM substring_hits UNION ALL SELECT * FROM fuzzy_hits) matched
    ORDER BY title_id, tier, score DESC
)"""


# One or two characters: titles starting with them, or with a word starting with them (no fuzzy matching,
# which needs three characters to mean anything, and no people: "a" would match most of them).
_SHORT_HITS = """
hits AS (
    SELECT t.title_id,
           CASE WHEN lower(t.title) = :q THEN 0 WHEN lower(t.title) LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END AS tier,
           similarity(lower(t.title), :q) AS score
    FROM titles t
    WHERE lower(t.title) LIKE :prefix ESCAPE '\\' OR lower(t.title) LIKE :word_prefix ESCAPE '\\'
)"""


SHORT_QUERY = 3


def _conditions(filters: Filters, allowed: tuple[str, ...] | None) -> tuple[list[str], dict]:
    """WHERE clauses (fixed SQL text) and their bound values."""
    where = ["t.is_active", audience_condition()]
    params: dict = {"allowed": allowed_param(allowed)}
    if filters.kinds:
        where.append("t.kind = ANY (:kinds)")
        params["kinds"] = list(filters.kinds)
    if filters.genres:
        where.append("""EXISTS (SELECT 1 FROM title_genres tg JOIN genres g USING (genre_id)
                               WHERE tg.title_id = t.title_id AND g.name = ANY (:genres))""")
        params["genres"] = list(filters.genres)
    if filters.countries:
        where.append("""EXISTS (SELECT 1 FROM title_countries tc JOIN countries c USING (country_id)
                               WHERE tc.title_id = t.title_id AND c.name = ANY (:countries))""")
        params["countries"] = list(filters.countries)
    if filters.year_from is not None:
        where.append("t.release_year >= :year_from")
        params["year_from"] = filters.year_from
    if filters.year_to is not None:
        where.append("t.release_year <= :year_to")
        params["year_to"] = filters.year_to
    if filters.audiences:
        where.append("t.audience = ANY (:audiences)")
        params["audiences"] = list(filters.audiences)
    if filters.access_levels:
        where.append("t.access_level = ANY (:access_levels)")
        params["access_levels"] = list(filters.access_levels)
    if filters.person:
        where.append("""EXISTS (SELECT 1 FROM title_people tp JOIN people p USING (person_id)
                               WHERE tp.title_id = t.title_id AND p.name = :person)""")
        params["person"] = filters.person
    return where, params


def browse(
    engine: Engine,
    filters: Filters,
    *,
    allowed: tuple[str, ...] | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    past_last_shows_first: bool = True,
) -> Results:
    """One page of active titles matching `filters` that the profile (`allowed` audiences) may see. A page
    past the last shows the first (the web page's filters changed), or is empty (`past_last_shows_first`
    False: the API's rule, with the total still counted)."""
    query, truncated = normalise_query(filters.query)
    where, params = _conditions(filters, allowed)
    sort = filters.sort if filters.sort in SORTS else "relevance"
    if sort == "relevance" and not query:
        sort = "newest"
    # The page's ids first (with the total), then the card columns for those rows only.
    if query:
        escaped = like_escape(query)
        params |= {
            "q": query,
            "prefix": f"{escaped}%",
            "pattern": f"%{escaped}%",
            "word_prefix": f"% {escaped}%",
            "fuzzy": len(query) <= FUZZY_MAX_LENGTH,
            "fuzzy_below": FUZZY_BELOW,
        }
        ctes = (_SHORT_HITS if len(query) < SHORT_QUERY else _HITS) + ","
        source = "hits h JOIN titles t USING (title_id)"
    else:
        ctes, source = "", "titles t"
    sql = f"""WITH {ctes} page AS (
        SELECT t.title_id, count(*) OVER () AS total, row_number() OVER (ORDER BY {SORTS[sort]}) AS n
        FROM {source} WHERE {" AND ".join(where)} ORDER BY n LIMIT :limit OFFSET :offset)
    SELECT {CARD_COLUMNS}, page.total FROM page JOIN titles t USING (title_id) ORDER BY page.n"""
    page, first = max(1, int(page)), cast(Sequence[Any], [])
    with engine.connect() as conn:
        _set_thresholds(conn)
        rows = conn.execute(text(sql), params | {"limit": page_size, "offset": (page - 1) * page_size}).all()
        if not rows and page > 1:  # past the last page (the filters changed): show the first, or count
            first = conn.execute(
                text(sql), params | {"limit": 1 if not past_last_shows_first else page_size, "offset": 0}
            ).all()
            if past_last_shows_first:
                page, rows = 1, first
    total = rows[0].total if rows else first[0].total if first else 0
    notes = [f"Your search was cut to its first {MAX_SEARCH_LENGTH} characters."] if truncated else []
    return Results(
        [card_from(r) for r in rows], total, page, max(1, math.ceil(total / page_size)), query, truncated, notes
    )


def _set_thresholds(conn) -> None:
    conn.execute(
        text(
            "SELECT set_config('pg_trgm.similarity_threshold', :s, true), "
            "set_config('pg_trgm.word_similarity_threshold', :w, true)"
        ),
        {"s": str(SIMILARITY_THRESHOLD), "w": str(WORD_SIMILARITY_THRESHOLD)},
    )


@dataclass(frozen=True)
class Facets:
    genres: list[str]
    countries: list[str]
    year_min: int
    year_max: int


def facets(engine: Engine) -> Facets:
    """The filter choices: genres (A-Z), countries (most titles first) and the release-year range."""
    with engine.connect() as conn:
        genres = list(
            conn.execute(
                text("""SELECT DISTINCT g.name FROM genres g JOIN title_genres tg USING (genre_id)
                                      JOIN titles t USING (title_id) WHERE t.is_active ORDER BY g.name""")
            ).scalars()
        )
        countries = list(
            conn.execute(
                text("""
            SELECT c.name FROM countries c JOIN title_countries tc USING (country_id) JOIN titles t USING (title_id)
            WHERE t.is_active GROUP BY c.name ORDER BY count(*) DESC, c.name""")
            ).scalars()
        )
        low, high = conn.execute(text("SELECT min(release_year), max(release_year) FROM titles WHERE is_active")).one()
    this_year = date.today().year
    return Facets(genres, countries, low or this_year, high or this_year)
