"""The Engagement, Content and Acquisition dashboards' figures, read from the 0009 rollups only.

Every function checks the acting account's role first (admin or analyst, `analytics.authorise`) and
takes the dashboards' `Period` (calendar months, UTC) and `Filters` (plans, countries; empty = all).
Definitions: ../shared/docs/metrics.md, as summarised in backend/engagement.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine

from backend import analytics
from backend.analytics import Filters, Period
from backend.engagement import ALL_COUNTRIES, ALL_PLANS

PLAN_IN = analytics.PLAN_IN.format(col="plan_id")
COUNTRY_IN = analytics.COUNTRY_IN
IN_PERIOD = "day >= :first AND day < :after"
IN_MONTHS = "month >= :first AND month < :after"
ALL = Filters()  # no plan or country filter


def _params(period: Period, filters: Filters) -> dict:
    return {"first": period.first, "after": period.last + relativedelta(months=1), **filters.params()}


# --- engagement --------------------------------------------------------------------------------------


def active_users(
    engine: Engine, period: Period, filters: Filters = ALL, *, unit: str = "account", acting_user_id: int | None
) -> pd.DataFrame:
    """Per day: DAU, MAU (30 days ending that day) and DAU/MAU, for accounts or profiles."""
    analytics.authorise(engine, acting_user_id)
    if unit not in ("account", "profile"):
        raise ValueError("unit is 'account' or 'profile'")
    params = _params(period, filters) | {"unit": unit, "every_plan": ALL_PLANS, "every_country": ALL_COUNTRIES}
    frame = analytics.frame(
        engine,
        f"""
        SELECT day, sum(dau)::int AS dau, sum(mau)::int AS mau FROM daily_active
        WHERE unit = :unit AND {IN_PERIOD}
          AND (CASE WHEN :all_plans THEN plan_id = :every_plan ELSE plan_id = ANY(CAST(:plans AS bigint[])) END)
          AND (CASE WHEN :all_countries THEN country_code = :every_country
                    ELSE country_code = ANY(CAST(:countries AS text[])) END)
        GROUP BY day ORDER BY day""",
        params,
    )
    frame["dau_mau"] = analytics.rate(frame["dau"], frame["mau"])
    return frame


def stickiness(daily: pd.DataFrame) -> pd.DataFrame:
    """Per month: the mean over its days of DAU/MAU (days with MAU 0 left out)."""
    if daily.empty:
        return pd.DataFrame(columns=["month", "stickiness", "days"])
    months = pd.to_datetime(daily["day"]).dt.to_period("M").dt.start_time.dt.date
    grouped = daily.assign(month=months).groupby("month")["dau_mau"]
    return pd.DataFrame({"stickiness": grouped.mean(), "days": grouped.count()}).reset_index()


def watch_hours(engine: Engine, period: Period, filters: Filters = ALL, *, acting_user_id: int | None) -> pd.DataFrame:
    """Per month: hours watched and hours per subscriber active at the start of the month."""
    analytics.authorise(engine, acting_user_id)
    frame = analytics.frame(
        engine,
        f"""
        WITH hours AS (
            SELECT (date_trunc('month', day))::date AS month, sum(watched_seconds) / 3600.0 AS hours
            FROM engagement_daily WHERE {IN_PERIOD} AND {PLAN_IN} AND {COUNTRY_IN} GROUP BY 1
        ), base AS (
            SELECT month, sum(active_start) AS active_start FROM churn_monthly
            WHERE month >= :first AND month < :after AND {PLAN_IN} AND {COUNTRY_IN} GROUP BY 1
        )
        SELECT h.month, h.hours, coalesce(b.active_start, 0)::int AS active_start
        FROM hours h LEFT JOIN base b USING (month) ORDER BY h.month""",
        _params(period, filters),
    )
    frame["hours"] = frame["hours"].astype(float)
    frame["hours_per_subscriber"] = analytics.rate(frame["hours"], frame["active_start"])
    return frame


def completion(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Per month of the first qualified play and kind (movie, episode): completion rate and mean share watched."""
    analytics.authorise(engine, acting_user_id)
    frame = analytics.frame(
        engine,
        """
        SELECT month, kind, starts, completed, share_sum FROM completion_monthly
        WHERE month >= :first AND month < :after ORDER BY month, kind""",
        _params(period, Filters()),
    )
    frame["completion_rate"] = analytics.rate(frame["completed"], frame["starts"])
    frame["average_share_watched"] = analytics.rate(frame["share_sum"], frame["starts"])
    return frame.drop(columns="share_sum")


_RUNTIME = """
    SELECT t.title_id, t.show_id, t.title, t.kind,
           CASE WHEN t.kind = 'movie' THEN t.duration_minutes * 60
                ELSE (SELECT sum(e.duration_minutes) * 60 FROM episodes e
                      WHERE e.title_id = t.title_id AND e.is_active) END AS runtime_seconds
    FROM titles t"""


def top10(engine: Engine, week_start: date, *, acting_user_id: int | None) -> pd.DataFrame:
    """Films and series ranked by views (hours / runtime) in the Monday-Sunday week; ties by hours."""
    analytics.authorise(engine, acting_user_id)
    monday = week_start - timedelta(days=week_start.weekday())
    frame = analytics.frame(
        engine,
        f"""
        WITH week AS (
            SELECT title_id, sum(watched_seconds) AS seconds FROM title_daily
            WHERE day >= :monday AND day < :monday + 7 GROUP BY title_id
        ), ranked AS (
            SELECT r.kind, r.show_id, r.title, w.seconds / 3600.0 AS hours,
                   w.seconds::numeric / nullif(r.runtime_seconds, 0) AS views,
                   row_number() OVER (PARTITION BY r.kind ORDER BY w.seconds::numeric / nullif(r.runtime_seconds, 0)
                                      DESC NULLS LAST, w.seconds DESC, r.title) AS rank
            FROM week w JOIN ({_RUNTIME}) r ON r.title_id = w.title_id
        )
        SELECT kind, rank, show_id, title, hours, views FROM ranked WHERE rank <= 10 ORDER BY kind, rank""",
        {"monday": monday},
    )
    for column in ("hours", "views"):
        frame[column] = frame[column].astype(float)
    return frame


def weeks(period: Period, today: date | None = None) -> list[date]:
    """The Mondays of the weeks inside the period that are over by `today` (UTC), latest first."""
    after = min(period.last + relativedelta(months=1), today or datetime.now(UTC).date())
    monday = period.first + timedelta(days=(7 - period.first.weekday()) % 7)
    result = []
    while monday + timedelta(days=7) <= after:
        result.append(monday)
        monday += timedelta(days=7)
    return result[::-1]


def genre_share(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Hours per genre, a title's hours split equally among its genres, as a share of all hours."""
    analytics.authorise(engine, acting_user_id)
    frame = analytics.frame(
        engine,
        f"""
        WITH hours AS (SELECT title_id, sum(watched_seconds) / 3600.0 AS hours FROM title_monthly
                       WHERE {IN_MONTHS} GROUP BY title_id),
             split AS (SELECT title_id, genre_id, 1.0 / count(*) OVER (PARTITION BY title_id) AS part
                       FROM title_genres)
        SELECT g.name AS genre, sum(h.hours * s.part) AS hours
        FROM hours h JOIN split s USING (title_id) JOIN genres g USING (genre_id)
        GROUP BY g.name ORDER BY hours DESC""",
        _params(period, Filters()),
    )
    frame["hours"] = frame["hours"].astype(float)
    frame["share"] = analytics.rate(frame["hours"], pd.Series(frame["hours"].sum(), index=frame.index))
    return frame


def peak_hours(engine: Engine, period: Period, filters: Filters = ALL, *, acting_user_id: int | None) -> pd.DataFrame:
    """Hours viewed by weekday (1 = Monday) and hour of day (UTC) of the session's start."""
    analytics.authorise(engine, acting_user_id)
    frame = analytics.frame(
        engine,
        f"""
        SELECT weekday::int AS weekday, hour, sum(watched_seconds) / 3600.0 AS hours, sum(sessions)::int AS sessions
        FROM viewing_hours WHERE {IN_MONTHS} AND {PLAN_IN} AND {COUNTRY_IN}
        GROUP BY 1, 2 ORDER BY 1, 2""",
        _params(period, filters),
    )
    frame["hours"] = frame["hours"].astype(float)
    return frame


def peak_concurrency(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Per day: the most sessions overlapping in any minute, and that minute."""
    analytics.authorise(engine, acting_user_id)
    return analytics.frame(
        engine,
        f"""SELECT day, peak_sessions, peak_minute FROM daily_peak_concurrency
                              WHERE {IN_PERIOD} ORDER BY day""",
        _params(period, Filters()),
    )


def time_to_first_play(
    engine: Engine, period: Period, filters: Filters = ALL, *, acting_user_id: int | None
) -> pd.DataFrame:
    """Per signup month: subscribers, how many have played since subscribing, and the median hours from the
    first subscription's start to the first qualified play (over those who played)."""
    analytics.authorise(engine, acting_user_id)
    cells = analytics.frame(
        engine,
        f"""
        SELECT month, subscribers, played, hours_sorted FROM first_play_cohorts
        WHERE month >= :first AND month < :after AND {COUNTRY_IN} ORDER BY month""",
        _params(period, filters),
    )
    rows = []
    for month, group in cells.groupby("month", sort=True):
        hours = [float(h) for array in group["hours_sorted"] for h in array]
        rows.append(
            {
                "month": month,
                "subscribers": int(group["subscribers"].sum()),
                "played": int(group["played"].sum()),
                "median_hours": float(pd.Series(hours).median()) if hours else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["month", "subscribers", "played", "median_hours"])


# --- content -----------------------------------------------------------------------------------------

CATALOGUE_DIMENSIONS = {
    "type": "SELECT CASE kind WHEN 'movie' THEN 'Movie' ELSE 'TV show' END AS value, count(*) AS titles "
    "FROM titles WHERE is_active GROUP BY 1 ORDER BY 2 DESC",
    "genre": "SELECT g.name AS value, count(*) AS titles FROM title_genres tg JOIN genres g USING (genre_id) "
    "JOIN titles t USING (title_id) WHERE t.is_active GROUP BY 1 ORDER BY 2 DESC",
    "country": "SELECT c.name AS value, count(*) AS titles FROM title_countries tc JOIN countries c "
    "USING (country_id) JOIN titles t USING (title_id) WHERE t.is_active GROUP BY 1 ORDER BY 2 DESC",
    "release_year": "SELECT release_year AS value, count(*) AS titles FROM titles WHERE is_active "
    "AND release_year IS NOT NULL GROUP BY 1 ORDER BY 1",
    "maturity": "SELECT coalesce(maturity_rating, 'unrated') AS value, audience, count(*) AS titles FROM titles "
    "WHERE is_active GROUP BY 1, 2 ORDER BY 3 DESC",
}


def catalogue(engine: Engine, dimension: str, *, acting_user_id: int | None) -> pd.DataFrame:
    """Active titles counted by type, genre, production country, release year or maturity rating."""
    analytics.authorise(engine, acting_user_id)
    if dimension not in CATALOGUE_DIMENSIONS:
        raise ValueError(f"dimension is one of {', '.join(CATALOGUE_DIMENSIONS)}")
    frame = analytics.frame(engine, CATALOGUE_DIMENSIONS[dimension], {})
    frame["titles"] = frame["titles"].astype(int)
    return frame


def additions(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Titles added to the catalogue per month (their `date_added`), by type."""
    analytics.authorise(engine, acting_user_id)
    return analytics.frame(
        engine,
        """
        SELECT (date_trunc('month', date_added))::date AS month, kind, count(*)::int AS titles FROM titles
        WHERE date_added >= :first AND date_added < :after GROUP BY 1, 2 ORDER BY 1, 2""",
        _params(period, Filters()),
    )


def additions_all_time(engine: Engine, *, acting_user_id: int | None) -> pd.DataFrame:
    """Titles added per year (their `date_added`), by type: the catalogue's whole history."""
    analytics.authorise(engine, acting_user_id)
    return analytics.frame(
        engine,
        """
        SELECT extract(year FROM date_added)::int AS year, kind, count(*)::int AS titles FROM titles
        WHERE date_added IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2""",
        {},
    )


def top_titles(engine: Engine, period: Period, *, limit: int = 20, acting_user_id: int | None) -> pd.DataFrame:
    """The most viewed titles in the period (views = hours / runtime), films and series together."""
    analytics.authorise(engine, acting_user_id)
    frame = analytics.frame(
        engine,
        f"""
        WITH hours AS (SELECT title_id, sum(watched_seconds) AS seconds, sum(qualified_plays) AS plays
                       FROM title_monthly WHERE {IN_MONTHS} GROUP BY title_id)
        SELECT r.show_id, r.title, r.kind, h.seconds / 3600.0 AS hours, h.plays::int AS qualified_plays,
               h.seconds::numeric / nullif(r.runtime_seconds, 0) AS views
        FROM hours h JOIN ({_RUNTIME}) r USING (title_id)
        ORDER BY views DESC NULLS LAST, h.seconds DESC LIMIT :limit""",
        _params(period, Filters()) | {"limit": limit},
    )
    for column in ("hours", "views"):
        frame[column] = frame[column].astype(float)
    return frame


def never_watched(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Active titles without a single qualified play in the period, by type (with the count available then)."""
    analytics.authorise(engine, acting_user_id)
    return analytics.frame(
        engine,
        f"""
        WITH watched AS (SELECT DISTINCT title_id FROM title_monthly WHERE {IN_MONTHS} AND qualified_plays > 0)
        SELECT t.show_id, t.title, t.kind, t.release_year, t.date_added
        FROM titles t WHERE t.is_active AND NOT EXISTS (SELECT 1 FROM watched w WHERE w.title_id = t.title_id)
        ORDER BY t.date_added DESC NULLS LAST, t.title""",
        _params(period, Filters()),
    )


# --- acquisition -------------------------------------------------------------------------------------


def funnel(
    engine: Engine, period: Period, filters: Filters = ALL, *, by: str = "traffic_source", acting_user_id: int | None
) -> pd.DataFrame:
    """Visitors -> signups -> trials -> paid, by traffic source or by month of first visit (cohorts)."""
    analytics.authorise(engine, acting_user_id)
    if by not in ("traffic_source", "month"):
        raise ValueError("by is 'traffic_source' or 'month'")
    frame = analytics.frame(
        engine,
        f"""
        SELECT {by}, sum(visitors)::int AS visitors, sum(signups)::int AS signups, sum(trials)::int AS trials,
               sum(paid)::int AS paid
        FROM acquisition_monthly WHERE month >= :first AND month < :after AND {COUNTRY_IN}
        GROUP BY 1 ORDER BY {"visitors DESC" if by == "traffic_source" else "month"}""",
        _params(period, filters),
    )
    frame["visitor_to_signup"] = analytics.rate(frame["signups"], frame["visitors"])
    frame["signup_to_paid"] = analytics.rate(frame["paid"], frame["signups"])
    return frame


# --- what each page draws with its default choices (the benchmark times these) ---------------------------


def engagement_page(
    engine: Engine, period: Period, filters: Filters = ALL, *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """Everything the Engagement page draws with its default choices (accounts, the latest week)."""
    daily = active_users(engine, period, filters, acting_user_id=acting_user_id)
    mondays = weeks(period)
    return {
        "daily": daily,
        "stickiness": stickiness(daily),
        "watch_hours": watch_hours(engine, period, filters, acting_user_id=acting_user_id),
        "completion": completion(engine, period, acting_user_id=acting_user_id),
        "top10": top10(engine, mondays[0], acting_user_id=acting_user_id) if mondays else pd.DataFrame(),
        "genres": genre_share(engine, period, acting_user_id=acting_user_id),
        "peak_hours": peak_hours(engine, period, filters, acting_user_id=acting_user_id),
        "peak_concurrency": peak_concurrency(engine, period, acting_user_id=acting_user_id),
        "first_play": time_to_first_play(engine, period, filters, acting_user_id=acting_user_id),
    }


def content_page(
    engine: Engine, period: Period, filters: Filters = ALL, *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """Everything the Content page draws (the catalogue does not depend on the filters)."""
    frames = {f"catalogue_{d}": catalogue(engine, d, acting_user_id=acting_user_id) for d in CATALOGUE_DIMENSIONS}
    return frames | {
        "additions": additions_all_time(engine, acting_user_id=acting_user_id),
        "top_titles": top_titles(engine, period, acting_user_id=acting_user_id),
        "never_watched": never_watched(engine, period, acting_user_id=acting_user_id),
    }


def acquisition_page(
    engine: Engine, period: Period, filters: Filters = ALL, *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """Everything the Acquisition page draws."""
    return {
        "by_source": funnel(engine, period, filters, acting_user_id=acting_user_id),
        "by_month": funnel(engine, period, filters, by="month", acting_user_id=acting_user_id),
    }
