"""Churn risk: features at snapshot dates, a time-split evaluation, and today's scores.

Features come only from what happened before a snapshot (cutoff) c; the label is "churned within
the 30 days after c" (an MRR -> 0 event). Subscribers paying at c are scored, except those with a
cancellation already scheduled: they have told us (metrics.md), so they are listed apart and the
flag is never a feature. Snapshots are month starts; the test snapshot is the latest whose 30 days
are over, and training uses only the snapshots whose label window ends by then (no test-period row
or label leaks into training). The scored model is then refitted on every labelled snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sqlalchemy import Connection, text

LABEL_DAYS = 30
MODEL = "LogisticRegression (standardised features)"
NUMERIC_FEATURES = [
    "log_tenure_days",
    "mrr",
    "is_annual",
    "log_watch_hours_30d",
    "active_days_30d",
    "days_since_play",
    "failed_payments_90d",
    "in_grace",
    "profiles",
    "reactivated",
]
NO_PLAY_DAYS = 91  # days_since_play when nothing was played in the 90 days before the cutoff

# One row per subscriber paying at each cutoff (latest event before c has MRR > 0).
_FEATURES = """
WITH cutoffs AS (SELECT unnest(CAST(:cutoffs AS timestamptz[])) AS c),
latest AS (
    SELECT DISTINCT ON (k.c, e.user_id) k.c, e.user_id, e.mrr, e.plan_id
    FROM subscription_events e JOIN cutoffs k ON e.occurred_at < k.c
    ORDER BY k.c, e.user_id, e.occurred_at DESC, e.event_id DESC
),
paying AS (SELECT * FROM latest WHERE mrr > 0),
history AS (
    SELECT p.c, p.user_id,
           min(e.occurred_at) FILTER (WHERE e.mrr > 0) AS first_paid_at,
           bool_or(e.kind = 'churned') AS reactivated,
           (array_agg(e.kind ORDER BY e.occurred_at DESC, e.event_id DESC)
               FILTER (WHERE e.kind IN ('cancel_scheduled', 'cancel_undone', 'churned')))[1] AS cancel_state,
           (array_agg(e.kind ORDER BY e.occurred_at DESC, e.event_id DESC)
               FILTER (WHERE e.kind IN ('payment_failed', 'payment_recovered', 'renewed', 'churned')))[1]
               AS pay_state
    FROM paying p JOIN subscription_events e ON e.user_id = p.user_id AND e.occurred_at < p.c
    GROUP BY p.c, p.user_id
),
viewing AS (
    SELECT k.c, a.user_id,
           sum(a.watched_seconds) FILTER (WHERE a.day >= (k.c - interval '30 days')::date) / 3600.0 AS hours,
           count(DISTINCT a.day) FILTER (WHERE a.day >= (k.c - interval '30 days')::date
                                         AND a.qualified_plays > 0) AS active_days,
           max(a.day) FILTER (WHERE a.qualified_plays > 0) AS last_day
    FROM user_daily_activity a JOIN cutoffs k
      ON a.day >= (k.c - interval '90 days')::date AND a.day < (k.c AT TIME ZONE 'UTC')::date
    GROUP BY k.c, a.user_id
),
failures AS (
    SELECT k.c, f.user_id, count(*) AS failed
    FROM payment_attempts f JOIN cutoffs k ON f.attempted_at >= k.c - interval '90 days' AND f.attempted_at < k.c
    WHERE f.status = 'failed' GROUP BY k.c, f.user_id
),
labels AS (
    SELECT k.c, e.user_id, true AS churned
    FROM subscription_events e JOIN cutoffs k
      ON e.occurred_at >= k.c AND e.occurred_at < k.c + interval '30 days'
    WHERE e.kind = 'churned' GROUP BY k.c, e.user_id
)
SELECT p.c AS cutoff, p.user_id, p.plan_id, coalesce(u.country_code, '') AS country_code, p.mrr,
       pl.billing_period = 'year' AS is_annual,
       extract(epoch FROM p.c - h.first_paid_at) / 86400 AS tenure_days,
       coalesce(v.hours, 0) AS watch_hours_30d, coalesce(v.active_days, 0) AS active_days_30d,
       (p.c AT TIME ZONE 'UTC')::date - v.last_day AS days_since_play,
       coalesce(f.failed, 0) AS failed_payments_90d, h.pay_state = 'payment_failed' AS in_grace,
       (SELECT count(*) FROM profiles pr WHERE pr.user_id = p.user_id AND pr.created_at < p.c) AS profiles,
       h.reactivated, h.cancel_state = 'cancel_scheduled' AS pending_cancellation,
       coalesce(l.churned, false) AS churned
FROM paying p
JOIN history h ON h.c = p.c AND h.user_id = p.user_id
JOIN users u ON u.user_id = p.user_id
JOIN plans pl ON pl.plan_id = p.plan_id
LEFT JOIN viewing v ON v.c = p.c AND v.user_id = p.user_id
LEFT JOIN failures f ON f.c = p.c AND f.user_id = p.user_id
LEFT JOIN labels l ON l.c = p.c AND l.user_id = p.user_id
"""


@dataclass
class Evaluation:
    test_cutoff: datetime | None
    train_cutoffs: list[datetime]
    train_rows: int
    test_rows: int
    test_positives: int
    roc_auc: float | None
    pr_auc: float | None
    base_rate: float | None
    calibration: list[dict]
    coefficients: dict[str, float]


def features(conn: Connection, cutoffs: list[datetime]) -> pd.DataFrame:
    """The feature rows of every subscriber paying at each cutoff (labels included)."""
    rows = conn.execute(text(_FEATURES), {"cutoffs": cutoffs}).mappings().all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "cutoff",
            "user_id",
            "plan_id",
            "country_code",
            "mrr",
            "is_annual",
            "tenure_days",
            "watch_hours_30d",
            "active_days_30d",
            "days_since_play",
            "failed_payments_90d",
            "in_grace",
            "profiles",
            "reactivated",
            "pending_cancellation",
            "churned",
        ],
    )
    for column in ("mrr", "tenure_days", "watch_hours_30d"):
        frame[column] = frame[column].astype(float)
    frame["days_since_play"] = frame["days_since_play"].astype("Float64").fillna(NO_PLAY_DAYS).astype(float)
    for column in ("is_annual", "in_grace", "reactivated", "pending_cancellation", "churned"):
        frame[column] = frame[column].fillna(False).astype(bool)
    frame["log_tenure_days"] = np.log1p(frame["tenure_days"].clip(lower=0))
    frame["log_watch_hours_30d"] = np.log1p(frame["watch_hours_30d"])
    return frame


def snapshot_cutoffs(first_event: datetime, as_of: datetime) -> list[datetime]:
    """Month starts after the first event whose 30-day label window is over by `as_of`."""
    month = first_event.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + relativedelta(months=1)
    cutoffs = []
    while month + timedelta(days=LABEL_DAYS) <= as_of:
        cutoffs.append(month)
        month += relativedelta(months=1)
    return cutoffs


def split(cutoffs: list[datetime]) -> tuple[list[datetime], datetime | None]:
    """(training cutoffs, test cutoff): the latest labelled month is the test period; training keeps only
    the cutoffs whose label window closes by the test cutoff."""
    if not cutoffs:
        return [], None
    test = cutoffs[-1]
    return [c for c in cutoffs[:-1] if c + timedelta(days=LABEL_DAYS) <= test], test


def _matrix(frame: pd.DataFrame) -> np.ndarray:
    data = frame.assign(
        is_annual=frame["is_annual"].astype(float),
        in_grace=frame["in_grace"].astype(float),
        reactivated=frame["reactivated"].astype(float),
    )
    return data[NUMERIC_FEATURES].to_numpy(dtype=float)


def _model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))


def _trainable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame["pending_cancellation"]]


def evaluate(frame: pd.DataFrame, cutoffs: list[datetime]) -> tuple[Evaluation, object | None]:
    """Fit on the training cutoffs, score the test cutoff; the metrics (None where undefined)."""
    train_cutoffs, test_cutoff = split(cutoffs)
    data = _trainable(frame)
    train = data[data["cutoff"].isin(train_cutoffs)]
    test = data[data["cutoff"] == test_cutoff] if test_cutoff is not None else data.iloc[:0]
    empty = Evaluation(
        test_cutoff, train_cutoffs, len(train), len(test), int(test["churned"].sum()), None, None, None, [], {}
    )
    if train["churned"].nunique() < 2 or test.empty:
        return empty, None
    model = _model().fit(_matrix(train), train["churned"].to_numpy())
    y, p = test["churned"].to_numpy(), model.predict_proba(_matrix(test))[:, 1]
    empty.base_rate = float(y.mean())
    empty.coefficients = dict(zip(NUMERIC_FEATURES, model[-1].coef_[0].round(4).tolist(), strict=True))
    if len(set(y)) == 2:
        empty.roc_auc, empty.pr_auc = float(roc_auc_score(y, p)), float(average_precision_score(y, p))
        observed, predicted = calibration_curve(y, p, n_bins=min(10, max(2, len(y) // 50)), strategy="quantile")
        empty.calibration = [
            {"predicted": round(float(a), 4), "observed": round(float(b), 4)}
            for a, b in zip(predicted, observed, strict=True)
        ]
    return empty, model


def fit_all(frame: pd.DataFrame, cutoffs: list[datetime]):
    """The model scored today: refitted on every labelled cutoff (None if one class only)."""
    data = _trainable(frame[frame["cutoff"].isin(cutoffs)])
    if data["churned"].nunique() < 2:
        return None
    return _model().fit(_matrix(data), data["churned"].to_numpy())


def score(model, current: pd.DataFrame) -> np.ndarray:
    """Probability of churning within 30 days for each row (NaN for pending cancellations, or no model)."""
    result = np.full(len(current), np.nan)
    if model is None or current.empty:
        return result
    scorable = ~current["pending_cancellation"].to_numpy()
    if scorable.any():
        result[scorable] = model.predict_proba(_matrix(current[scorable]))[:, 1]
    return result
