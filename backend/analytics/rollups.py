"""Every dashboard rollup refreshed in order: revenue, then engagement, then churn and retention.

The billing job, the seeder and `python -m backend.analytics refresh` call this; each part is idempotent and
runs in its own transaction. With `since`, only the months from then on are rebuilt (the billing job's
incremental refresh), and the churn model is retrained at most every `CHURN_MODEL_MAX_AGE`.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from backend.analytics import churn_rollups, engagement_rollups, revenue_rollups

CHURN_MODEL_MAX_AGE = timedelta(hours=6)  # incremental refreshes retrain the churn model at most this often


def refresh(engine: Engine, since: date | None = None, now: datetime | None = None) -> dict[str, float]:
    """Refresh every rollup from `since`'s month on (None: everything); seconds per part."""
    timings = revenue_rollups.refresh_revenue(engine, since, now)
    started = time.perf_counter()
    engagement_rollups.refresh(engine, since)
    timings["engagement"] = time.perf_counter() - started
    started = time.perf_counter()
    churn_rollups.refresh(engine, model_max_age=None if since is None else CHURN_MODEL_MAX_AGE)
    timings["churn"] = time.perf_counter() - started
    return timings
