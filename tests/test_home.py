"""Home rows on real PostgreSQL: Top 10 by views from the weekly rollup, every row with its reason, the
maturity cap on every row, and a new profile's page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

import database
from backend.watching import home, library, recommend
from backend.watching import progress as watch_progress
from etl.load_catalogue import load_catalogue
from tests.discovery_fixtures import DISCOVERY_CSV, member, title_id, watched

NOW = datetime(2026, 11, 24, 18, tzinfo=UTC)  # a Tuesday
WEEK = date(2026, 11, 16)
KIDS_ONLY = {"kids", "older_kids"}


def play(engine, user_id: int, profile_id: int, show_id: str, seconds: int, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO playback_events (user_id, profile_id, title_id, started_at, ended_at, watched_seconds,
                                         end_position_seconds, duration_seconds)
            SELECT :u, :p, title_id, :at, :at + make_interval(secs => :s), :s, :s, :s
            FROM titles WHERE show_id = :show"""),
            {"u": user_id, "p": profile_id, "show": show_id, "s": seconds, "at": at},
        )


def series_runtime(engine, show_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("""SELECT sum(e.duration_minutes) * 60 FROM episodes e JOIN titles t USING (title_id)
                                    WHERE t.show_id = :s"""),
            {"s": show_id},
        ).scalar_one()


@pytest.fixture(scope="module")
def engine(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, DISCOVERY_CSV)
    user, adult, kids = member(engine, "viewer")
    monday = datetime(2026, 11, 16, 20, tzinfo=UTC)
    uid, pid = user.user_id, adult.profile_id
    for _ in range(3):
        play(engine, uid, pid, "d14", 94 * 60, monday)  # 3 views
    for _ in range(2):
        play(engine, uid, pid, "d3", 101 * 60, monday + timedelta(days=2))  # 2 views
    play(engine, uid, pid, "d5", 101 * 60, monday)  # 1 view, more hours than d4
    play(engine, uid, pid, "d4", 92 * 60, monday)  # 1 view
    play(engine, uid, kids.profile_id, "d6", 80 * 60, monday + timedelta(days=6, hours=3))  # Sunday night
    play(engine, uid, pid, "d1", series_runtime(engine, "d1") // 2, monday)  # half a view
    play(engine, uid, pid, "d9", 98 * 60 * 5, monday + timedelta(days=7))  # the next week: not counted
    recommend.forget_models()
    yield engine
    recommend.forget_models()
    database.dispose_engines()


def test_last_complete_week_is_monday_to_sunday():
    assert home.last_complete_week(NOW) == WEEK
    assert home.last_complete_week(datetime(2026, 11, 23, 0, 1, tzinfo=UTC)) == WEEK  # Monday just after
    assert home.last_complete_week(datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == date(2026, 11, 9)


def test_top_ten_by_views_films_and_series_apart(engine):
    assert home.refresh_week(engine, WEEK, NOW) == 6
    assert home.refresh_week(engine, WEEK, NOW) == 6  # idempotent
    with engine.connect() as conn:
        films = home.top_ten(conn, WEEK, "movie", None)
        series = home.top_ten(conn, WEEK, "tv_show", None)
        kids = home.top_ten(conn, WEEK, "movie", tuple(KIDS_ONLY))
    ids = {s: title_id(engine, s) for s in ("d14", "d3", "d5", "d4", "d6", "d1")}
    assert films == [(ids["d14"], 3.0), (ids["d3"], 2.0), (ids["d5"], 1.0), (ids["d4"], 1.0), (ids["d6"], 1.0)]
    assert series == [(ids["d1"], 0.5)]
    assert kids == [(ids["d6"], 1.0)]


def test_a_final_week_is_computed_once(engine):
    earlier = WEEK - timedelta(weeks=1)
    home.ensure_week(engine, earlier, NOW)
    with engine.connect() as conn:
        first = conn.execute(
            text("SELECT refreshed_at FROM title_weekly_views_runs WHERE week_start = :w"), {"w": earlier}
        ).scalar_one()
    home.ensure_week(engine, earlier, NOW + timedelta(days=1))
    with engine.connect() as conn:
        again = conn.execute(
            text("SELECT refreshed_at FROM title_weekly_views_runs WHERE week_start = :w"), {"w": earlier}
        ).scalar_one()
    assert first == again == NOW


def rows_by_key(engine, user, profile) -> dict[str, home.Row]:
    return {row.key: row for row in home.home_rows(engine, user.user_id, profile, now=NOW)}


def test_a_members_home_rows_each_say_why(engine):
    user, adult, _ = member(engine, "home")
    uid, pid = user.user_id, adult.profile_id
    watched(engine, uid, pid, "d3", at=NOW - timedelta(days=5))
    watched(engine, uid, pid, "d4", at=NOW - timedelta(days=4))
    watched(engine, uid, pid, "d13", at=NOW - timedelta(days=3))
    watched(engine, uid, pid, "d1", completed=False, at=NOW - timedelta(days=1))
    library.add_to_list(engine, uid, pid, "d12", now=NOW)
    recommend.forget_models()
    rows = rows_by_key(engine, user, adult)
    assert {
        "continue",
        "picks",
        f"because:{title_id(engine, 'd1')}",
        "top10_movie",
        "top10_tv_show",
        "my_list",
        "new",
        "recent",
    } <= set(rows)
    assert [c.show_id for c in rows["continue"].cards] == ["d1"] and rows["continue"].removable
    assert [c.show_id for c in rows["recent"].cards] == ["d1", "d13", "d4", "d3"]
    assert [c.show_id for c in rows["my_list"].cards] == ["d12"]
    assert rows["top10_movie"].ranked and rows["top10_movie"].cards[0].show_id == "d14"
    assert "Stranger Lanterns" in rows[f"because:{title_id(engine, 'd1')}"].title
    assert {c.show_id for c in rows["genre:Dramas"].cards} == {"d5", "d14"}  # the favourite genre, unwatched
    assert all(row.caption for row in rows.values())
    recommended = {
        c.show_id for key in rows if key == "picks" or key.startswith(("because", "genre")) for c in rows[key].cards
    }
    assert not recommended & {"d1", "d3", "d4", "d13"}  # nothing already watched is recommended
    watch_progress.remove_from_continue_watching(engine, uid, pid, title_id(engine, "d1"))
    assert "continue" not in rows_by_key(engine, user, adult)


def test_a_kids_profile_sees_no_adult_titles_in_any_row(engine):
    user, _, kids = member(engine, "family")
    watched(engine, user.user_id, kids.profile_id, "d7", completed=False, at=NOW - timedelta(days=2))
    watched(engine, user.user_id, kids.profile_id, "d9", completed=False, at=NOW - timedelta(days=1))  # before the cap
    recommend.forget_models()
    rows = rows_by_key(engine, user, kids)
    assert {"continue", "picks", "top10_movie", "new", "recent"} <= set(rows)
    audiences = {c.audience for row in rows.values() for c in row.cards}
    assert audiences <= KIDS_ONLY
    assert [c.show_id for c in rows["continue"].cards] == ["d7"]


def test_a_new_profile_gets_popular_titles_instead_of_picks(engine):
    user, adult, _ = member(engine, "newcomer", kids=False)
    rows = rows_by_key(engine, user, adult)
    assert "popular" in rows and "picks" not in rows and "continue" not in rows
    assert rows["new"].cards[0].show_id == "d16"
