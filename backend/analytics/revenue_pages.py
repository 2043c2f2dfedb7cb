"""What the Overview and Revenue pages draw: the KPI tiles and the monthly series, read from the rollups."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, text

from backend.analytics.reading import authorise
from backend.analytics.revenue_metrics import RATE, as_decimal, exact_ratio, metrics_in, rounded
from backend.analytics.selection import COUNTRY_IN, NO_FILTERS, PLAN_IN, Filters, Period

# (label, column, kind, measure) of the Overview tiles; kind: money, count, rate (a fraction) or ratio;
# measure: "stock" (a value at an instant: the month's end, or now for the month to date) or "flow" (what
# happened during the month).
KPI_TILES = [
    ("MRR", "end_mrr", "money", "stock"),
    ("ARR", "arr", "money", "stock"),
    ("Active subscribers", "active_end", "count", "stock"),
    ("ARPU", "arpu", "money", "stock"),
    ("Subscriber churn", "churn_rate", "rate", "flow"),
    ("Gross revenue churn", "gross_revenue_churn_rate", "rate", "flow"),
    ("NRR", "nrr", "rate", "flow"),
    ("LTV", "ltv", "money", "stock"),
    ("Quick ratio", "quick_ratio", "ratio", "flow"),
    ("Trial conversion", "trial_conversion", "rate", "flow"),
    ("Cash collected", "cash_collected", "money", "flow"),
]
PENDING = {"trial_conversion": ("trial_conversion_pending", "trials_running", "trials still running")}


def _compare(value, previous, kind: str):
    if value is None or previous is None:
        return None
    if kind in ("money", "count"):
        return rounded(exact_ratio(as_decimal(value) - as_decimal(previous), as_decimal(previous)), RATE)
    return value - previous


def kpis(metrics: pd.DataFrame) -> pd.DataFrame:
    """The Overview tiles: each metric in the last month, the month before, and the change between them
    (money and counts: relative change, a fraction; rates and ratios: the difference). None = n/a.

    Like for like or not at all: when the last month is the month to date, a stock (MRR, subscribers, ARPU,
    LTV: values at an instant) is compared with the end of the month before ("since <day>"), and a flow
    (churn, cash, NRR...: what happened in the month) is not compared with a full month. A figure whose
    outcome is still open (trials running) is `pending`, with `open` saying how many."""
    rows = []
    last = metrics.iloc[-1] if len(metrics) else None
    before = metrics.iloc[-2] if len(metrics) > 1 else None
    to_date = bool(last is not None and last["month_to_date"])
    for label, column, kind, measure in KPI_TILES:
        value = None if last is None else last[column]
        previous = None if before is None else before[column]
        open_figure = None
        if last is not None and column in PENDING:
            flag, open_column, open_what = PENDING[column]
            open_figure = f"{int(last[open_column]):,} {open_what}" if last[flag] else None
        pending = open_figure is not None
        compared = not (to_date and measure == "flow") and not pending
        if not compared or last is None:
            basis = None
        elif to_date:
            basis = f"since {last['month'] - timedelta(days=1):%d %b}"
        else:
            basis = "MoM"
        rows.append(
            {
                "metric": label,
                "column": column,
                "kind": kind,
                "measure": measure,
                "month": None if last is None else last["month"],
                "month_to_date": to_date,
                "value": value,
                "previous": previous,
                "change": _compare(value, previous, kind) if compared else None,
                "compared_with": basis,
                "pending": pending,
                "open": open_figure,
            }
        )
    return pd.DataFrame(rows, dtype=object)  # None stays None (n/a, not compared), never NaN


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
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    acting_user_id: int | None,
    today: date | None = None,
) -> dict[str, pd.DataFrame]:
    """The Overview page's data: the KPI tiles, MRR/ARR/subscribers/ARPU per month, churn and retention."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        metrics = metrics_in(conn, period.widened(1), filters, today)
    shown = metrics[metrics["month"] >= period.first]
    return {
        "kpis": kpis(metrics),
        "growth": shown[["month", "month_to_date", "end_mrr", "arr", "active_end", "arpu", "ltv"]].reset_index(
            drop=True
        ),
        "retention": shown[
            [
                "month",
                "month_to_date",
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
                "trials_running",
                "trial_conversion",
                "trial_conversion_pending",
                "trials_ever_paid",
                "trial_ever_paid_rate",
            ]
        ].reset_index(drop=True),
    }


def revenue_page(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    acting_user_id: int | None,
    today: date | None = None,
) -> dict[str, pd.DataFrame]:
    """The Revenue page's data: MRR movements, MRR by plan, cash vs MRR, failed payments and recovery."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        metrics = metrics_in(conn, period, filters, today)
        by_plan = _mrr_by_plan(conn, period, filters)
    return {
        "movements": metrics[
            [
                "month",
                "month_to_date",
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
        "cash_vs_mrr": metrics[["month", "month_to_date", "cash_collected", "end_mrr"]],
        "payments": metrics[
            [
                "month",
                "month_to_date",
                "failed_payment_attempts",
                "failed_renewals",
                "renewals_recovered",
                "renewals_lost",
                "renewals_in_grace",
                "recovery_rate",
                "recovery_rate_pending",
            ]
        ],
    }
