"""What the Overview and Revenue pages draw: the KPI tiles and the monthly series, read from the rollups."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, text

from backend.analytics.reading import authorise
from backend.analytics.revenue_metrics import RATE, as_decimal, exact_ratio, metrics_in, rounded
from backend.analytics.selection import COUNTRY_IN, NO_FILTERS, PLAN_IN, Filters, Period

# (label, column, kind) of the Overview tiles; kind: money, count, rate (a fraction) or ratio.
KPI_TILES = [
    ("MRR", "end_mrr", "money"),
    ("ARR", "arr", "money"),
    ("Active subscribers", "active_end", "count"),
    ("ARPU", "arpu", "money"),
    ("Subscriber churn", "churn_rate", "rate"),
    ("Gross revenue churn", "gross_revenue_churn_rate", "rate"),
    ("NRR", "nrr", "rate"),
    ("LTV", "ltv", "money"),
    ("Quick ratio", "quick_ratio", "ratio"),
    ("Trial conversion", "trial_conversion", "rate"),
    ("Cash collected", "cash_collected", "money"),
]


def kpis(metrics: pd.DataFrame) -> pd.DataFrame:
    """The Overview tiles: each metric in the last month, the month before, and the change between them
    (money and counts: relative change, a fraction; rates and ratios: the difference). None = n/a."""
    rows = []
    last = metrics.iloc[-1] if len(metrics) else None
    before = metrics.iloc[-2] if len(metrics) > 1 else None
    for label, column, kind in KPI_TILES:
        value = None if last is None else last[column]
        previous = None if before is None else before[column]
        if value is None or previous is None:
            change = None
        elif kind in ("money", "count"):
            change = rounded(exact_ratio(as_decimal(value) - as_decimal(previous), as_decimal(previous)), RATE)
        else:
            change = value - previous
        rows.append(
            {
                "metric": label,
                "column": column,
                "kind": kind,
                "month": None if last is None else last["month"],
                "value": value,
                "previous": previous,
                "change": change,
            }
        )
    return pd.DataFrame(rows)


def _mrr_by_plan(conn: Connection, period: Period, filters: Filters) -> pd.DataFrame:
    rows = conn.execute(
        text(f"""
        SELECT r.month, p.name AS plan, sum(r.end_mrr) AS mrr, sum(r.active_end) AS subscribers
        FROM revenue_monthly r JOIN plans p ON p.plan_id = r.end_plan_id
        WHERE r.month BETWEEN :first AND :last AND r.end_plan_id <> 0
          AND {PLAN_IN.format(col="r.end_plan_id")} AND {COUNTRY_IN}
        GROUP BY r.month, p.name ORDER BY r.month, p.name"""),
        {"first": period.first, "last": period.last, **filters.params()},
    ).all()
    return pd.DataFrame(rows, columns=["month", "plan", "mrr", "subscribers"])


def overview(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """The Overview page's data: the KPI tiles, MRR/ARR/subscribers/ARPU per month, churn and retention."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        metrics = metrics_in(conn, period.widened(1), filters)
    shown = metrics[metrics["month"] >= period.first]
    return {
        "kpis": kpis(metrics),
        "growth": shown[["month", "end_mrr", "arr", "active_end", "arpu", "ltv"]].reset_index(drop=True),
        "retention": shown[
            [
                "month",
                "churn_rate",
                "voluntary_churn_rate",
                "involuntary_churn_rate",
                "gross_revenue_churn_rate",
                "net_revenue_churn_rate",
                "nrr",
                "grr",
                "quick_ratio",
                "trials_started",
                "trials_converted",
                "trial_conversion",
            ]
        ].reset_index(drop=True),
    }


def revenue_page(
    engine: Engine, period: Period, filters: Filters = NO_FILTERS, *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """The Revenue page's data: MRR movements, MRR by plan, cash vs MRR, failed payments and recovery."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        metrics = metrics_in(conn, period, filters)
        by_plan = _mrr_by_plan(conn, period, filters)
    return {
        "movements": metrics[
            [
                "month",
                "start_mrr",
                "new_mrr",
                "expansion_mrr",
                "reactivation_mrr",
                "moved_in_mrr",
                "contraction_mrr",
                "churned_mrr",
                "moved_out_mrr",
                "net_new_mrr",
                "end_mrr",
            ]
        ],
        "mrr_by_plan": by_plan,
        "cash_vs_mrr": metrics[["month", "cash_collected", "end_mrr"]],
        "payments": metrics[
            [
                "month",
                "failed_payment_attempts",
                "failed_renewals",
                "renewals_recovered",
                "renewals_lost",
                "recovery_rate",
            ]
        ],
    }
