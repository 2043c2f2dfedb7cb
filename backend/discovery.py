"""Browsing the catalogue: typo-tolerant search, filters, sort and pages; title details and episodes.

Search runs on pg_trgm (GIN trigram indexes on lower(title) and lower(people.name), migration 0006): a title
matches when its title, a cast member or a director contains the query, or is similar to it (`%`, `<%`),
so "strangr thngs" finds Stranger Things. Exact titles rank first, then prefixes, then substrings and
people, then near matches by similarity. A viewing profile's maturity cap hides titles everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, text

from backend.catalogue import MAX_SEARCH_LENGTH

AUDIENCE_ORDER = ("kids", "older_kids", "teens", "adults")
AUDIENCE_LABELS = {
    "kids": "Little kids",
    "older_kids": "Older kids",
    "teens": "Teens",
    "adults": "Adults",
    "unrated": "Unrated",
}
KIND_LABELS = {"movie": "Film", "tv_show": "Series"}
ACCESS_LABELS = {"basic": "Basic", "premium": "Premium"}
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


# --- who may see what ---------------------------------------------------------------------------


def allowed_audiences(profile) -> tuple[str, ...] | None:
    """The audiences a viewing profile may see; None means every title (no cap).

    A Kids profile without an explicit cap is capped at older kids; unrated titles are shown only to
    profiles without a cap (as backend.playback decides who may play)."""
    if profile is None:
        return None
    cap = profile.maturity_cap or ("older_kids" if profile.is_kids else None)
    if cap is None or cap not in AUDIENCE_ORDER:
        return None
    return AUDIENCE_ORDER[: AUDIENCE_ORDER.index(cap) + 1]


def audience_condition(alias: str = "t") -> str:
    """SQL (bound parameter :allowed, a list or NULL) that keeps the titles a profile may see."""
    return f"(CAST(:allowed AS text[]) IS NULL OR {alias}.audience = ANY (CAST(:allowed AS text[])))"


def allowed_param(allowed: tuple[str, ...] | None) -> list[str] | None:
    return list(allowed) if allowed is not None else None


# --- cards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """What a title card shows."""

    title_id: int
    show_id: str
    title: str
    kind: str
    release_year: int | None
    maturity_rating: str | None
    audience: str
    access_level: str
    duration: str
    genres: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def access_label(self) -> str:
        return ACCESS_LABELS[self.access_level]


CARD_COLUMNS = """
    t.title_id, t.show_id, t.title, t.kind, t.release_year, t.maturity_rating, t.audience, t.access_level,
    CASE WHEN t.kind = 'movie' THEN coalesce(t.duration_minutes || ' min', '')
         ELSE coalesce(t.seasons || CASE WHEN t.seasons = 1 THEN ' season' ELSE ' seasons' END, '') END AS duration,
    ARRAY(SELECT g.name FROM title_genres tg JOIN genres g USING (genre_id)
          WHERE tg.title_id = t.title_id ORDER BY tg.position) AS genres
"""


def card_from(row) -> Card:
    values = dict(row._mapping)
    return Card(**{name: values[name] for name in Card.__dataclass_fields__} | {"genres": tuple(values["genres"])})


def cards_by_ids(conn, title_ids: list[int], allowed: tuple[str, ...] | None) -> list[Card]:
    """Cards of active titles in the order of `title_ids`, leaving out what the profile may not see."""
    if not title_ids:
        return []
    rows = conn.execute(
        text(
            f"SELECT {CARD_COLUMNS} FROM titles t WHERE t.title_id = ANY (:ids) AND t.is_active"
            f" AND {audience_condition()}"
        ),
        {"ids": list(title_ids), "allowed": allowed_param(allowed)},
    ).all()
    by_id = {row.title_id: card_from(row) for row in rows}
    return [by_id[i] for i in title_ids if i in by_id]


def cards(engine: Engine, title_ids: list[int], allowed: tuple[str, ...] | None) -> list[Card]:
    with engine.connect() as conn:
        return cards_by_ids(conn, title_ids, allowed)


# --- search and filters -------------------------------------------------------------------------


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
) -> Results:
    """One page of active titles matching `filters` that the profile (`allowed` audiences) may see."""
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
    page = max(1, int(page))
    with engine.connect() as conn:
        _set_thresholds(conn)
        rows = conn.execute(text(sql), params | {"limit": page_size, "offset": (page - 1) * page_size}).all()
        if not rows and page > 1:  # past the last page (the filters changed): show the first
            page = 1
            rows = conn.execute(text(sql), params | {"limit": page_size, "offset": 0}).all()
    total = rows[0].total if rows else 0
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
        genres = conn.execute(
            text("""SELECT DISTINCT g.name FROM genres g JOIN title_genres tg USING (genre_id)
                                      JOIN titles t USING (title_id) WHERE t.is_active ORDER BY g.name""")
        ).scalars()
        genres = list(genres)
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


# --- one title ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TitleDetails:
    card: Card
    description: str
    date_added: date | None
    seasons: int | None
    duration_minutes: int | None
    countries: tuple[str, ...]
    directors: tuple[str, ...]
    cast: tuple[str, ...]


@dataclass(frozen=True)
class Episode:
    episode_id: int
    season_number: int
    episode_number: int
    name: str
    duration_minutes: int

    @property
    def label(self) -> str:
        return f"S{self.season_number} E{self.episode_number}"


def find_title(engine: Engine, show_id: str) -> tuple[TitleDetails | None, bool]:
    """(the active title with this show id or None, whether it exists at all). Maturity is checked by
    `visible_to`."""
    with engine.connect() as conn:
        row = conn.execute(
            text(f"""
            SELECT {CARD_COLUMNS}, t.description, t.date_added, t.seasons, t.duration_minutes,
                   ARRAY(SELECT c.name FROM title_countries tc JOIN countries c USING (country_id)
                         WHERE tc.title_id = t.title_id ORDER BY tc.position) AS countries,
                   ARRAY(SELECT p.name FROM title_people tp JOIN people p USING (person_id)
                         WHERE tp.title_id = t.title_id AND tp.role = 'director' ORDER BY tp.position) AS directors,
                   ARRAY(SELECT p.name FROM title_people tp JOIN people p USING (person_id)
                         WHERE tp.title_id = t.title_id AND tp.role = 'cast' ORDER BY tp.position) AS cast_names
            FROM titles t WHERE t.show_id = :show_id AND t.is_active"""),
            {"show_id": (show_id or "")[:40]},
        ).first()
    if row is None:
        return None, False
    return TitleDetails(
        card_from(row),
        row.description,
        row.date_added,
        row.seasons,
        row.duration_minutes,
        tuple(row.countries),
        tuple(row.directors),
        tuple(row.cast_names),
    ), True


def visible_to(card: Card, allowed: tuple[str, ...] | None) -> bool:
    return allowed is None or card.audience in allowed


def episodes(engine: Engine, title_id: int) -> dict[int, list[Episode]]:
    """Active episodes of a series by season, in order."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT episode_id, season_number, episode_number, name, duration_minutes FROM episodes
            WHERE title_id = :id AND is_active ORDER BY season_number, episode_number"""),
            {"id": title_id},
        ).all()
    seasons: dict[int, list[Episode]] = {}
    for row in rows:
        seasons.setdefault(row.season_number, []).append(Episode(**row._mapping))
    return seasons


def catalogue_version(engine: Engine) -> tuple:
    """Changes whenever the catalogue does (a load, an admin edit): the key of cached models."""
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text("""SELECT count(*), max(updated_at), count(*) FILTER (WHERE is_active)
                                          FROM titles""")
            ).one()
        )
