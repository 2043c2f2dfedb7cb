"""Revenue analytics: monthly rollups and every revenue/subscriber metric of ../shared/docs/metrics.md.

Rollups (migration 0008), written set-based by `refresh(engine, since=None)` in one transaction each
(delete the refreshed months, insert them again: idempotent; `since` limits the work to recent months):

- `revenue_monthly`: backend/revenue.py's per-subscriber month replay (start/end MRR, the movements)
  grouped by (plan at the start of the month, plan at its end, account country).
- `trial_monthly`: trials by the month they started, and how many have since become paying.
- `payments_monthly`: cash collected, failed attempts, failed renewals with their outcome.

The seeder, the billing job (after each run) and `python -m backend.analytics refresh` keep them fresh;
`refresh` also refreshes stream 7B's engagement rollups (backend/engagement.py) when that module exists.
Dashboards read only the rollups: every metric is a function of (period, filters).

Choices where metrics.md is silent (the pages' captions say them too):
- **Plan filter** (ChartMogul's "plan is one of"): a subscriber's MRR counts in the plan it is on at
  that instant. A switch between two selected plans is expansion or contraction; a switch into or out of
  the selection is *moved in* / *moved out* (ChartMogul's "MRR entering/leaving segment"), never new
  business or churn. So End = Start + New + Expansion + Reactivation + Moved in - Contraction - Churn -
  Moved out; with all plans, moved in = moved out = 0. Rates use metrics.md's formulas on the selection.
- **Country** is the account's `country_code` ('' = unknown).
- **Trial conversion** of month m: trials started in m that have since become paying / trials started in
  m (trials still running count in the denominator, and are reported as `trials_running`).
- **Failed payments**: failed payment attempts in the month (any kind). **Recovery rate** of month m:
  of the renewals that failed in m (the subscription went past due), recovered / (recovered + lost to
  involuntary churn); failures still inside their grace period are left out until they resolve.
- **LTV**: ARPU / the mean of the subscriber churn rates of the 6 months before (months with no
  subscribers at their start have no rate and are skipped); n/a when none or when the mean is 0.
- **Numbers**: money is Decimal, rounded half-even to the cent; rates are fractions (0.0345 = 3.45 %)
  rounded to 4 decimals; the quick ratio to 2 decimals; n/a is None (`null` in JSON). Everything is
  computed exactly and rounded once, at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, Engine, text

from backend import revenue, users

ANALYTICS_ROLES = ("admin", "analyst")
CENT = Decimal("0.01")
RATE = Decimal("0.0001")
RATIO = Decimal("0.01")
ZERO = Decimal("0.00")
LTV_WINDOW = 6  # months of churn rate averaged for LTV
REVENUE_ROLLUPS = ("revenue_monthly", "trial_monthly", "payments_monthly")


# --- period and filters ------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def parse_month(value: str) -> date:
    """'2026-03' -> date(2026, 3, 1); ValueError with a clear message otherwise."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a month: use YYYY-MM, e.g. 2026-03.") from None


@dataclass(frozen=True)
class Period:
    """Calendar months first..last (UTC), both included; any day of a month stands for the month."""

    first: date
    last: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "first", month_start(self.first))
        object.__setattr__(self, "last", month_start(self.last))
        if self.first > self.last:
            raise ValueError("The first month must not be after the last month.")

    def months(self) -> list[date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [self.first + relativedelta(months=n) for n in range(count)]

    def widened(self, months_before: int) -> Period:
        return Period(self.first - relativedelta(months=months_before), self.last)


@dataclass(frozen=True)
class Filters:
    """Empty tuples mean "all". Plans by plan_id; countries by the account's country_code ('' = unknown)."""

    plan_ids: tuple[int, ...] = field(default=())
    countries: tuple[str, ...] = field(default=())

    def params(self) -> dict:
        return {
            "all_plans": not self.plan_ids,
            "plans": [int(p) for p in self.plan_ids] or [0],
            "all_countries": not self.countries,
            "countries": list(self.countries) or [""],
        }


@dataclass(frozen=True)
class FilterOptions:
    months: list[date]
    plans: dict[int, str]  # plan_id -> name
    countries: list[str]

    def default_period(self, months: int = 12) -> Period:
        if not self.months:
            today = month_start(datetime.now(UTC).date())
            return Period(today, today)
        return Period(self.months[max(0, len(self.months) - months)], self.months[-1])


def authorise(engine: Engine, acting_user_id: int | None) -> users.User:
    """The server-side check of every dashboard: admin or analyst, else users.NotAuthorised."""
    return users.require_role(engine, acting_user_id, *ANALYTICS_ROLES)


PLAN_IN = "(:all_plans OR {col} = ANY(CAST(:plans AS bigint[])))"
COUNTRY_IN = "(:all_countries OR country_code = ANY(CAST(:countries AS text[])))"


def frame(engine: Engine, sql: str, params: dict) -> pd.DataFrame:
    """A query's rows as a DataFrame (columns in the query's order, even when there are no rows)."""
    with engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.mappings().all(), columns=list(result.keys()))


def rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN (shown as n/a) where the denominator is 0."""
    return numerator.astype(float) / denominator.astype(float).where(denominator != 0)


def filter_options(engine: Engine, *, acting_user_id: int | None) -> FilterOptions:
    """The months with revenue data, the plans and the countries the filter bar offers."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        bounds = conn.execute(text("SELECT min(month), max(month) FROM revenue_monthly")).one()
        plans = dict(conn.execute(text("SELECT plan_id, name FROM plans ORDER BY billing_period, price, name")).all())
        countries = list(
            conn.execute(text("SELECT DISTINCT country_code FROM revenue_monthly ORDER BY country_code")).scalars()
        )
    months = Period(bounds[0], bounds[1]).months() if bounds[0] else []
    return FilterOptions(months, plans, countries)


# --- refresh -------------------------------------------------------------------------------------------

_REVENUE_INSERT = text(f"""
WITH {revenue.PER_SUBSCRIBER_MONTHS},
by_user AS (  -- the per-subscriber rows, then the account's country (a join on user_id only)
    SELECT c.*, coalesce(u.country_code, '') AS country_code
    FROM classified c JOIN users u ON u.user_id = c.user_id
    WHERE c.s > 0 OR c.e > 0
)
INSERT INTO revenue_monthly (month, start_plan_id, end_plan_id, country_code, start_mrr, new_mrr, expansion_mrr,
                             reactivation_mrr, contraction_mrr, churned_mrr, end_mrr, active_start, active_end,
                             new_subscribers, reactivated_subscribers, churned_subscribers, churned_voluntary,
                             churned_involuntary)
SELECT c.month, c.start_plan_id, c.end_plan_id, c.country_code, {revenue.MOVEMENT_SUMS}
FROM by_user c
GROUP BY c.month, c.start_plan_id, c.end_plan_id, c.country_code
""")

_TRIALS_INSERT = text("""
WITH trials AS (
    SELECT user_id, min(occurred_at) AS started_at,
           (array_agg(plan_id ORDER BY occurred_at, event_id))[1] AS plan_id,
           bool_or(mrr > 0) AS has_paid,
           count(*) FILTER (WHERE kind IN ('trial_converted', 'trial_expired')) AS trial_ends
    FROM (SELECT e.*, min(occurred_at) FILTER (WHERE kind = 'trial_started')
                          OVER (PARTITION BY user_id) AS trial_at
          FROM subscription_events e) e
    WHERE trial_at IS NOT NULL AND occurred_at >= trial_at
    GROUP BY user_id
)
INSERT INTO trial_monthly (month, plan_id, country_code, trials_started, trials_converted, trials_running)
SELECT date_trunc('month', t.started_at AT TIME ZONE 'UTC')::date, t.plan_id, coalesce(u.country_code, ''),
       count(*), count(*) FILTER (WHERE t.has_paid), count(*) FILTER (WHERE NOT t.has_paid AND t.trial_ends = 0)
FROM trials t JOIN users u ON u.user_id = t.user_id
GROUP BY 1, 2, 3
""")

_PAYMENTS_INSERT = text("""
WITH attempts AS (  -- per account, month and plan first
    SELECT user_id, date_trunc('month', attempted_at AT TIME ZONE 'UTC')::date AS month, plan_id,
           sum(amount) FILTER (WHERE status = 'succeeded') AS cash,
           count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE status = 'failed') AS failed
    FROM payment_attempts
    WHERE attempted_at >= CAST(:first AS timestamp) AT TIME ZONE 'UTC'
    GROUP BY 1, 2, 3
),
dunning AS (  -- events that open or close a past-due episode, numbered per account
    SELECT user_id, kind, plan_id, occurred_at,
           coalesce(sum(CASE WHEN kind = 'payment_failed' THEN 0 ELSE 1 END)
                    OVER (PARTITION BY user_id ORDER BY occurred_at, event_id
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS episode
    FROM subscription_events
    WHERE kind IN ('payment_failed', 'payment_recovered', 'churned', 'reactivated', 'subscribed')
),
episodes AS (  -- a failed renewal and how it ended (recovered, lost, or still in grace)
    SELECT user_id, episode,
           min(occurred_at) FILTER (WHERE kind = 'payment_failed') AS failed_at,
           (array_agg(plan_id ORDER BY occurred_at) FILTER (WHERE kind = 'payment_failed'))[1] AS plan_id,
           bool_or(kind = 'payment_recovered') AS recovered,
           bool_or(kind = 'churned') AS lost
    FROM dunning GROUP BY user_id, episode
),
failures AS (
    SELECT user_id, date_trunc('month', failed_at AT TIME ZONE 'UTC')::date AS month, plan_id,
           count(*) AS failed_renewals, count(*) FILTER (WHERE recovered) AS recovered,
           count(*) FILTER (WHERE lost) AS lost
    FROM episodes
    WHERE failed_at >= CAST(:first AS timestamp) AT TIME ZONE 'UTC'
    GROUP BY 1, 2, 3
),
per_user AS (
    SELECT coalesce(a.user_id, f.user_id) AS user_id, coalesce(a.month, f.month) AS month,
           coalesce(a.plan_id, f.plan_id) AS plan_id, coalesce(a.cash, 0) AS cash,
           coalesce(a.succeeded, 0) AS succeeded, coalesce(a.failed, 0) AS failed,
           coalesce(f.failed_renewals, 0) AS failed_renewals, coalesce(f.recovered, 0) AS recovered,
           coalesce(f.lost, 0) AS lost
    FROM attempts a FULL JOIN failures f USING (user_id, month, plan_id)
)
INSERT INTO payments_monthly (month, plan_id, country_code, cash_collected, payments_succeeded, payments_failed,
                              failed_renewals, renewals_recovered, renewals_lost)
SELECT p.month, p.plan_id, coalesce(u.country_code, ''), sum(p.cash), sum(p.succeeded), sum(p.failed),
       sum(p.failed_renewals), sum(p.recovered), sum(p.lost)
FROM per_user p JOIN users u ON u.user_id = p.user_id
WHERE p.month <= :last
GROUP BY 1, 2, 3
""")


def _data_months(conn: Connection, now: datetime) -> Period | None:
    """From the first month with a subscription event or payment to the later of now and the last one."""
    first, last = conn.execute(
        text("""
        SELECT least(min(e.first), min(p.first)), greatest(max(e.last), max(p.last))
        FROM (SELECT min(occurred_at) AS first, max(occurred_at) AS last FROM subscription_events) e,
             (SELECT min(attempted_at) AS first, max(attempted_at) AS last FROM payment_attempts) p""")
    ).one()
    if first is None:
        return None
    return Period(first.astimezone(UTC).date(), max(last.astimezone(UTC).date(), now.date()))


def _record(conn: Connection, rollup: str, since: date | None, seconds: float, now: datetime) -> None:
    conn.execute(
        text("""
        INSERT INTO rollup_refreshes (rollup, refreshed_at, since_month, seconds) VALUES (:r, :at, :since, :s)
        ON CONFLICT (rollup) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at,
            since_month = EXCLUDED.since_month, seconds = EXCLUDED.seconds"""),
        {"r": rollup, "at": now, "since": since, "s": round(seconds, 3)},
    )


def refresh_revenue(engine: Engine, since: date | None = None, now: datetime | None = None) -> dict[str, float]:
    """Rebuild this module's rollups from `since`'s month on (all months when None). Returns seconds per rollup."""
    now = now or datetime.now(UTC)
    timings: dict[str, float] = {}
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(7340008)"))  # one refresh at a time
        data = _data_months(conn, now)
        if data is None:
            for table in REVENUE_ROLLUPS:
                conn.execute(text(f"DELETE FROM {table}"))
            return dict.fromkeys(REVENUE_ROLLUPS, 0.0)
        first = data.first if since is None else max(data.first, month_start(since))
        # A month's MRR depends on nothing later; a failed renewal's outcome comes up to 7 days after it.
        for table, insert, lookback in (
            ("revenue_monthly", _REVENUE_INSERT, 0),
            ("payments_monthly", _PAYMENTS_INSERT, 1),
        ):
            started = time.perf_counter()
            params = {"first": max(data.first, first - relativedelta(months=lookback)), "last": data.last}
            conn.execute(text(f"DELETE FROM {table} WHERE month >= :first"), params)
            conn.execute(insert, params)
            timings[table] = time.perf_counter() - started
            _record(conn, table, since and params["first"], timings[table], now)
        started = time.perf_counter()  # a trial of any month may become paying later: all months, always
        conn.execute(text("DELETE FROM trial_monthly"))
        conn.execute(_TRIALS_INSERT)
        timings["trial_monthly"] = time.perf_counter() - started
        _record(conn, "trial_monthly", None, timings["trial_monthly"], now)
    return timings


def refresh(engine: Engine, since: date | None = None, now: datetime | None = None) -> dict[str, float]:
    """Refresh every dashboard rollup (this module's, then 7B's engagement ones): seconds per rollup."""
    timings = refresh_revenue(engine, since, now)
    try:
        from backend import engagement
    except ImportError:  # stream 7B's module, not there yet
        return timings
    started = time.perf_counter()
    engagement.refresh(engine, since)
    timings["engagement"] = time.perf_counter() - started
    return timings


def refreshed_at(engine: Engine) -> datetime | None:
    """When the revenue rollups were last refreshed (None: never)."""
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT min(refreshed_at) FROM rollup_refreshes WHERE rollup = ANY(:r)"), {"r": list(REVENUE_ROLLUPS)}
        ).scalar()


# --- reading the rollups -------------------------------------------------------------------------------

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
           sum(trials_running) AS trials_running
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
SELECT m::date AS month, r.*, t.trials_started, t.trials_converted, t.trials_running, p.cash_collected,
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
    "trials_running",
    "failed_payment_attempts",
    "failed_renewals",
    "renewals_recovered",
    "renewals_lost",
]

# The CLI's columns, in order (money: Decimal to the cent; rates: fractions to 4 decimals; None = n/a).
METRIC_COLUMNS = [
    "month",
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
    "cash_collected",
    "failed_payment_attempts",
    "failed_renewals",
    "renewals_recovered",
    "renewals_lost",
    "recovery_rate",
]


def _ratio(numerator, denominator) -> Fraction | None:
    """numerator / denominator as an exact fraction (None when the denominator is 0: n/a, never 0)."""
    return None if not denominator else Fraction(numerator) / Fraction(denominator)


def _decimal(value) -> Decimal:
    """A count (numpy or Python int) or a Decimal, as a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(int(value))


def _round(value: Fraction | Decimal | None, step: Decimal) -> Decimal | None:
    """Round an exact value once, half-even, to `step` (0.01, 0.0001)."""
    if value is None:
        return None
    return Decimal(round(Fraction(value) / Fraction(step))) * step


def _derive(row: dict, history: list[Fraction | None]) -> dict:
    """Every metric of one month from its sums; `history` holds the exact churn rates of earlier months."""
    start, end = row["start_mrr"], row["end_mrr"]
    churn = _ratio(row["churned_subscribers"], row["active_start"])
    arpu = _ratio(end, row["active_end"])
    trailing = [r for r in history[-LTV_WINDOW:] if r is not None]
    mean_churn = sum(trailing) / len(trailing) if trailing else None
    retained = start - row["churned_mrr"] - row["contraction_mrr"]
    out = {
        **row,
        "net_new_mrr": end - start,
        "arr": end * 12,
        "churn_rate": _round(churn, RATE),
        "voluntary_churn_rate": _round(_ratio(row["churned_voluntary"], row["active_start"]), RATE),
        "involuntary_churn_rate": _round(_ratio(row["churned_involuntary"], row["active_start"]), RATE),
        "gross_revenue_churn_rate": _round(_ratio(row["churned_mrr"] + row["contraction_mrr"], start), RATE),
        "net_revenue_churn_rate": _round(
            _ratio(row["churned_mrr"] + row["contraction_mrr"] - row["expansion_mrr"] - row["reactivation_mrr"], start),
            RATE,
        ),
        "nrr": _round(_ratio(retained + row["expansion_mrr"], start), RATE),
        "grr": _round(_ratio(retained, start), RATE),
        "arpu": _round(arpu, CENT),
        "ltv": _round(arpu / mean_churn if arpu is not None and mean_churn else None, CENT),
        "quick_ratio": _round(
            _ratio(row["new_mrr"] + row["expansion_mrr"], row["churned_mrr"] + row["contraction_mrr"]), RATIO
        ),
        "trial_conversion": _round(_ratio(row["trials_converted"], row["trials_started"]), RATE),
        "recovery_rate": _round(
            _ratio(row["renewals_recovered"], row["renewals_recovered"] + row["renewals_lost"]), RATE
        ),
    }
    out["_churn_exact"] = churn
    return out


def _metrics(conn: Connection, period: Period, filters: Filters) -> pd.DataFrame:
    wide = period.widened(LTV_WINDOW)
    result = conn.execute(_MONTHLY_SQL, {"first": wide.first, "last": wide.last, **filters.params()})
    rows, history = [], []
    for raw in result.mappings():
        row = {"month": raw["month"]}
        row |= {c: Decimal(raw[c] or 0).quantize(CENT) for c in [*MONEY_COLUMNS, "cash_collected"]}
        row |= {c: int(raw[c] or 0) for c in COUNT_COLUMNS}
        derived = _derive(row, history)
        history.append(derived.pop("_churn_exact"))
        if row["month"] >= period.first:
            rows.append(derived)
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def monthly_metrics(
    engine: Engine, period: Period, filters: Filters = Filters(), *, acting_user_id: int | None
) -> pd.DataFrame:
    """One row per month of `period`: every metric (METRIC_COLUMNS), for admins and analysts."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        return _metrics(conn, period, filters)


# --- what the pages draw -----------------------------------------------------------------------------

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
            change = _round(_ratio(_decimal(value) - _decimal(previous), _decimal(previous)), RATE)
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
    engine: Engine, period: Period, filters: Filters = Filters(), *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """The Overview page's data: the KPI tiles, MRR/ARR/subscribers/ARPU per month, churn and retention."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        metrics = _metrics(conn, period.widened(1), filters)
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
    engine: Engine, period: Period, filters: Filters = Filters(), *, acting_user_id: int | None
) -> dict[str, pd.DataFrame]:
    """The Revenue page's data: MRR movements, MRR by plan, cash vs MRR, failed payments and recovery."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        metrics = _metrics(conn, period, filters)
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


# --- command line ----------------------------------------------------------------------------------------


def json_value(value):
    """Months as 'YYYY-MM', money and rates as exact decimal strings, counts as numbers, n/a as None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.strftime("%Y-%m")
    return int(value)


def as_json_rows(metrics: pd.DataFrame) -> list[dict]:
    """The frame's rows as JSON-ready dicts (json_value of each cell)."""
    return [{column: json_value(row[column]) for column in metrics.columns} for _, row in metrics.iterrows()]


def _plan_ids(engine: Engine, names: Sequence[str]) -> tuple[int, ...]:
    with engine.connect() as conn:
        known = {n.lower(): i for i, n in conn.execute(text("SELECT plan_id, name FROM plans")).all()}
    missing = [n for n in names if n.lower() not in known]
    if missing:
        raise ValueError(f"No plan named {', '.join(missing)}; plans: {', '.join(sorted(known))}.")
    return tuple(known[n.lower()] for n in names)


def _month_arg(value: str) -> date:
    try:
        return parse_month(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    import database

    parser = argparse.ArgumentParser(prog="python -m backend.analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    refresh_parser = sub.add_parser("refresh", help="refresh the dashboard rollups (idempotent)")
    refresh_parser.add_argument("--since", type=_month_arg, help="only from this month (YYYY-MM) on")
    metrics_parser = sub.add_parser("metrics", help="print every monthly metric, one row per month")
    metrics_parser.add_argument("--start", type=_month_arg, required=True, help="first month, YYYY-MM")
    metrics_parser.add_argument("--end", type=_month_arg, required=True, help="last month, YYYY-MM")
    metrics_parser.add_argument("--format", choices=("json", "csv"), default="json")
    metrics_parser.add_argument("--plan", action="append", default=[], help="plan name (repeatable)")
    metrics_parser.add_argument("--country", action="append", default=[], help="country code (repeatable)")
    metrics_parser.add_argument("--refresh", action="store_true", help="refresh the rollups first")
    args = parser.parse_args(argv)
    engine = database.get_engine()
    if args.command == "refresh":
        started = time.perf_counter()
        timings = refresh(engine, args.since)
        print(
            json.dumps(
                {
                    "refresh_seconds": {k: round(v, 3) for k, v in timings.items()},
                    "total_seconds": round(time.perf_counter() - started, 3),
                }
            )
        )
        return 0
    try:
        period = Period(args.start, args.end)
        filters = Filters(_plan_ids(engine, args.plan), tuple(c.upper() for c in args.country))
    except ValueError as error:
        parser.error(str(error))
    timings = None
    if args.refresh:
        timings = {k: round(v, 3) for k, v in refresh(engine).items()}
    with engine.connect() as conn:
        metrics = _metrics(conn, period, filters)
    if args.format == "csv":
        metrics.assign(month=metrics["month"].map(lambda m: m.strftime("%Y-%m"))).to_csv(sys.stdout, index=False)
        if timings:
            print(f"# refresh_seconds: {json.dumps(timings)}", file=sys.stderr)
    else:
        out = {"months": as_json_rows(metrics), "refreshed_at": str(refreshed_at(engine))}
        if timings:
            out["refresh_seconds"] = timings
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
