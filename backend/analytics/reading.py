"""Reading rollups: the role check every dashboard makes, queries as DataFrames, n/a-safe rates, JSON values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from backend.accounts import users

ANALYTICS_ROLES = ("admin", "analyst")


def authorise(engine: Engine, acting_user_id: int | None) -> users.User:
    """The server-side check of every dashboard: admin or analyst, else core_errors.NotAuthorised."""
    return users.require_role(engine, acting_user_id, *ANALYTICS_ROLES)


def frame(engine: Engine, sql: str, params: dict) -> pd.DataFrame:
    """A query's rows as a DataFrame (columns in the query's order, even when there are no rows)."""
    with engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.mappings().all(), columns=list(result.keys()))


def rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN (shown as n/a) where the denominator is 0."""
    return numerator.astype(float) / denominator.astype(float).where(denominator != 0)


def json_value(value):
    """Months as 'YYYY-MM', money and rates as exact decimal strings, counts as numbers, flags (month to
    date, pending) as true/false, n/a as None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.strftime("%Y-%m")
    return int(value)


def as_json_rows(metrics: pd.DataFrame) -> list[dict]:
    """The frame's rows as JSON-ready dicts (json_value of each cell)."""
    return [{column: json_value(row[column]) for column in metrics.columns} for _, row in metrics.iterrows()]
