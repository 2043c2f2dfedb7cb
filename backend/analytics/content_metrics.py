"""The Content and Acquisition dashboards' figures, read from the 0009 rollups and the catalogue.

Every function checks the acting account's role first (admin or analyst).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from backend.analytics import reading
from backend.analytics.engagement_metrics import COUNTRY_IN, IN_MONTHS, RUNTIME_SQL, query_params
from backend.analytics.selection import NO_FILTERS, Filters, Period

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
    reading.authorise(engine, acting_user_id)
    if dimension not in CATALOGUE_DIMENSIONS:
        raise ValueError(f"dimension is one of {', '.join(CATALOGUE_DIMENSIONS)}")
    frame = reading.frame(engine, CATALOGUE_DIMENSIONS[dimension], {})
    frame["titles"] = frame["titles"].astype(int)
    return frame


def additions(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Titles added to the catalogue per month (their `date_added`), by type."""
    reading.authorise(engine, acting_user_id)
    return reading.frame(
        engine,
        """
        SELECT (date_trunc('month', date_added))::date AS month, kind, count(*)::int AS titles FROM titles
        WHERE date_added >= :first AND date_added < :after GROUP BY 1, 2 ORDER BY 1, 2""",
        query_params(period, NO_FILTERS),
    )


def additions_all_time(engine: Engine, *, acting_user_id: int | None) -> pd.DataFrame:
    """Titles added per year (their `date_added`), by type: the catalogue's whole history."""
    reading.authorise(engine, acting_user_id)
    return reading.frame(
        engine,
        """
        SELECT extract(year FROM date_added)::int AS year, kind, count(*)::int AS titles FROM titles
        WHERE date_added IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2""",
        {},
    )


def top_titles(engine: Engine, period: Period, *, limit: int = 20, acting_user_id: int | None) -> pd.DataFrame:
    """The most viewed titles in the period (views = hours / runtime), films and series together."""
    reading.authorise(engine, acting_user_id)
    frame = reading.frame(
        engine,
        f"""
        WITH hours AS (SELECT title_id, sum(watched_seconds) AS seconds, sum(qualified_plays) AS plays
                       FROM title_monthly WHERE {IN_MONTHS} GROUP BY title_id)
        SELECT r.show_id, r.title, r.kind, h.seconds / 3600.0 AS hours, h.plays::int AS qualified_plays,
               h.seconds::numeric / nullif(r.runtime_seconds, 0) AS views
        FROM hours h JOIN ({RUNTIME_SQL}) r USING (title_id)
        ORDER BY views DESC NULLS LAST, h.seconds DESC LIMIT :limit""",
        query_params(period, NO_FILTERS) | {"limit": limit},
    )
    for column in ("hours", "views"):
        frame[column] = frame[column].astype(float)
    return frame


def never_watched(engine: Engine, period: Period, *, acting_user_id: int | None) -> pd.DataFrame:
    """Active titles without a single qualified play in the period, by type (with the count available then)."""
    reading.authorise(engine, acting_user_id)
    return reading.frame(
        engine,
        f"""
        WITH watched AS (SELECT DISTINCT title_id FROM title_monthly WHERE {IN_MONTHS} AND qualified_plays > 0)
        SELECT t.show_id, t.title, t.kind, t.release_year, t.date_added
        FROM titles t WHERE t.is_active AND NOT EXISTS (SELECT 1 FROM watched w WHERE w.title_id = t.title_id)
        ORDER BY t.date_added DESC NULLS LAST, t.title""",
        query_params(period, NO_FILTERS),
    )


def funnel(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    by: str = "traffic_source",
    acting_user_id: int | None,
) -> pd.DataFrame:
    """Visitors -> signups -> trials -> paid, by traffic source or by month of first visit (cohorts)."""
    reading.authorise(engine, acting_user_id)
    if by not in ("traffic_source", "month"):
        raise ValueError("by is 'traffic_source' or 'month'")
    frame = reading.frame(
        engine,
        f"""
        SELECT {by}, sum(visitors)::int AS visitors, sum(signups)::int AS signups, sum(trials)::int AS trials,
               sum(paid)::int AS paid
        FROM acquisition_monthly WHERE month >= :first AND month < :after AND {COUNTRY_IN}
        GROUP BY 1 ORDER BY {"visitors DESC" if by == "traffic_source" else "month"}""",
        query_params(period, filters),
    )
    frame["visitor_to_signup"] = reading.rate(frame["signups"], frame["visitors"])
    frame["signup_to_paid"] = reading.rate(frame["paid"], frame["signups"])
    return frame


def content_page(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """Everything the Content page draws (the catalogue does not depend on the filters)."""
    frames = {f"catalogue_{d}": catalogue(engine, d, acting_user_id=acting_user_id) for d in CATALOGUE_DIMENSIONS}
    return frames | {
        "additions": additions_all_time(engine, acting_user_id=acting_user_id),
        "top_titles": top_titles(engine, period, acting_user_id=acting_user_id),
        "never_watched": never_watched(engine, period, acting_user_id=acting_user_id),
    }


def acquisition_page(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """Everything the Acquisition page draws."""
    return {
        "by_source": funnel(engine, period, filters, acting_user_id=acting_user_id),
        "by_month": funnel(engine, period, filters, by="month", acting_user_id=acting_user_id),
    }
