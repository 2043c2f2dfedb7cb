"""The Engagement dashboard's figures, read from the 0009 rollups only (Content and Acquisition: .content_metrics).

Every function checks the acting account's role first (admin or analyst, `reading.authorise`) and
takes the dashboards' `Period` (calendar months, UTC) and `Filters` (plans, countries; empty = all).
Definitions: ../shared/docs/metrics.md, as summarised in backend/analytics/engagement_rollups.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TypedDict

import pandas as pd
from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine

from backend.analytics import reading, selection
from backend.analytics.engagement_rollups import ALL_COUNTRIES, ALL_PLANS
from backend.analytics.selection import NO_FILTERS, Filters, Period

PLAN_IN = selection.PLAN_IN.format(col="plan_id")
COUNTRY_IN = selection.COUNTRY_IN
IN_PERIOD = "day >= :first AND day < :after"
IN_MONTHS = "month >= :first AND month < :after"


def query_params(period: Period, filters: Filters) -> dict:
    return {"first": period.first, "after": period.last + relativedelta(months=1), **filters.params()}


def active_users(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, unit: str = "account", acting_user_id: int | None
) -> pd.DataFrame:
    """Per day: DAU, MAU (30 days ending that day) and DAU/MAU, for accounts or profiles."""
    reading.authorise(engine, acting_user_id)
    if unit not in ("account", "profile"):
        raise ValueError("unit is 'account' or 'profile'")
    params = query_params(period, filters) | {"unit": unit, "every_plan": ALL_PLANS, "every_country": ALL_COUNTRIES}
    frame = reading.frame(
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
    frame["dau_mau"] = reading.rate(frame["dau"], frame["mau"])
    return frame


def stickiness(daily: pd.DataFrame) -> pd.DataFrame:
    """Per month: the mean over its days of DAU/MAU (days with MAU 0 left out)."""
    if daily.empty:
        return pd.DataFrame(columns=["month", "stickiness", "days"])
    months = pd.to_datetime(daily["day"]).dt.to_period("M").dt.start_time.dt.date
    grouped = daily.assign(month=months).groupby("month")["dau_mau"]
    return pd.DataFrame({"stickiness": grouped.mean(), "days": grouped.count()}).reset_index()


def watch_hours(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> pd.DataFrame:
    """Per month: the hours watched by everyone (trials and past-due members included), and watch hours per
    subscriber over one population: what the subscribers active at the start of the month watched during it
    / those subscribers (plan = the plan at the start of the month, as on the churn charts)."""
    reading.authorise(engine, acting_user_id)
    frame = reading.frame(
        engine,
        f"""
        WITH months AS (
            SELECT m::date AS month FROM generate_series(CAST(:first AS timestamp),
                                                         CAST(:after AS timestamp) - interval '1 month',
                                                         interval '1 month') m
        ), hours AS (
            SELECT (date_trunc('month', day))::date AS month, sum(watched_seconds) / 3600.0 AS hours
            FROM engagement_daily WHERE {IN_PERIOD} AND {PLAN_IN} AND {COUNTRY_IN} GROUP BY 1
        ), base AS (
            SELECT month, sum(active_start) AS active_start, sum(watched_seconds) / 3600.0 AS subscriber_hours
            FROM churn_monthly
            WHERE month >= :first AND month < :after AND {PLAN_IN} AND {COUNTRY_IN} GROUP BY 1
        )
        SELECT m.month, coalesce(h.hours, 0) AS hours, coalesce(b.subscriber_hours, 0) AS subscriber_hours,
               coalesce(b.active_start, 0)::int AS active_start
        FROM months m LEFT JOIN hours h USING (month) LEFT JOIN base b USING (month)
        WHERE h.month IS NOT NULL OR b.month IS NOT NULL
        ORDER BY m.month""",
        query_params(period, filters),
    )
    frame["hours"] = frame["hours"].astype(float)
    frame["subscriber_hours"] = frame["subscriber_hours"].astype(float)
    frame["hours_per_subscriber"] = reading.rate(frame["subscriber_hours"], frame["active_start"])
    frame.insert(1, "month_to_date", [selection.is_month_to_date(m) for m in frame["month"]])
    return frame


def completion(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Per month of the first qualified play and kind (movie, episode): completion rate and mean share watched."""
    reading.authorise(engine, acting_user_id)
    frame = reading.frame(
        engine,
        """
        SELECT month, kind, starts, completed, share_sum FROM completion_monthly
        WHERE month >= :first AND month < :after ORDER BY month, kind""",
        query_params(period, NO_FILTERS),
    )
    frame["completion_rate"] = reading.rate(frame["completed"], frame["starts"])
    frame["average_share_watched"] = reading.rate(frame["share_sum"], frame["starts"])
    return frame.drop(columns="share_sum")


RUNTIME_SQL = """
    SELECT t.title_id, t.show_id, t.title, t.kind,
           CASE WHEN t.kind = 'movie' THEN t.duration_minutes * 60
                ELSE (SELECT sum(e.duration_minutes) * 60 FROM episodes e
                      WHERE e.title_id = t.title_id AND e.is_active) END AS runtime_seconds
    FROM titles t"""


def top10(engine: Engine, week_start: date, *, acting_user_id: int | None) -> pd.DataFrame:
    """Films and series ranked by views (hours / runtime) in the Monday-Sunday week; ties by hours."""
    reading.authorise(engine, acting_user_id)
    monday = week_start - timedelta(days=week_start.weekday())
    frame = reading.frame(
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
            FROM week w JOIN ({RUNTIME_SQL}) r ON r.title_id = w.title_id
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
    reading.authorise(engine, acting_user_id)
    frame = reading.frame(
        engine,
        f"""
        WITH hours AS (SELECT title_id, sum(watched_seconds) / 3600.0 AS hours FROM title_monthly
                       WHERE {IN_MONTHS} GROUP BY title_id),
             split AS (SELECT title_id, genre_id, 1.0 / count(*) OVER (PARTITION BY title_id) AS part
                       FROM title_genres)
        SELECT g.name AS genre, sum(h.hours * s.part) AS hours
        FROM hours h JOIN split s USING (title_id) JOIN genres g USING (genre_id)
        GROUP BY g.name ORDER BY hours DESC""",
        query_params(period, NO_FILTERS),
    )
    frame["hours"] = frame["hours"].astype(float)
    frame["share"] = reading.rate(frame["hours"], pd.Series(frame["hours"].sum(), index=frame.index))
    return frame


def peak_hours(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> pd.DataFrame:
    """Hours viewed by weekday (1 = Monday) and hour of day (UTC) of the session's start."""
    reading.authorise(engine, acting_user_id)
    frame = reading.frame(
        engine,
        f"""
        SELECT weekday::int AS weekday, hour, sum(watched_seconds) / 3600.0 AS hours, sum(sessions)::int AS sessions
        FROM viewing_hours WHERE {IN_MONTHS} AND {PLAN_IN} AND {COUNTRY_IN}
        GROUP BY 1, 2 ORDER BY 1, 2""",
        query_params(period, filters),
    )
    frame["hours"] = frame["hours"].astype(float)
    return frame


def peak_concurrency(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Per day: the most sessions overlapping in any minute, and that minute."""
    reading.authorise(engine, acting_user_id)
    return reading.frame(
        engine,
        f"""SELECT day, peak_sessions, peak_minute FROM daily_peak_concurrency
                              WHERE {IN_PERIOD} ORDER BY day""",
        query_params(period, NO_FILTERS),
    )


def time_to_first_play(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> pd.DataFrame:
    """Per signup month: subscribers, how many have played since subscribing, and the median hours from the
    first subscription's start to the first qualified play (over those who played)."""
    reading.authorise(engine, acting_user_id)
    cells = reading.frame(
        engine,
        f"""
        SELECT month, subscribers, played, hours_sorted FROM first_play_cohorts
        WHERE month >= :first AND month < :after AND {COUNTRY_IN} ORDER BY month""",
        query_params(period, filters),
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


class EngagementPage(TypedDict):
    """What `engagement_page` returns: the week picker's choices and one frame per chart."""

    weeks: list[date]
    week: date | None
    daily: pd.DataFrame
    stickiness: pd.DataFrame
    watch_hours: pd.DataFrame
    completion: pd.DataFrame
    top10: pd.DataFrame
    genres: pd.DataFrame
    peak_hours: pd.DataFrame
    peak_concurrency: pd.DataFrame
    first_play: pd.DataFrame


def engagement_page(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    unit: str = "account",
    week: date | None = None,
    acting_user_id: int | None,
) -> EngagementPage:
    """Everything the Engagement page draws: active `unit`s, and the Top 10 of `week` (a Monday of the period's
    complete weeks; default and fallback: the latest)."""
    daily = active_users(engine, period, filters, unit=unit, acting_user_id=acting_user_id)
    mondays = weeks(period)
    if week not in mondays:
        week = mondays[0] if mondays else None
    return {
        "weeks": mondays,
        "week": week,
        "daily": daily,
        "stickiness": stickiness(daily),
        "watch_hours": watch_hours(engine, period, filters, acting_user_id=acting_user_id),
        "completion": completion(engine, period, acting_user_id=acting_user_id),
        "top10": top10(engine, week, acting_user_id=acting_user_id) if week else pd.DataFrame(),
        "genres": genre_share(engine, period, acting_user_id=acting_user_id),
        "peak_hours": peak_hours(engine, period, filters, acting_user_id=acting_user_id),
        "peak_concurrency": peak_concurrency(engine, period, acting_user_id=acting_user_id),
        "first_play": time_to_first_play(engine, period, filters, acting_user_id=acting_user_id),
    }
