"""Revenue rollups (migration 0008), written set-based by `refresh_revenue(engine, since=None)` in one
transaction (delete the refreshed months, insert them again: idempotent):

- `revenue_monthly`: backend.analytics.mrr_replay's per-subscriber month replay (start/end MRR, the
  movements) grouped by (plan at the start of the month, plan at its end, account country).
- `trial_monthly`: trials by the month they started, one row per trial: converted from that trial (its
  first charge succeeded), still running, and (a looser second figure) whose member has paid since.
- `payments_monthly`: cash collected, failed attempts, failed renewals with their outcome.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, Engine, text

from backend.analytics import mrr_replay
from backend.analytics.selection import Period, month_start
from backend.core import locks

REVENUE_ROLLUPS = ("revenue_monthly", "trial_monthly", "payments_monthly")
_REVENUE_INSERT = text(f"""
WITH {mrr_replay.PER_SUBSCRIBER_MONTHS},
by_user AS (  -- the per-subscriber rows, then the account's country (a join on user_id only)
    SELECT c.*, coalesce(u.country_code, '') AS country_code
    FROM classified c JOIN users u ON u.user_id = c.user_id
    WHERE c.s > 0 OR c.e > 0
)
INSERT INTO revenue_monthly (month, start_plan_id, end_plan_id, country_code, start_mrr, new_mrr, expansion_mrr,
                             reactivation_mrr, contraction_mrr, churned_mrr, end_mrr, active_start, active_end,
                             new_subscribers, reactivated_subscribers, churned_subscribers, churned_voluntary,
                             churned_involuntary)
SELECT c.month, c.start_plan_id, c.end_plan_id, c.country_code, {mrr_replay.MOVEMENT_SUMS}
FROM by_user c
GROUP BY c.month, c.start_plan_id, c.end_plan_id, c.country_code
""")


_TRIALS_INSERT = text("""
WITH trials AS (  -- one row per trial: the subscription that started with it, its plan then, its outcome
    SELECT user_id, subscription_id,
           min(occurred_at) FILTER (WHERE kind = 'trial_started') AS started_at,
           (array_agg(plan_id ORDER BY occurred_at, event_id) FILTER (WHERE kind = 'trial_started'))[1] AS plan_id,
           bool_or(kind = 'trial_converted') AS converted,
           bool_or(kind IN ('trial_converted', 'trial_expired')) AS ended
    FROM subscription_events
    WHERE kind IN ('trial_started', 'trial_converted', 'trial_expired')
    GROUP BY user_id, subscription_id
    HAVING bool_or(kind = 'trial_started')
),
paid AS (  -- when each member last paid (for "has paid at some time since the trial started")
    SELECT user_id, max(occurred_at) AS last_paid_at FROM subscription_events WHERE mrr > 0 GROUP BY user_id
)
INSERT INTO trial_monthly (month, plan_id, country_code, trials_started, trials_converted, trials_ever_paid,
                           trials_running)
SELECT date_trunc('month', t.started_at AT TIME ZONE 'UTC')::date, t.plan_id, coalesce(u.country_code, ''),
       count(*), count(*) FILTER (WHERE t.converted),
       count(*) FILTER (WHERE p.last_paid_at >= t.started_at), count(*) FILTER (WHERE NOT t.ended)
FROM trials t JOIN users u ON u.user_id = t.user_id LEFT JOIN paid p ON p.user_id = t.user_id
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
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.REVENUE_REFRESH})  # one at a time
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


def refreshed_at(engine: Engine) -> datetime | None:
    """When the revenue rollups were last refreshed (None: never)."""
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT min(refreshed_at) FROM rollup_refreshes WHERE rollup = ANY(:r)"), {"r": list(REVENUE_ROLLUPS)}
        ).scalar()
