"""Every revenue and subscriber metric of ../shared/docs/metrics.md, month by month, from the revenue rollups.

The rollups (backend.analytics.revenue_rollups) are kept fresh by the seeder, the billing cycle and
`python -m backend.analytics refresh`. Dashboards read only the rollups: every metric is a function of
(period, filters).

Choices where metrics.md is silent (the pages' captions say them too):
- **Plan filter** (ChartMogul's "plan is one of"): in the MRR bridge a subscriber's MRR counts in the
  plan it is on at that instant. A switch between two selected plans is expansion or contraction; a switch
  into or out of the selection is *moved in* / *moved out* (ChartMogul's "MRR entering/leaving segment"),
  never new business or churn. So End = Start + New + Expansion + Reactivation + Moved in - Contraction -
  Churn - Moved out; with all plans, moved in = moved out = 0.
- **Rates under a plan filter** (`PLAN_FILTER_RULE`, the same in tiles, charts, CLI and API): NRR, GRR,
  gross and net revenue churn and the quick ratio follow the subscribers who were on the selected plans at
  the start of the month, wherever they are at its end: a move to another plan counts at its new price, as
  expansion or contraction (`start_cohort_expansion_mrr`, `start_cohort_contraction_mrr`), not as kept
  and not as lost. So the plans' NRRs, weighted by their start MRR, add up to the NRR of all plans.
- **Country** is the account's `country_code` ('' = unknown).
- **Trial conversion** of month m: of the trials started in m, those converted from that trial (its first
  charge succeeded when it ended) / trials started. While any of them is still running the figure is
  *pending* (None, `trial_conversion_pending` true), never a low number. `trial_ever_paid_rate` is a second,
  looser figure: the member has paid at some time since (e.g. came back months after the trial expired).
- **Failed payments**: failed payment attempts in the month (any kind). **Recovery rate** of month m:
  of the renewals that failed in m (the subscription went past due), recovered / (recovered + lost to
  involuntary churn); *pending* while any of them is still inside its grace period (`renewals_in_grace`).
- **LTV**: ARPU / the mean of the subscriber churn rates of the 6 months before (months with no
  subscribers at their start have no rate and are skipped); n/a when none or when the mean is 0.
- **Month to date**: the current UTC month is marked `month_to_date`; its flows (churn, cash, movements)
  cover the days so far, so the pages never compare it with a full month.
- **Numbers**: money is Decimal, rounded half-up to the cent (14.625 -> 14.63, as backend.core.money);
  rates are fractions (0.0345 = 3.45 %) rounded half-up to 4 decimals; the quick ratio to 2 decimals; n/a
  is None (`null` in JSON). Everything is computed exactly and rounded once, at the end.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from sqlalchemy import Connection, Engine, text

from backend.analytics.reading import authorise
from backend.analytics.selection import COUNTRY_IN, NO_FILTERS, PLAN_IN, Filters, Period, is_month_to_date

CENT = Decimal("0.01")
RATE = Decimal("0.0001")
RATIO = Decimal("0.01")
ZERO = Decimal("0.00")
LTV_WINDOW = 6  # months of churn rate averaged for LTV
PLAN_FILTER_RULE = (
    "With a plan filter, NRR, GRR, revenue churn and the quick ratio follow the subscribers on the selected "
    "plans at the start of the month wherever they are at its end: a move to another plan counts at its new "
    "price (expansion or contraction), so the plans' NRRs weighted by start MRR add up to the NRR of all plans; "
    "the MRR bridge shows such moves as moved in/out."
)
_MONTHLY_SQL = text(f"""
WITH r AS (
    SELECT *, start_plan_id <> 0 AND {PLAN_IN.format(col="start_plan_id")} AS in_s,
              end_plan_id <> 0 AND {PLAN_IN.format(col="end_plan_id")} AS in_e
    FROM revenue_monthly
    WHERE month BETWEEN :first AND :last AND {COUNTRY_IN}
),
revenue AS (
    SELECT month AS revenue_month,
           coalesce(sum(start_mrr) FILTER (WHERE in_s), 0) AS start_mrr,
           coalesce(sum(new_mrr) FILTER (WHERE in_e), 0) AS new_mrr,
           coalesce(sum(expansion_mrr) FILTER (WHERE in_s AND in_e), 0) AS expansion_mrr,
           coalesce(sum(reactivation_mrr) FILTER (WHERE in_e), 0) AS reactivation_mrr,
           coalesce(sum(end_mrr) FILTER (WHERE start_plan_id <> 0 AND NOT in_s AND in_e), 0) AS moved_in_mrr,
           coalesce(sum(contraction_mrr) FILTER (WHERE in_s AND in_e), 0) AS contraction_mrr,
           coalesce(sum(expansion_mrr) FILTER (WHERE in_s), 0) AS start_cohort_expansion_mrr,
           coalesce(sum(contraction_mrr) FILTER (WHERE in_s), 0) AS start_cohort_contraction_mrr,
           coalesce(sum(churned_mrr) FILTER (WHERE in_s), 0) AS churned_mrr,
           coalesce(sum(start_mrr) FILTER (WHERE end_plan_id <> 0 AND in_s AND NOT in_e), 0) AS moved_out_mrr,
           coalesce(sum(end_mrr) FILTER (WHERE in_e), 0) AS end_mrr,
           coalesce(sum(active_start) FILTER (WHERE in_s), 0) AS active_start,
           coalesce(sum(active_end) FILTER (WHERE in_e), 0) AS active_end,
           coalesce(sum(new_subscribers) FILTER (WHERE in_e), 0) AS new_subscribers,
           coalesce(sum(reactivated_subscribers) FILTER (WHERE in_e), 0) AS reactivated_subscribers,
           coalesce(sum(churned_subscribers) FILTER (WHERE in_s), 0) AS churned_subscribers,
           coalesce(sum(churned_voluntary) FILTER (WHERE in_s), 0) AS churned_voluntary,
           coalesce(sum(churned_involuntary) FILTER (WHERE in_s), 0) AS churned_involuntary
    FROM r GROUP BY month
),
trials AS (
    SELECT month, sum(trials_started) AS trials_started, sum(trials_converted) AS trials_converted,
           sum(trials_ever_paid) AS trials_ever_paid, sum(trials_running) AS trials_running
    FROM trial_monthly
    WHERE month BETWEEN :first AND :last AND {PLAN_IN.format(col="plan_id")} AND {COUNTRY_IN}
    GROUP BY month
),
payments AS (
    SELECT month, sum(cash_collected) AS cash_collected, sum(payments_failed) AS failed_payment_attempts,
           sum(failed_renewals) AS failed_renewals, sum(renewals_recovered) AS renewals_recovered,
           sum(renewals_lost) AS renewals_lost
    FROM payments_monthly
    WHERE month BETWEEN :first AND :last AND {PLAN_IN.format(col="plan_id")} AND {COUNTRY_IN}
    GROUP BY month
)
SELECT m::date AS month, r.*, t.trials_started, t.trials_converted, t.trials_ever_paid, t.trials_running,
       p.cash_collected,
       p.failed_payment_attempts, p.failed_renewals, p.renewals_recovered, p.renewals_lost
FROM generate_series(CAST(:first AS timestamp), CAST(:last AS timestamp), interval '1 month') AS m
LEFT JOIN revenue r ON r.revenue_month = m::date
LEFT JOIN trials t ON t.month = m::date
LEFT JOIN payments p ON p.month = m::date
ORDER BY 1
""")


MONEY_COLUMNS = [
    "start_mrr",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "moved_in_mrr",
    "contraction_mrr",
    "churned_mrr",
    "moved_out_mrr",
    "end_mrr",
    "start_cohort_expansion_mrr",
    "start_cohort_contraction_mrr",
]


COUNT_COLUMNS = [
    "active_start",
    "active_end",
    "new_subscribers",
    "reactivated_subscribers",
    "churned_subscribers",
    "churned_voluntary",
    "churned_involuntary",
    "trials_started",
    "trials_converted",
    "trials_ever_paid",
    "trials_running",
    "failed_payment_attempts",
    "failed_renewals",
    "renewals_recovered",
    "renewals_lost",
]


# The CLI's columns, in order (money: Decimal to the cent; rates: fractions to 4 decimals; None = n/a).
METRIC_COLUMNS = [
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
    "end_mrr",
    "net_new_mrr",
    "arr",
    "start_cohort_expansion_mrr",
    "start_cohort_contraction_mrr",
    "active_start",
    "active_end",
    "new_subscribers",
    "reactivated_subscribers",
    "churned_subscribers",
    "churned_voluntary",
    "churned_involuntary",
    "churn_rate",
    "voluntary_churn_rate",
    "involuntary_churn_rate",
    "gross_revenue_churn_rate",
    "net_revenue_churn_rate",
    "nrr",
    "grr",
    "arpu",
    "ltv",
    "quick_ratio",
    "trials_started",
    "trials_converted",
    "trials_running",
    "trial_conversion",
    "trial_conversion_pending",
    "trials_ever_paid",
    "trial_ever_paid_rate",
    "cash_collected",
    "failed_payment_attempts",
    "failed_renewals",
    "renewals_recovered",
    "renewals_lost",
    "renewals_in_grace",
    "recovery_rate",
    "recovery_rate_pending",
]


def exact_ratio(numerator, denominator) -> Fraction | None:
    """numerator / denominator as an exact fraction (None when the denominator is 0: n/a, never 0)."""
    return None if not denominator else Fraction(numerator) / Fraction(denominator)


def as_decimal(value) -> Decimal:
    """A count (numpy or Python int) or a Decimal, as a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(int(value))


def rounded(value: Fraction | Decimal | None, step: Decimal) -> Decimal | None:
    """Round an exact value once, half-up (ties away from zero), to `step` (0.01, 0.0001): 14.625 -> 14.63."""
    if value is None:
        return None
    steps = Fraction(value) / Fraction(step)
    whole = math.floor(abs(steps) + Fraction(1, 2))
    return Decimal(whole if steps >= 0 else -whole) * step


def _derive(row: dict, history: list[Fraction | None]) -> dict:
    """Every metric of one month from its sums; `history` holds the exact churn rates of earlier months."""
    start, end = row["start_mrr"], row["end_mrr"]
    churn = exact_ratio(row["churned_subscribers"], row["active_start"])
    arpu = exact_ratio(end, row["active_end"])
    trailing = [r for r in history[-LTV_WINDOW:] if r is not None]
    mean_churn = sum(trailing, Fraction(0)) / len(trailing) if trailing else None
    # The rates follow the subscribers of the selection at the start of the month (PLAN_FILTER_RULE).
    expansion, contraction = row["start_cohort_expansion_mrr"], row["start_cohort_contraction_mrr"]
    lost = row["churned_mrr"] + contraction
    trials_open = row["trials_running"] > 0
    in_grace = row["failed_renewals"] - row["renewals_recovered"] - row["renewals_lost"]
    out = {
        **row,
        "net_new_mrr": end - start,
        "arr": end * 12,
        "churn_rate": rounded(churn, RATE),
        "voluntary_churn_rate": rounded(exact_ratio(row["churned_voluntary"], row["active_start"]), RATE),
        "involuntary_churn_rate": rounded(exact_ratio(row["churned_involuntary"], row["active_start"]), RATE),
        "gross_revenue_churn_rate": rounded(exact_ratio(lost, start), RATE),
        "net_revenue_churn_rate": rounded(exact_ratio(lost - expansion - row["reactivation_mrr"], start), RATE),
        "nrr": rounded(exact_ratio(start - lost + expansion, start), RATE),
        "grr": rounded(exact_ratio(start - lost, start), RATE),
        "arpu": rounded(arpu, CENT),
        "ltv": rounded(arpu / mean_churn if arpu is not None and mean_churn else None, CENT),
        "quick_ratio": rounded(exact_ratio(row["new_mrr"] + expansion, lost), RATIO),
        "trial_conversion": None
        if trials_open
        else rounded(exact_ratio(row["trials_converted"], row["trials_started"]), RATE),
        "trial_conversion_pending": trials_open,
        "trial_ever_paid_rate": None
        if trials_open
        else rounded(exact_ratio(row["trials_ever_paid"], row["trials_started"]), RATE),
        "renewals_in_grace": in_grace,
        "recovery_rate": None
        if in_grace > 0
        else rounded(exact_ratio(row["renewals_recovered"], row["renewals_recovered"] + row["renewals_lost"]), RATE),
        "recovery_rate_pending": in_grace > 0,
    }
    out["_churn_exact"] = churn
    return out


def metrics_in(conn: Connection, period: Period, filters: Filters, today: date | None = None) -> pd.DataFrame:
    """Every metric of each month of `period`; `today` (default: the UTC date now) decides the month to date."""
    wide = period.widened(LTV_WINDOW)
    result = conn.execute(_MONTHLY_SQL, {"first": wide.first, "last": wide.last, **filters.params()})
    rows: list[dict] = []
    history: list[Fraction | None] = []
    for raw in result.mappings():
        row = {"month": raw["month"], "month_to_date": is_month_to_date(raw["month"], today)}
        row |= {c: Decimal(raw[c] or 0).quantize(CENT) for c in [*MONEY_COLUMNS, "cash_collected"]}
        row |= {c: int(raw[c] or 0) for c in COUNT_COLUMNS}
        derived = _derive(row, history)
        history.append(derived.pop("_churn_exact"))
        if row["month"] >= period.first:
            rows.append(derived)
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def monthly_metrics(
    engine: Engine,
    period: Period,
    filters: Filters = NO_FILTERS,
    *,
    acting_user_id: int | None,
    today: date | None = None,
) -> pd.DataFrame:
    """One row per month of `period`: every metric (METRIC_COLUMNS), for admins and analysts."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        return metrics_in(conn, period, filters, today)
