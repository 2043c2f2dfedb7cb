"""A profile's home page: rows of titles, each saying why it is there.

Continue Watching (backend.watching.progress'), top picks and "Because you watched X"
(backend.watching.recommend), Top 10 films and series of the last complete Monday-Sunday week by views
(metrics.md: hours viewed / runtime, ties by hours, read from the `title_weekly_views` rollup), My List,
New on Reelhouse, rows for the profile's favourite genres and Recently Watched. The profile's maturity cap
applies to every row.

`python -m backend.watching.home refresh [--weeks N]` recomputes the Top 10 rollup of the last N complete weeks;
the home page computes a missing week itself (one indexed scan of that week's playback events).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, text

import database
from backend.catalogue import cards as title_cards
from backend.catalogue.cards import Card, allowed_param, audience_condition, cards_by_ids
from backend.core import locks
from backend.core.clock import clock
from backend.core.settings import run_cli
from backend.watching import library, recommend
from backend.watching import progress as watch_progress

ROW_LENGTH = 12
TOP_N = 10
FAVOURITE_GENRES = 2
FINAL_AFTER = timedelta(days=1)  # a week computed this long after its end is final
RECOMPUTE_EVERY = timedelta(minutes=15)  # otherwise it is recomputed at most this often


@dataclass
class Row:
    key: str
    title: str
    caption: str
    cards: list[Card]
    notes: dict[str, str] = field(default_factory=dict)  # show_id -> a line under the card
    progress: dict[str, float] = field(default_factory=dict)  # show_id -> share watched (Continue Watching)
    removable: bool = False
    ranked: bool = False
    ids: list[int] = field(default_factory=list, repr=False)  # the titles, until their cards are fetched


# --- Top 10: the weekly views rollup -------------------------------------------------------------


def last_complete_week(now: datetime) -> date:
    """Monday of the last Monday-Sunday week (UTC) that has ended by `now`."""
    today = now.astimezone(UTC).date()
    return today - timedelta(days=today.weekday() + 7)


def refresh_week(engine: Engine, week_start: date, now: datetime | None = None) -> int:
    """(Re)compute one week's views per title from playback_events; the number of titles with views."""
    start = datetime.combine(week_start, time(), UTC)
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.TOP10_WEEK})
        conn.execute(text("DELETE FROM title_weekly_views WHERE week_start = :w"), {"w": week_start})
        count = conn.execute(
            text("""
            INSERT INTO title_weekly_views (week_start, title_id, kind, watched_seconds, views)
            SELECT :w, t.title_id, t.kind, v.watched,
                   round(v.watched / CASE WHEN t.kind = 'movie' THEN t.duration_minutes * 60
                                          ELSE (SELECT sum(e.duration_minutes) * 60 FROM episodes e
                                                WHERE e.title_id = t.title_id AND e.is_active) END::numeric, 2)
            FROM (SELECT title_id, sum(watched_seconds) AS watched FROM playback_events
                  WHERE started_at >= :start AND started_at < :end GROUP BY title_id) v
            JOIN titles t USING (title_id)
            WHERE v.watched > 0 AND coalesce(t.duration_minutes, t.seasons) IS NOT NULL"""),
            {"w": week_start, "start": start, "end": start + timedelta(days=7)},
        ).rowcount
        conn.execute(
            text("""INSERT INTO title_weekly_views_runs (week_start, refreshed_at) VALUES (:w, :now)
                             ON CONFLICT (week_start) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at"""),
            {"w": week_start, "now": clock(now)},
        )
    return count


def ensure_week(engine: Engine, week_start: date, now: datetime) -> None:
    """Compute the week if it never was, or was computed before it could be final and a while ago."""
    with engine.connect() as conn:
        refreshed = conn.execute(
            text("SELECT refreshed_at FROM title_weekly_views_runs WHERE week_start = :w"), {"w": week_start}
        ).scalar()
    week_end = datetime.combine(week_start + timedelta(days=7), time(), UTC)
    if refreshed is None or (refreshed < week_end + FINAL_AFTER and now - refreshed > RECOMPUTE_EVERY):
        refresh_week(engine, week_start, now)


def top_ten(conn, week_start: date, kind: str, allowed) -> list[tuple[int, float]]:
    """(title_id, views) of the week's most viewed films or series the profile may see."""
    rows = conn.execute(
        text(f"""
        SELECT v.title_id, v.views FROM title_weekly_views v JOIN titles t USING (title_id)
        WHERE v.week_start = :w AND v.kind = :kind AND t.is_active AND {audience_condition()}
        ORDER BY v.views DESC, v.watched_seconds DESC, v.title_id LIMIT :n"""),
        {"w": week_start, "kind": kind, "allowed": allowed_param(allowed), "n": TOP_N},
    ).all()
    return [(r.title_id, float(r.views)) for r in rows]


# --- the profile's history -----------------------------------------------------------------------


@dataclass
class History:
    recent: list[int]  # titles with progress, most recent first
    disliked: set[int]
    favourite_genres: list[str]


def history(conn, user_id: int, profile_id: int) -> History:
    params = {"u": user_id, "p": profile_id}
    recent = list(
        conn.execute(
            text("""SELECT title_id FROM viewing_progress WHERE user_id = :u AND profile_id = :p
                                       ORDER BY updated_at DESC, title_id LIMIT 200"""),
            params,
        ).scalars()
    )
    disliked = set(
        conn.execute(
            text("""SELECT title_id FROM ratings WHERE user_id = :u AND profile_id = :p
                                        AND score < 0"""),
            params,
        ).scalars()
    )
    genres = list(
        conn.execute(
            text("""
        SELECT g.name FROM viewing_progress v JOIN title_genres tg USING (title_id) JOIN genres g USING (genre_id)
        WHERE v.user_id = :u AND v.profile_id = :p
        GROUP BY g.name ORDER BY count(*) DESC, g.name LIMIT :n"""),
            params | {"n": FAVOURITE_GENRES},
        ).scalars()
    )
    return History(recent, disliked, genres)


def new_titles(conn, allowed, limit: int = ROW_LENGTH) -> list[int]:
    return list(
        conn.execute(
            text(f"""SELECT t.title_id FROM titles t WHERE t.is_active AND {audience_condition()}
                                      ORDER BY t.date_added DESC NULLS LAST, t.title_id DESC LIMIT :n"""),
            {"allowed": allowed_param(allowed), "n": limit},
        ).scalars()
    )


# --- the rows ------------------------------------------------------------------------------------


def continue_watching_row(engine: Engine, user_id: int, profile_id: int, allowed, length: int = ROW_LENGTH) -> Row:
    """Started and unfinished titles (backend.watching.progress' rule), with the episode to resume; cards come later."""
    items = [
        i
        for i in watch_progress.continue_watching(engine, user_id, profile_id, limit=length)
        if allowed is None or i["audience"] in allowed
    ]
    notes = {i["show_id"]: f"S{i['season_number']}:E{i['episode_number']}" for i in items if i.get("episode_number")}
    return Row(
        "continue",
        "Continue Watching",
        "Pick up where you left off.",
        [],
        notes,
        {i["show_id"]: i["progress"] for i in items},
        removable=True,
        ids=[i["title_id"] for i in items],
    )


def home_rows(
    engine: Engine, user_id: int, profile, *, now: datetime | None = None, length: int = ROW_LENGTH
) -> list[Row]:
    """Every home row of this profile, in page order; rows without titles are left out."""
    now, allowed = clock(now), title_cards.allowed_audiences(profile)
    week = last_complete_week(now)
    ensure_week(engine, week, now)
    models = recommend.models(engine)
    continuing = continue_watching_row(engine, user_id, profile.profile_id, allowed, length)
    rows: list[Row] = []
    ranked_notes: list[tuple[Row, dict[int, str]]] = []  # the Top 10 rows' notes by title id, until cards are fetched
    with engine.connect() as conn:
        seen = history(conn, user_id, profile.profile_id)
        exclude = set(seen.recent) | seen.disliked
        name = lambda t: recommend.title_name(models, t)  # noqa: E731
        if seen.recent:
            picks = recommend.top_picks(models, seen.recent, allowed=allowed, exclude=exclude, limit=length)
            based_on = ", ".join(f"“{name(t)}”" for t in seen.recent[:3])
            rows.append(
                _row(
                    "picks",
                    f"Top picks for {profile.name}",
                    picks,
                    f"Like {based_on}, and what members who watched them also watched.",
                )
            )
            first = seen.recent[0]
            rows.append(_because(models, first, allowed, exclude, length))
        for kind, label in (("movie", "films"), ("tv_show", "series")):
            ranked = top_ten(conn, week, kind, allowed)
            row = _row(
                f"top10_{kind}",
                f"Top 10 {label} this week",
                [t for t, _ in ranked],
                f"Most views in the week of {week:%-d %B %Y} (hours viewed / runtime).",
            )
            row.ranked = True
            ranked_notes.append((row, {t: f"{views:,.1f} views" for t, views in ranked}))  # by title id for now
            rows.append(row)
        rows.append(
            _row(
                "my_list",
                "My List",
                library.list_title_ids(conn, user_id, profile.profile_id, length),
                "Titles you saved for later.",
            )
        )
        rows.append(
            _row("new", "New on Reelhouse", new_titles(conn, allowed, length), "The latest additions to the catalogue.")
        )
        genres = seen.favourite_genres or []
        for genre in genres:
            ids = recommend.popular_in_genre(models, genre, allowed=allowed, exclude=exclude, limit=length)
            rows.append(
                _row(
                    f"genre:{genre}",
                    genre,
                    ids,
                    f"Popular with members who like {genre}, one of your most watched genres.",
                )
            )
        if not seen.recent:
            ids = recommend.popular(models, allowed=allowed, exclude=exclude, limit=length)
            rows.append(
                _row(
                    "popular",
                    "Popular on Reelhouse",
                    ids,
                    "What most members have watched. Watch something and this page learns your taste.",
                )
            )
        if len(seen.recent) > 1:
            rows.append(_because(models, seen.recent[1], allowed, exclude, length))
        rows.append(_row("recent", "Recently Watched", seen.recent[:length], "What you watched last, newest first."))
        _fill_cards(conn, [continuing, *rows], allowed)
    for row, by_title in ranked_notes:
        row.notes = {c.show_id: by_title[c.title_id] for c in row.cards}
    return [row for row in [continuing, *rows] if row.cards]


def _row(key: str, title: str, ids: list[int], caption: str) -> Row:
    return Row(key, title, caption, [], ids=list(ids))


def _fill_cards(conn, rows: list[Row], allowed) -> None:
    """The cards of every row in one query (the maturity cap applies again here)."""
    wanted = list(dict.fromkeys(t for row in rows for t in row.ids))
    cards = {c.title_id: c for c in cards_by_ids(conn, wanted, allowed)}
    for row in rows:
        row.cards = [cards[t] for t in row.ids if t in cards]


def _because(models, title_id: int, allowed, exclude: set[int], length: int) -> Row:
    name = recommend.title_name(models, title_id)
    ids = recommend.similar_titles(models, title_id, allowed=allowed, exclude=exclude, limit=length)
    return _row(
        f"because:{title_id}",
        f"Because you watched {name}",
        ids,
        f"Titles like “{name}” in genre, cast, director and story, and what its viewers also watched.",
    )


# --- CLI -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.watching.home", description="Home page rollups.")
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="recompute the Top 10 views of the last complete weeks")
    refresh.add_argument("--weeks", type=int, default=4)
    args = parser.parse_args(argv)
    engine, now = database.get_engine(), clock()
    week = last_complete_week(now)
    for back in range(max(1, args.weeks)):
        start = week - timedelta(weeks=back)
        print(f"week of {start}: {refresh_week(engine, start, now):,} titles with views")
    return 0


if __name__ == "__main__":
    run_cli(main)
