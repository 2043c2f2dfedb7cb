"""MRR and its monthly movements, replayed from `subscription_events` (../shared/docs/metrics.md).

A subscriber's MRR at an instant is the `mrr` of their latest event before it. For each calendar
month (UTC) and subscriber, MRR at the start and at the end of the month are compared:

- 0 -> x > 0: *new* if they never paid before the month, else *reactivation*;
- x -> 0 (x > 0): *churn* of x (voluntary or involuntary by the reason of the churn event);
- x -> y, both > 0: *expansion* of y - x when y > x, *contraction* of x - y when y < x.

So End = Start + New + Expansion + Reactivation - Contraction - Churn holds by construction, month
by month. The SQL aggregates per subscriber first and joins only on user_id (scale-out rules 8-9).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, text

MOVEMENT_COLUMNS = [
    "month",
    "start_mrr",
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "contraction_mrr",
    "churned_mrr",
    "end_mrr",
    "active_start",
    "active_end",
    "new_subscribers",
    "reactivated_subscribers",
    "churned_subscribers",
    "churned_voluntary",
    "churned_involuntary",
]

# Per subscriber and month: MRR and plan at the start and at the end of the month, the reason of the
# latest event at the end (a churn's voluntary/involuntary), and whether they had paid before the month.
# Shared with backend/analytics/revenue_rollups.py, whose rollups group the same rows by plan and country.
PER_SUBSCRIBER_MONTHS = """
months AS (
    SELECT m::date AS month,
           m AT TIME ZONE 'UTC' AS month_start,
           (m + interval '1 month') AT TIME ZONE 'UTC' AS month_end
    FROM generate_series(CAST(:first AS timestamp), CAST(:last AS timestamp), interval '1 month') AS m
),
segments AS (  -- [valid_from, valid_to) during which a subscriber's MRR was `mrr` on plan `plan_id`
    SELECT user_id, occurred_at AS valid_from, mrr, plan_id, reason,
           LEAD(occurred_at) OVER (PARTITION BY user_id ORDER BY occurred_at, event_id) AS valid_to
    FROM subscription_events
    WHERE occurred_at < (CAST(:last AS timestamp) + interval '1 month') AT TIME ZONE 'UTC'
),
first_paid AS (
    SELECT user_id, min(occurred_at) AS first_paid_at FROM subscription_events WHERE mrr > 0 GROUP BY user_id
),
per_subscriber AS (
    SELECT s.user_id, m.month,
           sum(s.mrr) FILTER (WHERE s.valid_from < m.month_start
                                AND (s.valid_to IS NULL OR s.valid_to >= m.month_start)) AS start_mrr,
           max(s.plan_id) FILTER (WHERE s.valid_from < m.month_start
                                    AND (s.valid_to IS NULL OR s.valid_to >= m.month_start)) AS start_plan_id,
           sum(s.mrr) FILTER (WHERE s.valid_from < m.month_end
                                AND (s.valid_to IS NULL OR s.valid_to >= m.month_end)) AS end_mrr,
           max(s.plan_id) FILTER (WHERE s.valid_from < m.month_end
                                    AND (s.valid_to IS NULL OR s.valid_to >= m.month_end)) AS end_plan_id,
           max(s.reason) FILTER (WHERE s.valid_from < m.month_end
                                   AND (s.valid_to IS NULL OR s.valid_to >= m.month_end)) AS end_reason,
           min(m.month_start) AS month_start
    FROM segments s
    JOIN months m ON s.valid_from < m.month_end AND (s.valid_to IS NULL OR s.valid_to >= m.month_start)
    GROUP BY s.user_id, m.month
),
classified AS (
    SELECT p.user_id, p.month, coalesce(p.start_mrr, 0) AS s, coalesce(p.end_mrr, 0) AS e, p.end_reason,
           CASE WHEN p.start_mrr > 0 THEN p.start_plan_id ELSE 0 END AS start_plan_id,
           CASE WHEN p.end_mrr > 0 THEN p.end_plan_id ELSE 0 END AS end_plan_id,
           coalesce(f.first_paid_at < p.month_start, false) AS paid_before
    FROM per_subscriber p LEFT JOIN first_paid f ON f.user_id = p.user_id
)
"""

# The sums and counts of the movements over rows of `classified c` (in the order of MOVEMENT_COLUMNS[1:]).
MOVEMENT_SUMS = """
       coalesce(sum(c.s), 0) AS start_mrr,
       coalesce(sum(c.e) FILTER (WHERE c.s = 0 AND c.e > 0 AND NOT c.paid_before), 0) AS new_mrr,
       coalesce(sum(c.e - c.s) FILTER (WHERE c.s > 0 AND c.e > c.s), 0) AS expansion_mrr,
       coalesce(sum(c.e) FILTER (WHERE c.s = 0 AND c.e > 0 AND c.paid_before), 0) AS reactivation_mrr,
       coalesce(sum(c.s - c.e) FILTER (WHERE c.e > 0 AND c.e < c.s), 0) AS contraction_mrr,
       coalesce(sum(c.s) FILTER (WHERE c.s > 0 AND c.e = 0), 0) AS churned_mrr,
       coalesce(sum(c.e), 0) AS end_mrr,
       count(*) FILTER (WHERE c.s > 0) AS active_start,
       count(*) FILTER (WHERE c.e > 0) AS active_end,
       count(*) FILTER (WHERE c.s = 0 AND c.e > 0 AND NOT c.paid_before) AS new_subscribers,
       count(*) FILTER (WHERE c.s = 0 AND c.e > 0 AND c.paid_before) AS reactivated_subscribers,
       count(*) FILTER (WHERE c.s > 0 AND c.e = 0) AS churned_subscribers,
       count(*) FILTER (WHERE c.s > 0 AND c.e = 0 AND c.end_reason = 'voluntary') AS churned_voluntary,
       count(*) FILTER (WHERE c.s > 0 AND c.e = 0 AND c.end_reason = 'involuntary') AS churned_involuntary
"""

_MOVEMENTS_SQL = text(f"""
WITH {PER_SUBSCRIBER_MONTHS}
SELECT m.month, {MOVEMENT_SUMS}
FROM months m LEFT JOIN classified c ON c.month = m.month
GROUP BY m.month
ORDER BY m.month
""")


def month_start(day: date) -> date:
    return day.replace(day=1)


def mrr_movements(bind: Engine | Connection, first_month: date, last_month: date) -> pd.DataFrame:
    """One row per calendar month from `first_month` to `last_month` (any day in them), money as Decimal."""
    params = {"first": month_start(first_month), "last": month_start(last_month)}
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            rows = conn.execute(_MOVEMENTS_SQL, params).all()
    else:
        rows = bind.execute(_MOVEMENTS_SQL, params).all()
    return pd.DataFrame(rows, columns=MOVEMENT_COLUMNS)


def mrr_by_month(bind: Engine | Connection, first_month: date, last_month: date) -> dict[str, str]:
    """Month-end MRR per month, as {"YYYY-MM": "1234.56"} (strings keep the cents exact in JSON)."""
    movements = mrr_movements(bind, first_month, last_month)
    return {f"{row.month:%Y-%m}": f"{row.end_mrr:.2f}" for row in movements.itertuples()}
