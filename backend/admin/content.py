"""Admin management of the catalogue: add, edit, deactivate and reactivate titles, each audited.

An edit (or a (de)activation) marks the title `edited_at`, so the catalogue ETL keeps it as the admin
left it unless it runs with `--overwrite-edits`. Titles added here get show ids `a<title_id>` and
`origin = 'admin'`: the CSV never deactivates them. Series get generated episodes like the ETL's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import Connection, Engine, text

from backend.admin.checks import AdminError, TitleNotFound, TitleStateUnchanged, one_of, require_admin, whole_number
from backend.catalogue import rules as catalogue_rules
from backend.catalogue.rules import ACCESS_LEVELS
from backend.core import audit
from backend.core.clock import clock

KINDS = {"movie": "Movie", "tv_show": "TV Show"}
MATURITY_RATINGS = (*catalogue_rules.AUDIENCE_BY_RATING, "NR")  # "" = not rated
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_GENRES = 10
MAX_GENRE_NAME = 60
RELEASE_YEARS = (1880, 2100)
MOVIE_MINUTES = (1, 1000)
SEASONS = (1, 60)


@dataclass(frozen=True)
class TitleInput:
    """A title as the admin enters it; `check_title` validates it."""

    title: str
    kind: str = "movie"
    description: str = ""
    release_year: int | str = 2024
    maturity_rating: str = ""
    access_level: str = "basic"
    duration_minutes: int | str | None = None  # movies
    seasons: int | str | None = None  # series
    genres: list[str] = field(default_factory=list)
    date_added: date | None = None


def _genres(names: list[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names or []:
        name = " ".join(str(name).split())
        if name and name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    if not cleaned:
        raise AdminError("Choose at least one genre.", field="genres")
    if len(cleaned) > MAX_GENRES:
        raise AdminError(f"A title has at most {MAX_GENRES} genres.", field="genres")
    if any(len(n) > MAX_GENRE_NAME for n in cleaned):
        raise AdminError(f"Genre names are at most {MAX_GENRE_NAME} characters.", field="genres")
    return cleaned


def check_title(entry: TitleInput) -> dict:
    """The validated title's columns (and genres), or AdminError naming the first field that is wrong."""
    name = " ".join((entry.title or "").split())
    if not name:
        raise AdminError("Enter the title.", field="title")
    if len(name) > MAX_TITLE:
        raise AdminError(f"Titles are at most {MAX_TITLE} characters.", field="title")
    kind = one_of(entry.kind, "The type", tuple(KINDS), field="kind")
    description = (entry.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise AdminError(f"The description is at most {MAX_DESCRIPTION} characters.", field="description")
    rating = (entry.maturity_rating or "").strip().upper()
    if rating and rating not in MATURITY_RATINGS:
        raise AdminError(
            f"The maturity rating must be one of: {', '.join(MATURITY_RATINGS)} (or not rated).",
            field="maturity_rating",
        )
    values = {
        "title": name,
        "kind": kind,
        "description": description,
        "release_year": whole_number(entry.release_year, "The release year", *RELEASE_YEARS, field="release_year"),
        "maturity_rating": rating or None,
        "audience": catalogue_rules.audience_for(rating),
        "access_level": one_of(entry.access_level, "The access level", ACCESS_LEVELS, field="access_level"),
        "duration_minutes": None,
        "seasons": None,
        "date_added": entry.date_added,
    }
    if kind == "movie":
        values["duration_minutes"] = whole_number(
            entry.duration_minutes or "", "The running time (minutes)", *MOVIE_MINUTES, field="duration_minutes"
        )
    else:
        values["seasons"] = whole_number(entry.seasons or "", "The number of seasons", *SEASONS, field="seasons")
    return values | {"genres": _genres(entry.genres)}


TITLE_COLUMNS = (
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
    "is_active",
    "origin",
    "edited_at",
)


def _title(conn: Connection, title_id: int, *, lock: bool = False) -> dict:
    row = (
        conn.execute(
            text(
                f"""
        SELECT title_id, {", ".join(TITLE_COLUMNS)},
               ARRAY(SELECT g.name FROM title_genres tg JOIN genres g USING (genre_id)
                     WHERE tg.title_id = t.title_id ORDER BY tg.position) AS genres
        FROM titles t WHERE title_id = :id"""
                + (" FOR UPDATE" if lock else "")
            ),
            {"id": title_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise TitleNotFound("There is no such title.")
    return dict(row)


def genre_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM genres ORDER BY name")).scalars())


_TITLE_FILTER = """(:q = '' OR strpos(lower(title), :q) > 0 OR lower(show_id) = :q)
    AND (:status = 'all' OR (:status = 'active' AND is_active) OR (:status = 'inactive' AND NOT is_active)
         OR (:status = 'edited' AND edited_at IS NOT NULL))"""


def find_titles(
    engine: Engine, query: str = "", *, acting_user_id: int | None, status: str = "all", limit: int = 50
) -> list[dict]:
    """Titles whose title or show id contains `query` (any case), active or not; newest first."""
    return find_titles_page(engine, query, acting_user_id=acting_user_id, status=status, limit=limit)[0]


def find_titles_page(
    engine: Engine,
    query: str = "",
    *,
    acting_user_id: int | None,
    status: str = "all",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """`limit` of the matching titles from `offset` (as `find_titles` orders them), and how many match."""
    require_admin(engine, acting_user_id)
    one_of(status, "The status", ("all", "active", "inactive", "edited"))
    query = (query or "").strip().lower()[: catalogue_rules.MAX_SEARCH_LENGTH]
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(f"""
            SELECT title_id, show_id, title, kind, release_year, maturity_rating, access_level, is_active, origin,
                   edited_at, count(*) OVER () AS total
            FROM titles WHERE {_TITLE_FILTER}
            ORDER BY date_added DESC NULLS LAST, title_id DESC LIMIT :limit OFFSET :offset"""),
                {"q": query, "status": status, "limit": max(1, min(limit, 500)), "offset": max(0, offset)},
            )
            .mappings()
            .all()
        )
    total = rows[0]["total"] if rows else _count_titles(engine, query, status) if offset else 0
    return [{k: v for k, v in r.items() if k != "total"} for r in rows], total


def _count_titles(engine: Engine, query: str, status: str) -> int:
    """How many titles match (asked only for a page past the last)."""
    with engine.connect() as conn:
        return conn.execute(
            text(f"SELECT count(*) FROM titles WHERE {_TITLE_FILTER}"),
            {"q": query, "status": status},
        ).scalar_one()


def get_title(engine: Engine, title_id: int, *, acting_user_id: int | None) -> dict:
    require_admin(engine, acting_user_id)
    with engine.connect() as conn:
        return _title(conn, title_id)


def _set_genres(conn: Connection, title_id: int, names: list[str]) -> None:
    conn.execute(
        text("INSERT INTO genres (name) SELECT unnest(CAST(:names AS text[])) ON CONFLICT (name) DO NOTHING"),
        {"names": names},
    )
    conn.execute(text("DELETE FROM title_genres WHERE title_id = :id"), {"id": title_id})
    conn.execute(
        text("""
        INSERT INTO title_genres (title_id, genre_id, position)
        SELECT :id, g.genre_id, x.position FROM unnest(CAST(:names AS text[])) WITH ORDINALITY x (name, position)
        JOIN genres g ON g.name = x.name"""),
        {"id": title_id, "names": names},
    )


def _sync_episodes(conn: Connection, title_id: int, episode_seed: str, seasons: int | None) -> None:
    """Generated episodes for a series' seasons, as the ETL makes them (from the title's episode seed, its first
    show id); those beyond are deactivated."""
    wanted = catalogue_rules.episode_plan(episode_seed, seasons).episodes() if seasons else []
    minutes = catalogue_rules.episode_plan(episode_seed, seasons).minutes if seasons else 1
    if wanted:
        conn.execute(
            text("""
            INSERT INTO episodes (title_id, season_number, episode_number, name, duration_minutes, is_generated)
            SELECT :id, s, e, 'Episode ' || e, :minutes, TRUE
            FROM unnest(CAST(:seasons AS int[]), CAST(:episodes AS int[])) x (s, e)
            ON CONFLICT (title_id, season_number, episode_number) DO UPDATE SET is_active = TRUE"""),
            {"id": title_id, "minutes": minutes, "seasons": [s for s, _ in wanted], "episodes": [e for _, e in wanted]},
        )
    conn.execute(
        text("""
        UPDATE episodes SET is_active = FALSE
        WHERE title_id = :id AND is_active AND is_generated
          AND NOT ((season_number, episode_number) IN (SELECT * FROM unnest(CAST(:seasons AS int[]),
                                                                           CAST(:episodes AS int[]))))"""),
        {"id": title_id, "seasons": [s for s, _ in wanted], "episodes": [e for _, e in wanted]},
    )


def _audited(values: dict) -> dict:
    return {k: v for k, v in values.items() if k != "audience"}


def create_title(engine: Engine, entry: TitleInput, *, acting_user_id: int | None, now: datetime | None = None) -> dict:
    """Add a title to the catalogue (active at once). Returns {'title_id', 'show_id'}."""
    actor = require_admin(engine, acting_user_id)
    values, now = check_title(entry), clock(now)
    values["date_added"] = values["date_added"] or now.date()
    with engine.begin() as conn:
        title_id = conn.execute(text("SELECT nextval(pg_get_serial_sequence('titles', 'title_id'))")).scalar_one()
        show_id = f"a{title_id}"
        conn.execute(
            text("""
            INSERT INTO titles (title_id, show_id, kind, title, description, release_year, date_added, maturity_rating,
                                audience, duration_minutes, seasons, access_level, is_active, origin, edited_at,
                                episode_seed, created_at, updated_at)
            VALUES (:id, :show_id, :kind, :title, :description, :release_year, :date_added, :maturity_rating,
                    :audience, :duration_minutes, :seasons, :access_level, TRUE, 'admin', :now, :show_id,
                    :now, :now)"""),
            values | {"id": title_id, "show_id": show_id, "now": now},
        )
        _set_genres(conn, title_id, values["genres"])
        _sync_episodes(conn, title_id, show_id, values["seasons"])
        audit.record(conn, actor, "title.create", "title", show_id, None, _audited(values), now)
    return {"title_id": title_id, "show_id": show_id}


EDITABLE = (
    "title",
    "description",
    "release_year",
    "date_added",
    "maturity_rating",
    "access_level",
    "duration_minutes",
    "seasons",
    "genres",
)


def update_title(
    engine: Engine, title_id: int, entry: TitleInput, *, acting_user_id: int | None, now: datetime | None = None
) -> dict:
    """Edit a title's metadata, genres, maturity and access level (its type stays). The edit survives the
    next ETL run unless that run overwrites edits. Returns the changed fields (empty: nothing to do)."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _title(conn, title_id, lock=True)
        values = check_title(replace(entry, kind=before["kind"], date_added=entry.date_added or before["date_added"]))
        old, new = audit.changed_fields({k: before[k] for k in EDITABLE}, {k: values[k] for k in EDITABLE})
        if not new:
            return {}
        conn.execute(
            text("""
            UPDATE titles SET title = :title, description = :description, release_year = :release_year,
                   date_added = :date_added, maturity_rating = :maturity_rating, audience = :audience,
                   duration_minutes = :duration_minutes, seasons = :seasons, access_level = :access_level,
                   edited_at = :now, updated_at = :now
            WHERE title_id = :id"""),
            values | {"id": title_id, "now": now},
        )
        if "genres" in new:
            _set_genres(conn, title_id, values["genres"])
        if "seasons" in new:
            seed = conn.execute(
                text("SELECT coalesce(episode_seed, show_id) FROM titles WHERE title_id = :id"), {"id": title_id}
            ).scalar_one()
            _sync_episodes(conn, title_id, seed, values["seasons"])
        audit.record(conn, actor, "title.update", "title", before["show_id"], old, new, now)
    return new


def patch_title(
    engine: Engine,
    title_id: int,
    changes: Mapping[str, object],
    *,
    acting_user_id: int | None,
    now: datetime | None = None,
) -> dict:
    """Change the given fields of a title (the others stay as they are); as `update_title` otherwise."""
    require_admin(engine, acting_user_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise AdminError(f"Titles have no editable field {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    with engine.connect() as conn:
        before = _title(conn, title_id)
    current = {k: before[k] for k in EDITABLE} | {"maturity_rating": before["maturity_rating"] or ""}
    entry = TitleInput(**(current | dict(changes) | {"kind": before["kind"]}))
    return update_title(engine, title_id, entry, acting_user_id=acting_user_id, now=now)


def delete_title(engine: Engine, title_id: int, *, acting_user_id: int | None, now: datetime | None = None) -> None:
    """Take a title out of the catalogue for good, as far as members see (idempotent): it is hidden, never
    removed, so viewing history, ratings and the analytics keep pointing at it."""
    require_admin(engine, acting_user_id)
    with engine.connect() as conn:
        active = _title(conn, title_id)["is_active"]
    if active:
        set_title_active(engine, title_id, False, acting_user_id=acting_user_id, now=now)


def set_title_active(
    engine: Engine, title_id: int, active: bool, *, acting_user_id: int | None, now: datetime | None = None
) -> None:
    """Take a title out of the catalogue (never deleted: viewing history points at it) or bring it back.
    Kept that way by later ETL runs unless they overwrite edits."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _title(conn, title_id, lock=True)
        if before["is_active"] == active:
            raise TitleStateUnchanged(f"This title is already {'active' if active else 'inactive'}.")
        conn.execute(
            text("UPDATE titles SET is_active = :a, edited_at = :now, updated_at = :now WHERE title_id = :id"),
            {"a": active, "now": now, "id": title_id},
        )
        audit.record(
            conn,
            actor,
            "title.activate" if active else "title.deactivate",
            "title",
            before["show_id"],
            {"is_active": before["is_active"]},
            {"is_active": active},
            now,
        )
