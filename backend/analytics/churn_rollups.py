"""Churn and retention rollups (migration 0009), rebuilt from `subscription_events` (the one revenue history):

- `cohort_retention`: cohorts by month of first paid day (metrics.md); for each complete month k after,
  members active (MRR > 0) at its end and their MRR. A reactivated member stays in the first cohort.
- `survival_curves`: Kaplan-Meier estimate (statsmodels' SurvfuncRight) of days from first paid day
  to the first churn, censored at `as_of` for those still paying; all, by first plan, by cohort.
- `churn_monthly`: per month, plan at the start, country and tenure band, the subscribers active at
  the start, those who churned (voluntary/involuntary), using mrr_replay's per-subscriber months, and
  what those subscribers watched in the month.
- `churn_model_runs` / `churn_scores`: the churn model (backend.analytics.churn_model) and today's scores.

Everything is a whole rebuild in one transaction (these tables are small), so a re-run is idempotent.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, Engine, text
from statsmodels.duration.survfunc import SurvfuncRight

from backend.analytics import churn_model, mrr_replay
from backend.core.money import to_cent

Z95 = 1.959964
TENURE_BANDS = ["under 1 month", "1-2 months", "3-5 months", "6-11 months", "12+ months"]


# Subscribers paying at the start of each month, by plan then, country and tenure (months since the
# first paid day); mrr_replay.py's per-subscriber months decide who churned and why, as on every dashboard.
# `watched_seconds` is what these same subscribers watched during the month (user_daily_activity, summed per
# subscriber first), so watch hours per subscriber divide one population by itself.
_CHURN_MONTHLY = f"""
INSERT INTO churn_monthly (month, plan_id, country_code, tenure_band, active_start, churned, churned_voluntary,
                           churned_involuntary, start_mrr, churned_mrr, watched_seconds)
WITH {mrr_replay.PER_SUBSCRIBER_MONTHS},
tenure AS (
    SELECT c.*, extract(year FROM age(c.month::timestamptz, f.first_paid_at)) * 12
                + extract(month FROM age(c.month::timestamptz, f.first_paid_at)) AS months
    FROM classified c JOIN first_paid f ON f.user_id = c.user_id
    WHERE c.s > 0
),
watched AS (
    SELECT user_id, (date_trunc('month', day))::date AS month, sum(watched_seconds) AS seconds
    FROM user_daily_activity WHERE day >= CAST(:first AS date) GROUP BY 1, 2
)
SELECT t.month, t.start_plan_id, coalesce(u.country_code, ''),
       CASE WHEN months < 1 THEN '{TENURE_BANDS[0]}' WHEN months < 3 THEN '{TENURE_BANDS[1]}'
            WHEN months < 6 THEN '{TENURE_BANDS[2]}' WHEN months < 12 THEN '{TENURE_BANDS[3]}'
            ELSE '{TENURE_BANDS[4]}' END,
       count(*), count(*) FILTER (WHERE t.e = 0),
       count(*) FILTER (WHERE t.e = 0 AND t.end_reason = 'voluntary'),
       count(*) FILTER (WHERE t.e = 0 AND t.end_reason = 'involuntary'),
       sum(t.s), coalesce(sum(t.s) FILTER (WHERE t.e = 0), 0), coalesce(sum(w.seconds), 0)
FROM tenure t JOIN users u ON u.user_id = t.user_id
LEFT JOIN watched w ON w.user_id = t.user_id AND w.month = t.month
GROUP BY 1, 2, 3, 4
"""


_MEMBERS = """
first_paid AS (  -- each subscriber's first paid event: cohort, first plan, New MRR
    SELECT DISTINCT ON (user_id) user_id, occurred_at AS first_paid_at, plan_id, mrr AS new_mrr
    FROM subscription_events WHERE mrr > 0 ORDER BY user_id, occurred_at, event_id
),
members AS (
    SELECT f.*, (date_trunc('month', f.first_paid_at AT TIME ZONE 'UTC'))::date AS cohort,
           coalesce(u.country_code, '') AS country_code
    FROM first_paid f JOIN users u ON u.user_id = f.user_id
)"""


_COHORTS = f"""
INSERT INTO cohort_retention (cohort_month, month_index, plan_id, country_code, cohort_size, active, new_mrr, mrr)
WITH segments AS (
    SELECT user_id, occurred_at AS valid_from, mrr,
           LEAD(occurred_at) OVER (PARTITION BY user_id ORDER BY occurred_at, event_id) AS valid_to
    FROM subscription_events
), {_MEMBERS},
months AS (
    SELECT m::date AS month, (m + interval '1 month') AT TIME ZONE 'UTC' AS month_end
    FROM generate_series(CAST(:first AS timestamp), CAST(:last AS timestamp), interval '1 month') m
),
state AS (
    SELECT mb.cohort, mb.plan_id, mb.country_code, mb.new_mrr, mo.month,
           coalesce((SELECT s.mrr FROM segments s WHERE s.user_id = mb.user_id AND s.valid_from < mo.month_end
                     AND (s.valid_to IS NULL OR s.valid_to >= mo.month_end)), 0) AS mrr
    FROM members mb JOIN months mo ON mo.month >= mb.cohort
)
SELECT cohort, (extract(year FROM age(month, cohort)) * 12 + extract(month FROM age(month, cohort)))::int,
       plan_id, country_code, count(*), count(*) FILTER (WHERE mrr > 0), sum(new_mrr), sum(mrr)
FROM state GROUP BY 1, 2, 3, 4
"""


_LIFETIMES = f"""
WITH {_MEMBERS},
first_churn AS (
    SELECT m.user_id, min(e.occurred_at) AS churned_at
    FROM members m JOIN subscription_events e ON e.user_id = m.user_id
    WHERE e.kind = 'churned' AND e.occurred_at > m.first_paid_at AND e.occurred_at <= :as_of
    GROUP BY m.user_id
)
SELECT m.user_id, m.cohort, p.name AS plan, m.first_paid_at, c.churned_at
FROM members m JOIN plans p ON p.plan_id = m.plan_id LEFT JOIN first_churn c ON c.user_id = m.user_id
WHERE m.first_paid_at <= :as_of
"""


def refresh(engine: Engine, as_of: datetime | None = None, *, model_max_age: timedelta | None = None) -> list[str]:
    """Rebuild the churn and retention rollups and rescore (as of `as_of`, default now); the tables written.

    With `model_max_age`, the model is retrained and rescored only when its latest run is older than that
    (the billing job refreshes every few minutes; a model a few hours old is as good)."""
    as_of = as_of or datetime.now(UTC)
    written = ["churn_monthly", "cohort_retention", "survival_curves"]
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
        refresh_churn_monthly(conn, as_of)
        refresh_cohorts(conn, as_of)
        refresh_survival(conn, as_of)
        last = conn.execute(text("SELECT max(as_of) FROM churn_model_runs")).scalar()
        if model_max_age is None or last is None or as_of - last >= model_max_age:
            refresh_model(conn, as_of)
            written += ["churn_model_runs", "churn_scores"]
    return written


def refresh_churn_monthly(conn: Connection, as_of: datetime) -> None:
    """Every month from the first event to the month of `as_of` (the last one to date)."""
    conn.execute(text("DELETE FROM churn_monthly"))
    first = conn.execute(text("SELECT min(occurred_at) FROM subscription_events")).scalar()
    if first is not None:
        conn.execute(
            text(_CHURN_MONTHLY), {"first": first.date().replace(day=1), "last": date(as_of.year, as_of.month, 1)}
        )


def refresh_cohorts(conn: Connection, as_of: datetime) -> None:
    """Cohorts up to the last complete month before `as_of`."""
    conn.execute(text("DELETE FROM cohort_retention"))
    first = conn.execute(text("SELECT min(occurred_at) FROM subscription_events WHERE mrr > 0")).scalar()
    last = date(as_of.year, as_of.month, 1) - relativedelta(months=1)
    if first is None or first.date().replace(day=1) > last:
        return
    conn.execute(text(_COHORTS), {"first": first.date().replace(day=1), "last": last})


def kaplan_meier(days: np.ndarray, churned: np.ndarray) -> pd.DataFrame:
    """Survival at each event time (t=0 first), with log-log 95% pointwise bounds and the number at risk."""
    fit = SurvfuncRight(days.astype(float), churned.astype(int))
    s, se = fit.surv_prob, fit.surv_prob_se
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(s)
        width = Z95 * se / np.abs(s * log_s)
        low, high = np.exp(-np.exp(np.log(-log_s) + width)), np.exp(-np.exp(np.log(-log_s) - width))
    defined = (s > 0) & (s < 1)
    frame = pd.DataFrame(
        {
            "t_days": fit.surv_times.astype(int),
            "survival": s,
            "ci_low": np.where(defined, low, np.nan),
            "ci_high": np.where(defined, high, np.nan),
            "at_risk": fit.n_risk.astype(int),
        }
    )
    start = pd.DataFrame({"t_days": [0], "survival": [1.0], "ci_low": [1.0], "ci_high": [1.0], "at_risk": [len(days)]})
    return pd.concat([start, frame[frame["t_days"] > 0]], ignore_index=True) if len(frame) else start


def refresh_survival(conn: Connection, as_of: datetime) -> None:
    conn.execute(text("DELETE FROM survival_curves"))
    lives = pd.DataFrame(
        conn.execute(text(_LIFETIMES), {"as_of": as_of}).mappings().all(),
        columns=["user_id", "cohort", "plan", "first_paid_at", "churned_at"],
    )
    if lives.empty:
        return
    end = lives["churned_at"].map(lambda t: (as_of if pd.isna(t) else t).timestamp())
    lives["days"] = (end - lives["first_paid_at"].map(lambda t: t.timestamp())) // 86400
    lives["churned"] = lives["churned_at"].notna()
    groups = [("all", "all", lives)]
    groups += [("plan", str(plan), g) for plan, g in lives.groupby("plan")]
    groups += [("cohort", f"{cohort:%Y-%m}", g) for cohort, g in lives.groupby("cohort")]
    rows = []
    for kind, key, group in groups:
        curve = kaplan_meier(group["days"].to_numpy(), group["churned"].to_numpy())
        for r in curve.to_dict("records"):
            rows.append(
                {
                    "kind": kind,
                    "key": key,
                    "t": int(r["t_days"]),
                    "s": round(float(r["survival"]), 6),
                    "lo": None if np.isnan(r["ci_low"]) else round(float(r["ci_low"]), 6),
                    "hi": None if np.isnan(r["ci_high"]) else round(float(r["ci_high"]), 6),
                    "n": int(r["at_risk"]),
                }
            )
    conn.execute(
        text("""INSERT INTO survival_curves (group_kind, group_key, t_days, survival, ci_low, ci_high, at_risk)
                         VALUES (:kind, :key, :t, :s, :lo, :hi, :n)"""),
        rows,
    )


def refresh_model(conn: Connection, as_of: datetime) -> int | None:
    """Evaluate on the time split, refit, score today's paying subscribers; the run id (None: no history)."""
    first = conn.execute(text("SELECT min(occurred_at) FROM subscription_events WHERE mrr > 0")).scalar()
    conn.execute(text("DELETE FROM churn_scores"))
    if first is None:
        return None
    cutoffs = churn_model.snapshot_cutoffs(first, as_of)
    history = churn_model.features(conn, cutoffs) if cutoffs else churn_model.features(conn, [])
    evaluation, _ = churn_model.evaluate(history, cutoffs)
    model = churn_model.fit_all(history, cutoffs)
    run_id = _record_run(conn, as_of, evaluation)
    current = churn_model.features(conn, [as_of])
    if current.empty:
        return run_id
    current["probability"] = churn_model.score(model, current)
    _store_scores(conn, run_id, current)
    return run_id


def _record_run(conn: Connection, as_of: datetime, e: churn_model.Evaluation) -> int:
    details = {
        "train_cutoffs": [c.date().isoformat() for c in e.train_cutoffs],
        "base_rate": e.base_rate,
        "calibration": e.calibration,
        "coefficients": e.coefficients,
        "label_days": churn_model.LABEL_DAYS,
        "features": churn_model.NUMERIC_FEATURES,
    }
    return conn.execute(
        text("""
        INSERT INTO churn_model_runs (trained_at, as_of, test_cutoff, train_cutoffs, train_rows, test_rows,
                                      test_positives, roc_auc, pr_auc, model, details)
        VALUES (:now, :as_of, :test, :n_cut, :train, :test_rows, :pos, :roc, :pr, :model, CAST(:details AS jsonb))
        RETURNING run_id"""),
        {
            "now": datetime.now(UTC),
            "as_of": as_of,
            "test": e.test_cutoff.date() if e.test_cutoff else None,
            "n_cut": len(e.train_cutoffs),
            "train": e.train_rows,
            "test_rows": e.test_rows,
            "pos": e.test_positives,
            "roc": None if e.roc_auc is None else round(e.roc_auc, 5),
            "pr": None if e.pr_auc is None else round(e.pr_auc, 5),
            "model": churn_model.MODEL,
            "details": json.dumps(details),
        },
    ).scalar_one()


def _store_scores(conn: Connection, run_id: int, current: pd.DataFrame) -> None:
    """COPY today's scores (pending cancellations carry no probability: they are listed apart)."""
    ends = pd.DataFrame(
        conn.execute(
            text("""
        SELECT user_id, current_period_end AS cancels_at FROM subscriptions
        WHERE cancel_at_period_end AND status IN ('active', 'past_due')""")
        ).all(),
        columns=["user_id", "cancels_at"],
    )
    c = current.merge(ends, on="user_id", how="left")
    p = c["probability"].round(5)
    since = c["days_since_play"].where(c["days_since_play"] < churn_model.NO_PLAY_DAYS)
    _copy(
        conn,
        "churn_scores",
        pd.DataFrame(
            {
                "user_id": c["user_id"],
                "run_id": run_id,
                "plan_id": c["plan_id"],
                "country_code": c["country_code"],
                "mrr": c["mrr"],
                "tenure_days": c["tenure_days"].astype(int),
                "watch_hours_30d": c["watch_hours_30d"].round(2),
                "days_since_play": since.astype("Int64"),
                "pending_cancellation": c["pending_cancellation"],
                "cancels_at": pd.to_datetime(c["cancels_at"], utc=True),
                "probability": p,
                # Money: Decimal, half-up to the cent (the probability is exact at 5 decimals).
                "mrr_at_risk": [
                    to_cent(Decimal(str(mrr)) * Decimal(f"{q:.5f}")) for mrr, q in zip(c["mrr"], p, strict=True)
                ],
            }
        ),
    )


def _copy(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """COPY a frame as CSV: an empty unquoted field is NULL, except in country_code ('' = unknown)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="", date_format="%Y-%m-%d %H:%M:%S.%f+00")
    buffer.seek(0)
    driver = conn.connection.driver_connection  # psycopg2's connection (for COPY)
    assert driver is not None  # a checked-out connection always has one
    driver.cursor().copy_expert(
        f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (country_code))", buffer
    )
