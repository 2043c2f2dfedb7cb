"""Engagement, content and acquisition rollups on tiny hand-made histories, values worked out by hand.

Rows are written straight into the tables (as the seeder does) so each scenario is exactly what the
comment says; `engagement_rollups.refresh` then builds the rollups and the dashboard functions read them.
"""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from backend.analytics import content_metrics, engagement_rollups, reading
from backend.analytics import engagement_metrics as em
from backend.analytics.selection import Filters, Period
from backend.billing import plans
from backend.core import errors as core_errors

JUNE = Period(date(2026, 6, 1), date(2026, 6, 1))


def at(day: int, hour: int = 20, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2026, month, 1, hour, minute, tzinfo=UTC) + timedelta(days=day - 1)


class World:
    """Helpers that insert the rows of a scenario."""

    def __init__(self, engine):
        self.engine = engine
        with engine.begin() as conn:
            plans.ensure_default_plans(conn)
            self.plan = conn.execute(text("SELECT plan_id FROM plans WHERE name = 'Basic'")).scalar_one()
            self.genre = {}
            for name in ("Dramas", "Comedies", "Thrillers"):
                self.genre[name] = conn.execute(
                    text("INSERT INTO genres (name) VALUES (:n) RETURNING genre_id"), {"n": name}
                ).scalar_one()

    def sql(self, statement: str, **params):
        with self.engine.begin() as conn:
            return conn.execute(text(statement), params)

    def user(self, name: str, *, role: str = "subscriber", country: str = "US", created: datetime | None = None) -> int:
        return self.sql(
            """INSERT INTO users (email, display_name, password_hash, role, country_code, created_at)
                           VALUES (:e, :n, 'x', :r, :c, :t) RETURNING user_id""",
            e=f"{name.lower()}@example.com",
            n=name,
            r=role,
            c=country,
            t=created or at(1, 0),
        ).scalar_one()

    def profile(self, user_id: int, name: str = "Main") -> int:
        return self.sql(
            "INSERT INTO profiles (user_id, name) VALUES (:u, :n) RETURNING profile_id", u=user_id, n=name
        ).scalar_one()

    def film(self, show_id: str, minutes: int, genres: tuple[str, ...] = ("Dramas",)) -> int:
        title_id = self.sql(
            """INSERT INTO titles (show_id, kind, title, audience, access_level, duration_minutes)
                               VALUES (:s, 'movie', :s, 'adults', 'basic', :m) RETURNING title_id""",
            s=show_id,
            m=minutes,
        ).scalar_one()
        self._genres(title_id, genres)
        return title_id

    def series(self, show_id: str, episode_minutes: list[int]) -> tuple[int, list[int]]:
        title_id = self.sql(
            """INSERT INTO titles (show_id, kind, title, audience, access_level, seasons)
                               VALUES (:s, 'tv_show', :s, 'adults', 'basic', 1) RETURNING title_id""",
            s=show_id,
        ).scalar_one()
        episodes = [
            self.sql(
                """INSERT INTO episodes (title_id, season_number, episode_number, name, duration_minutes)
                                VALUES (:t, 1, :n, :name, :m) RETURNING episode_id""",
                t=title_id,
                n=n,
                name=f"E{n}",
                m=m,
            ).scalar_one()
            for n, m in enumerate(episode_minutes, start=1)
        ]
        self._genres(title_id, ("Comedies",))
        return title_id, episodes

    def _genres(self, title_id: int, genres: tuple[str, ...]) -> None:
        for position, genre in enumerate(genres):
            self.sql(
                "INSERT INTO title_genres (title_id, genre_id, position) VALUES (:t, :g, :p)",
                t=title_id,
                g=self.genre[genre],
                p=position,
            )

    def play(
        self,
        user_id: int,
        profile_id: int,
        title_id: int,
        start: datetime,
        watched: int,
        *,
        runtime: int,
        from_position: int = 0,
        episode_id: int | None = None,
    ) -> None:
        end_position = from_position + watched
        self.sql(
            """INSERT INTO playback_events (user_id, profile_id, title_id, episode_id, started_at, ended_at,
                        start_position_seconds, end_position_seconds, watched_seconds, duration_seconds, completed)
                    VALUES (:u, :p, :t, :e, :s, :s + make_interval(secs => :w), :f, :x, :w, :d, :c)""",
            u=user_id,
            p=profile_id,
            t=title_id,
            e=episode_id,
            s=start,
            w=watched,
            f=from_position,
            x=end_position,
            d=runtime,
            c=end_position >= 0.9 * runtime,
        )

    def subscribe(self, user_id: int, start: datetime, *, paid: datetime | None = None) -> None:
        """A trial from `start`, paid (MRR 7.99) from `paid` when given."""
        sub = self.sql(
            """INSERT INTO subscriptions (user_id, plan_id, status, price, billing_period, validity_days, access_level,
                           max_devices_allowed, resolution, started_at,
                              current_period_start, current_period_end)
                          VALUES (:u, :p, 'active', 7.99, 'month', 30, 'basic', 1, '720p', :s, :s,
                                  :s + interval '1 month')
                          RETURNING subscription_id""",
            u=user_id,
            p=self.plan,
            s=start,
        ).scalar_one()
        events = [("trial_started", start, 0)] + ([("trial_converted", paid, 7.99)] if paid else [])
        for kind, when, mrr in events:
            self.sql(
                """INSERT INTO subscription_events (user_id, subscription_id, kind, occurred_at, plan_id, mrr)
                        VALUES (:u, :s, :k, :t, :p, :m)""",
                u=user_id,
                s=sub,
                k=kind,
                t=when,
                p=self.plan,
                m=mrr,
            )

    def refresh(self, since: date | None = None) -> None:
        engagement_rollups.refresh(self.engine, since)


@pytest.fixture
def world(engine) -> World:
    return World(engine)


@pytest.fixture
def admin(world) -> int:
    return world.user("Admin", role="admin")


def active_on(frame: pd.DataFrame, day: int) -> tuple[int, int]:
    row = frame[frame["day"] == at(day).date()].iloc[0]
    return int(row["dau"]), int(row["mau"])


def test_dau_mau_count_distinct_qualified_players_over_30_days(world, admin):
    film = world.film("f1", 100)
    a, b, c, d = (world.user(n) for n in "ABCD")
    pa, pa2 = world.profile(a), world.profile(a, "Kid")
    pb, pc, pd_ = world.profile(b), world.profile(c), world.profile(d)
    world.play(a, pa, film, at(1), 600, runtime=6000)
    world.play(a, pa2, film, at(1, 21), 300, runtime=6000)  # A's second profile, same day
    world.play(b, pb, film, at(5), 120, runtime=6000)  # exactly 120 s: qualified
    world.play(c, pc, film, at(5), 119, runtime=6000)  # not qualified: never active
    world.play(a, pa, film, at(10), 900, runtime=6000)
    world.play(d, pd_, film, at(40), 1200, runtime=6000)  # July 10
    world.refresh()
    summer = Period(date(2026, 6, 1), date(2026, 7, 1))
    accounts = em.active_users(world.engine, summer, unit="account", acting_user_id=admin)
    assert active_on(accounts, 1) == (1, 1)
    assert active_on(accounts, 5) == (1, 2)  # B (C's 119 s does not count); A still within 30 days
    assert active_on(accounts, 9) == (0, 2)
    assert active_on(accounts, 10) == (1, 2)
    assert active_on(accounts, 34) == (0, 2)  # window Jun 5 - Jul 4 still holds B's Jun 5 and A's Jun 10
    assert active_on(accounts, 35) == (0, 1)  # Jun 6 - Jul 5: A only
    assert active_on(accounts, 39) == (0, 1)  # Jun 10 - Jul 9: A's last play on its last day
    assert active_on(accounts, 40) == (1, 1)  # Jun 11 - Jul 10: D
    profiles = em.active_users(world.engine, summer, unit="profile", acting_user_id=admin)
    assert active_on(profiles, 1) == (2, 2)  # A's two profiles
    assert active_on(profiles, 10) == (1, 3)  # A's main profile; MAU: A main, A kid, B
    june = accounts[accounts["day"] < date(2026, 7, 1)]
    assert len(june) == 30 and june["dau_mau"].notna().all()


def test_stickiness_is_the_mean_of_daily_dau_over_mau():
    daily = pd.DataFrame(
        {"day": [date(2026, 6, 1), date(2026, 6, 2), date(2026, 7, 1)], "dau": [1, 3, 2], "mau": [2, 4, 0]}
    )
    daily["dau_mau"] = reading.rate(daily["dau"], daily["mau"])
    result = em.stickiness(daily).set_index("month")
    assert result.loc[date(2026, 6, 1), "stickiness"] == pytest.approx((0.5 + 0.75) / 2)
    assert pd.isna(result.loc[date(2026, 7, 1), "stickiness"])  # MAU 0: n/a, never 0


def test_plan_and_country_filters_split_active_members(world, admin):
    film = world.film("f1", 100)
    us, gb = world.user("U", country="US"), world.user("G", country="GB")
    world.subscribe(us, at(1, 8), paid=at(1, 9))
    world.play(us, world.profile(us), film, at(2), 600, runtime=6000)
    world.play(gb, world.profile(gb), film, at(2), 600, runtime=6000)  # no subscription: plan 0
    world.refresh()
    assert active_on(em.active_users(world.engine, JUNE, Filters(countries=("GB",)), acting_user_id=admin), 2) == (1, 1)
    assert active_on(em.active_users(world.engine, JUNE, Filters(plan_ids=(world.plan,)), acting_user_id=admin), 2) == (
        1,
        1,
    )
    assert active_on(em.active_users(world.engine, JUNE, acting_user_id=admin), 2) == (2, 2)


def test_completion_is_per_profile_and_item_on_the_furthest_position(world, admin):
    film = world.film("f1", 100)  # 6000 s
    series, (episode, _) = world.series("s1", [30, 30])  # 1800 s each
    a = world.user("A")
    p1, p2, p3 = world.profile(a, "One"), world.profile(a, "Two"), world.profile(a, "Three")
    world.play(a, p1, film, at(3), 3000, runtime=6000)
    world.play(a, p1, film, at(4), 2500, runtime=6000, from_position=3000)  # furthest 5500 >= 5400: completed
    world.play(a, p2, film, at(3), 1000, runtime=6000)  # 1000 / 6000
    world.play(a, p3, film, at(3), 60, runtime=6000)  # not qualified: not a start
    world.play(a, p1, series, at(5), 1700, runtime=1800, episode_id=episode)  # 1700 >= 1620: completed
    world.refresh()
    frame = em.completion(world.engine, JUNE, acting_user_id=admin).set_index("kind")
    assert frame.loc["movie", "starts"] == 2 and frame.loc["movie", "completed"] == 1
    assert frame.loc["movie", "completion_rate"] == pytest.approx(0.5)
    assert frame.loc["movie", "average_share_watched"] == pytest.approx((5500 / 6000 + 1000 / 6000) / 2, abs=1e-4)
    assert frame.loc["episode", "completion_rate"] == pytest.approx(1.0)
    assert frame.loc["episode", "average_share_watched"] == pytest.approx(1700 / 1800, abs=1e-4)


def test_top10_ranks_views_per_week_films_and_series_apart_ties_by_hours(world, admin):
    long_film, short_film, other = world.film("long", 100), world.film("short", 50), world.film("other", 50)
    series, episodes = world.series("s1", [30, 30])  # runtime 3600 s
    a = world.user("A")
    p = world.profile(a)
    # Week of Monday June 8, 2026: long 12000 s / 6000 = 2 views (3.33 h); short 6000 / 3000 = 2 views (1.67 h);
    # other 4500 / 3000 = 1.5 views; the series 3600 / 3600 = 1 view. Sunday June 14 is in; Monday June 15 is not.
    world.play(a, p, long_film, at(8), 6000, runtime=6000)
    world.play(a, p, long_film, at(14, 23), 6000, runtime=6000)
    world.play(a, p, short_film, at(9), 3000, runtime=3000)
    world.play(a, p, short_film, at(10), 3000, runtime=3000)
    world.play(a, p, other, at(11), 3000, runtime=3000)
    world.play(a, p, other, at(12), 1500, runtime=3000)
    world.play(a, p, other, at(15), 3000, runtime=3000)  # next week
    world.play(a, p, other, at(7), 3000, runtime=3000)  # the Sunday before
    for episode in episodes:
        world.play(a, p, series, at(13), 1800, runtime=1800, episode_id=episode)
    world.refresh()
    top = em.top10(world.engine, date(2026, 6, 10), acting_user_id=admin)  # any day of the week
    films = top[top["kind"] == "movie"]
    assert films["show_id"].tolist() == ["long", "short", "other"]
    assert films["views"].tolist() == pytest.approx([2.0, 2.0, 1.5])
    assert films["rank"].tolist() == [1, 2, 3]
    shows = top[top["kind"] == "tv_show"]
    assert shows["show_id"].tolist() == ["s1"] and shows["views"].iloc[0] == pytest.approx(1.0)
    assert em.weeks(JUNE, today=date(2026, 6, 22)) == [date(2026, 6, 15), date(2026, 6, 8), date(2026, 6, 1)]


def test_genre_share_splits_a_titles_hours_equally(world, admin):
    two = world.film("two", 60, ("Dramas", "Thrillers"))
    one = world.film("one", 60, ("Comedies",))
    a = world.user("A")
    p = world.profile(a)
    world.play(a, p, two, at(2), 3600, runtime=3600)  # 0.5 h Dramas, 0.5 h Thrillers
    world.play(a, p, one, at(2), 3600, runtime=3600)  # 1 h Comedies
    world.refresh()
    shares = em.genre_share(world.engine, JUNE, acting_user_id=admin).set_index("genre")["share"]
    assert shares.to_dict() == pytest.approx({"Comedies": 0.5, "Dramas": 0.25, "Thrillers": 0.25})


def test_peak_hours_and_peak_concurrency(world, admin):
    film = world.film("f1", 120)
    people = [world.user(n) for n in "ABC"]
    profiles = [world.profile(u) for u in people]
    # 20:00-21:00, 20:30-20:45 and 20:40-21:10 on Wednesday June 3: all three overlap 20:40-20:45.
    for (u, p), (start, seconds) in zip(
        zip(people, profiles, strict=True),
        [(at(3, 20, 0), 3600), (at(3, 20, 30), 900), (at(3, 20, 40), 1800)],
        strict=True,
    ):
        world.play(u, p, film, start, seconds, runtime=7200)
    world.refresh()
    peaks = em.peak_concurrency(world.engine, JUNE, acting_user_id=admin)
    assert peaks["peak_sessions"].tolist() == [3]
    assert peaks["peak_minute"].iloc[0] == at(3, 20, 40)
    heat = em.peak_hours(world.engine, JUNE, acting_user_id=admin)
    assert heat[["weekday", "hour"]].values.tolist() == [[3, 20]]
    assert heat["hours"].iloc[0] == pytest.approx((3600 + 900 + 1800) / 3600)


def test_time_to_first_play_is_the_median_per_signup_month(world, admin):
    film = world.film("f1", 100)
    a, b = world.user("A", created=at(2, 9)), world.user("B", created=at(20, 9))
    world.subscribe(a, at(2, 10))
    world.subscribe(b, at(20, 10))
    world.play(a, world.profile(a), film, at(2, 11), 60, runtime=6000)  # 1 h in, not qualified
    world.play(a, world.profile(a, "Two"), film, at(2, 15), 600, runtime=6000)  # 5 h after subscribing
    world.play(b, world.profile(b), film, at(20, 19), 600, runtime=6000)  # 9 h
    world.user("Never", created=at(25, 9))  # signed up, never subscribed: not in the cohort
    world.refresh()
    frame = em.time_to_first_play(world.engine, JUNE, acting_user_id=admin)
    assert frame[["subscribers", "played"]].values.tolist() == [[2, 2]]
    assert frame["median_hours"].iloc[0] == pytest.approx(7.0)


def test_funnel_counts_visitor_cohorts_by_source(world, admin):
    paid, signed = world.user("Paid"), world.user("Signed")
    world.subscribe(paid, at(3, 10), paid=at(10, 10))
    for source, user_id, country in [
        ("social", paid, "US"),
        ("social", None, "US"),
        ("social", None, "GB"),
        ("email", signed, "US"),
    ]:
        world.sql(
            """INSERT INTO visitors (first_seen_at, traffic_source, landing_page, country_code,
                                           signed_up_user_id, signed_up_at)
                     VALUES (:t, :s, '/', :c, :u, CASE WHEN :u IS NULL THEN NULL ELSE CAST(:t AS timestamptz) END)""",
            t=at(2),
            s=source,
            c=country,
            u=user_id,
        )
    world.refresh()
    frame = content_metrics.funnel(world.engine, JUNE, acting_user_id=admin).set_index("traffic_source")
    assert frame.loc["social", ["visitors", "signups", "trials", "paid"]].tolist() == [3, 1, 1, 1]
    assert frame.loc["email", ["visitors", "signups", "trials", "paid"]].tolist() == [1, 1, 0, 0]
    assert frame.loc["social", "visitor_to_signup"] == pytest.approx(1 / 3)
    us_only = content_metrics.funnel(world.engine, JUNE, Filters(countries=("US",)), acting_user_id=admin)
    assert us_only["visitors"].sum() == 3


def test_content_catalogue_never_watched_and_top_titles(world, admin):
    watched, unseen = world.film("w", 100), world.film("u", 100)
    a = world.user("A")
    world.play(a, world.profile(a), watched, at(2), 3000, runtime=6000)
    world.refresh()
    assert content_metrics.never_watched(world.engine, JUNE, acting_user_id=admin)["show_id"].tolist() == ["u"]
    top = content_metrics.top_titles(world.engine, JUNE, acting_user_id=admin)
    assert top["show_id"].tolist() == ["w"] and top["views"].iloc[0] == pytest.approx(0.5)
    types = content_metrics.catalogue(world.engine, "type", acting_user_id=admin)
    assert types.set_index("value")["titles"].to_dict() == {"Movie": 2}
    assert unseen


def snapshot(engine) -> dict:
    tables = [
        "user_daily_activity",
        "engagement_daily",
        "daily_active",
        "title_daily",
        "title_monthly",
        "viewing_hours",
        "daily_peak_concurrency",
        "profile_item_starts",
        "completion_monthly",
        "first_play_cohorts",
        "acquisition_monthly",
    ]
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all())) for t in tables}


def test_refresh_is_idempotent_and_incremental_equals_full(world):
    film = world.film("f1", 100)
    a, b = world.user("A"), world.user("B")
    pa, pb = world.profile(a), world.profile(b)
    for day in (1, 3, 12, 20):
        world.play(a, pa, film, at(day), 900, runtime=6000, from_position=900 * (day % 4))
    world.play(b, pb, film, at(2), 5600, runtime=6000)
    world.refresh()
    first = snapshot(world.engine)
    world.refresh()
    assert snapshot(world.engine) == first
    world.play(b, pb, film, at(21), 300, runtime=6000, from_position=5600)  # new day, furthers B's film
    world.refresh(since=date(2026, 6, 15))
    incremental = snapshot(world.engine)
    world.refresh()
    assert snapshot(world.engine) == incremental != first


READERS = [
    lambda e, u: em.active_users(e, JUNE, acting_user_id=u),
    lambda e, u: em.watch_hours(e, JUNE, acting_user_id=u),
    lambda e, u: em.completion(e, JUNE, acting_user_id=u),
    lambda e, u: em.top10(e, date(2026, 6, 1), acting_user_id=u),
    lambda e, u: em.genre_share(e, JUNE, acting_user_id=u),
    lambda e, u: em.peak_hours(e, JUNE, acting_user_id=u),
    lambda e, u: em.peak_concurrency(e, JUNE, acting_user_id=u),
    lambda e, u: em.time_to_first_play(e, JUNE, acting_user_id=u),
    lambda e, u: content_metrics.catalogue(e, "genre", acting_user_id=u),
    lambda e, u: content_metrics.additions_all_time(e, acting_user_id=u),
    lambda e, u: content_metrics.top_titles(e, JUNE, acting_user_id=u),
    lambda e, u: content_metrics.never_watched(e, JUNE, acting_user_id=u),
    lambda e, u: content_metrics.funnel(e, JUNE, acting_user_id=u),
]


def test_only_admins_and_analysts_read_the_figures(world):
    world.refresh()
    subscriber, analyst = world.user("Sub"), world.user("Ana", role="analyst")
    for read in READERS:
        with pytest.raises(core_errors.NotAuthorised):
            read(world.engine, subscriber)
        with pytest.raises(core_errors.NotAuthorised):
            read(world.engine, None)
        assert isinstance(read(world.engine, analyst), pd.DataFrame)
