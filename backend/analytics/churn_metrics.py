"""The figures the Churn & retention dashboard reads, from the churn rollups (backend.analytics.churn_rollups).

Every function checks the acting account's role first (admin or analyst) and takes the dashboards'
`Period` and `Filters`.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, text

from backend.analytics import reading, selection
from backend.analytics.churn_rollups import TENURE_BANDS
from backend.analytics.selection import NO_FILTERS, Filters, Period

PLAN_IN = selection.PLAN_IN.format(col="plan_id")
COUNTRY_IN = selection.COUNTRY_IN
CHURN_BY = {"month": "month", "plan": "plan_id", "country": "country_code", "tenure": "tenure_band"}


def _params(period: Period, filters: Filters) -> dict:
    return {"first": period.first, "last": period.last, **filters.params()}


def churn_rates(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, by: str = "month", acting_user_id: int | None
) -> pd.DataFrame:
    """Logo churn (churned in the month / active at its start), voluntary and involuntary, per month or
    pooled over the period's months per plan (at the start of the month), country or tenure band."""
    reading.authorise(engine, acting_user_id)
    if by not in CHURN_BY:
        raise ValueError(f"by is one of {', '.join(CHURN_BY)}")
    column = CHURN_BY[by]
    label = "(SELECT name FROM plans p WHERE p.plan_id = c.plan_id)" if by == "plan" else column
    frame = reading.frame(
        engine,
        f"""
        SELECT {label} AS {by}, sum(active_start)::int AS active_start, sum(churned)::int AS churned,
               sum(churned_voluntary)::int AS churned_voluntary, sum(churned_involuntary)::int AS churned_involuntary,
               sum(churned_mrr) AS churned_mrr
        FROM churn_monthly c WHERE month BETWEEN :first AND :last AND {PLAN_IN} AND {COUNTRY_IN}
        GROUP BY c.{column} ORDER BY c.{column}""",
        _params(period, filters),
    )
    if by == "tenure":
        frame["tenure"] = pd.Categorical(frame["tenure"], TENURE_BANDS, ordered=True)
        frame = frame.sort_values("tenure").reset_index(drop=True)
    for kind in ("churned", "churned_voluntary", "churned_involuntary"):
        frame[kind.replace("churned", "churn_rate")] = reading.rate(frame[kind], frame["active_start"])
    return frame


def cohorts(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> pd.DataFrame:
    """Cohorts of the period's months (first paid day), plan = the first paid plan: logo and net MRR retention
    at each month k (0 = the cohort's own month) up to the last complete month."""
    reading.authorise(engine, acting_user_id)
    frame = reading.frame(
        engine,
        f"""
        SELECT cohort_month, month_index, sum(cohort_size)::int AS cohort_size, sum(active)::int AS active,
               sum(new_mrr) AS new_mrr, sum(mrr) AS mrr
        FROM cohort_retention WHERE cohort_month BETWEEN :first AND :last AND {PLAN_IN} AND {COUNTRY_IN}
        GROUP BY 1, 2 ORDER BY 1, 2""",
        _params(period, filters),
    )
    frame["logo_retention"] = reading.rate(frame["active"], frame["cohort_size"])
    frame["net_mrr_retention"] = reading.rate(frame["mrr"], frame["new_mrr"])
    return frame


def survival(engine: Engine, group_kind: str = "plan", *, acting_user_id: int | None) -> pd.DataFrame:
    """The Kaplan-Meier curves ('all', 'plan' or 'cohort'): survival by days since the first paid day."""
    reading.authorise(engine, acting_user_id)
    frame = reading.frame(
        engine,
        """SELECT group_key, t_days, survival, ci_low, ci_high, at_risk FROM survival_curves
                              WHERE group_kind = :kind ORDER BY group_key, t_days""",
        {"kind": group_kind},
    )
    for column in ("survival", "ci_low", "ci_high"):
        frame[column] = frame[column].astype(float)
    return frame


def model_run(engine: Engine, *, acting_user_id: int | None) -> dict | None:
    """The latest churn-model run: test period, ROC-AUC, PR-AUC, base rate, calibration, coefficients."""
    reading.authorise(engine, acting_user_id)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM churn_model_runs ORDER BY run_id DESC LIMIT 1")).mappings().first()
    return dict(row) if row else None


def at_risk(
    engine: Engine, filters: Filters = NO_FILTERS, *, limit: int = 50, acting_user_id: int | None
) -> tuple[pd.DataFrame, dict]:
    """The scored subscribers by MRR at risk (probability x MRR), and the totals."""
    reading.authorise(engine, acting_user_id)
    where = f"NOT pending_cancellation AND probability IS NOT NULL AND {PLAN_IN} AND {COUNTRY_IN}"
    params = filters.params() | {"limit": limit}
    top = reading.frame(
        engine,
        f"""
        SELECT u.email, u.display_name, p.name AS plan, s.country_code, s.mrr, s.tenure_days, s.watch_hours_30d,
               s.days_since_play, s.probability, s.mrr_at_risk
        FROM (SELECT * FROM churn_scores WHERE {where} ORDER BY mrr_at_risk DESC, user_id LIMIT :limit) s
        JOIN users u ON u.user_id = s.user_id JOIN plans p ON p.plan_id = s.plan_id
        ORDER BY s.mrr_at_risk DESC, s.user_id""",
        params,
    )
    with engine.connect() as conn:
        totals = (
            conn.execute(
                text(f"""
            SELECT count(*) AS scored, coalesce(sum(mrr), 0) AS mrr, coalesce(sum(mrr_at_risk), 0) AS mrr_at_risk,
                   coalesce(sum(probability), 0) AS expected_churners
            FROM churn_scores WHERE {where}"""),
                params,
            )
            .mappings()
            .one()
        )
    return top, dict(totals)


def pending_cancellations(engine: Engine, filters: Filters = NO_FILTERS, *, acting_user_id: int | None) -> pd.DataFrame:
    """Paying subscribers who scheduled a cancellation (they keep access to the period end), soonest first."""
    reading.authorise(engine, acting_user_id)
    return reading.frame(
        engine,
        f"""
        SELECT u.email, u.display_name, p.name AS plan, s.country_code, s.mrr, s.tenure_days, s.cancels_at
        FROM churn_scores s JOIN users u ON u.user_id = s.user_id JOIN plans p ON p.plan_id = s.plan_id
        WHERE s.pending_cancellation AND {PLAN_IN.replace("plan_id", "s.plan_id")}
          AND {COUNTRY_IN.replace("country_code", "s.country_code")}
        ORDER BY s.cancels_at NULLS LAST, s.user_id""",
        filters.params(),
    )


def page_data(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    survival_group: str = "plan",
    acting_user_id: int | None,
) -> dict:
    """Everything the Churn & retention page draws, with the survival curves grouped by `survival_group`."""
    frames = {
        f"churn_by_{by}": churn_rates(engine, period, filters, by=by, acting_user_id=acting_user_id) for by in CHURN_BY
    }
    top, totals = at_risk(engine, filters, acting_user_id=acting_user_id)
    return frames | {
        "cohorts": cohorts(engine, period, filters, acting_user_id=acting_user_id),
        "survival": survival(engine, survival_group, acting_user_id=acting_user_id),
        "model": model_run(engine, acting_user_id=acting_user_id),
        "at_risk": top,
        "at_risk_totals": totals,
        "pending": pending_cancellations(engine, filters, acting_user_id=acting_user_id),
    }
