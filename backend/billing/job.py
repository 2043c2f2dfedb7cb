"""The billing job: trial conversions, renewals, payment retries, ends of grace and of cancelled
periods, renewal reminders and the weekly new-titles note.

`run(engine, now)` settles everything that fell due up to `now`. Each step happens at its scheduled
instant (a renewal at the period end, a retry 1, 3 and 5 days later, the end of grace after 7), not
at the time the job happens to run, so a late or replayed run writes the same history. Each step is
one transaction holding the account's row lock (taken with SKIP LOCKED: an account busy in another
transaction or another job process is left for the next run), and every charge has an idempotency
key derived from the subscription and the period, so re-running the job never charges twice.

The summary's `analytics_since` says from which day the dashboards' rollups are stale: `ops.billing`
(the CLI `python -m ops.billing run`, and the app's scheduler) refreshes them after each run.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, Engine, text

import database
from backend.billing import gateway as gateways
from backend.billing import lifecycle
from backend.billing.renewals import step
from backend.billing.state import live_subscription, lock_account
from backend.core import jobs, locks
from backend.core.clock import clock
from backend.notify import notifications

log = logging.getLogger("reelhouse.billing")
REMINDER_DAYS = 3


def settle_account(engine: Engine, gateway: gateways.Gateway, user_id: int, now: datetime) -> list[str]:
    """Every due step of one account, one transaction each; an account locked elsewhere is skipped."""
    done: list[str] = []
    while True:

        def work(conn: Connection):
            if not lock_account(conn, user_id, skip_locked=True):
                return None
            sub = live_subscription(conn, user_id)
            return None if sub is None else step(conn, gateway, sub, now)

        outcome = database.transaction(engine, work)
        if outcome is None:
            return done
        done.append(outcome)


def _due_accounts(engine: Engine, now: datetime) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("""
            SELECT user_id FROM subscriptions
            WHERE (status = 'trialing' AND trial_end <= :now)
               OR (status = 'active' AND current_period_end <= :now)
               OR (status = 'past_due' AND current_period_start + make_interval(days => :first_retry) <= :now)
            ORDER BY user_id"""),
                {"now": now, "first_retry": min(lifecycle.RETRY_AFTER_DAYS)},
            ).scalars()
        )


def send_reminders(engine: Engine, now: datetime) -> int:
    """'Renewal in 3 days' for every live subscription that will be charged within the next 3 days."""
    with engine.begin() as conn:
        rows = (
            conn.execute(
                text("""
            SELECT s.user_id, s.subscription_id, s.status,
                   CASE WHEN s.status = 'trialing' THEN s.trial_end ELSE s.current_period_end END AS charge_at,
                   p.name, p.price, p.currency
            FROM subscriptions s JOIN plans p ON p.plan_id = coalesce(s.scheduled_plan_id, s.plan_id)
            WHERE s.status IN ('trialing', 'active') AND NOT s.cancel_at_period_end
              AND CASE WHEN s.status = 'trialing' THEN s.trial_end ELSE s.current_period_end END
                  BETWEEN :now AND :until"""),
                {"now": now, "until": now + timedelta(days=REMINDER_DAYS)},
            )
            .mappings()
            .all()
        )
        sent = 0
        for r in rows:
            what = "Your free trial ends" if r["status"] == "trialing" else "Your subscription renews"
            sent += notifications.notify(
                conn,
                r["user_id"],
                "renewal_reminder",
                f"{what} on {r['charge_at']:%d %b %Y}",
                f"On {r['charge_at']:%d %b %Y} we will charge {r['currency']} {r['price']} for {r['name']} to "
                "your card on file. Cancel before then on the Subscription page if you do not want to continue.",
                now,
                dedupe_key=f"renewal:{r['subscription_id']}:{r['charge_at']:%Y-%m-%d}",
            )
    return sent


def send_new_titles(engine: Engine, now: datetime) -> int:
    """Once per ISO week: titles added in the last 7 days in each member's 3 favourite genres (from what
    they rated up, listed or watched)."""
    year, week, _ = now.isocalendar()
    with engine.begin() as conn:
        rows = conn.execute(
            text("""
            WITH members AS (
                SELECT user_id FROM subscriptions WHERE status IN ('trialing', 'active', 'past_due')
            ), liked AS (
                SELECT user_id, title_id FROM ratings WHERE score > 0
                UNION ALL SELECT user_id, title_id FROM list_entries
                UNION ALL SELECT user_id, title_id FROM viewing_progress
            ), taste AS (
                SELECT l.user_id, tg.genre_id, count(*) AS weight
                FROM liked l JOIN members m ON m.user_id = l.user_id JOIN title_genres tg ON tg.title_id = l.title_id
                GROUP BY l.user_id, tg.genre_id
            ), favourite AS (
                SELECT user_id, genre_id FROM (
                    SELECT user_id, genre_id,
                           row_number() OVER (PARTITION BY user_id ORDER BY weight DESC, genre_id) AS r
                    FROM taste) t WHERE r <= 3
            ), fresh AS (
                SELECT t.title, tg.genre_id FROM titles t JOIN title_genres tg ON tg.title_id = t.title_id
                WHERE t.is_active AND t.date_added > CAST(:today AS date) - 7 AND t.date_added <= CAST(:today AS date)
            )
            SELECT f.user_id, (array_agg(DISTINCT n.title ORDER BY n.title))[1:10] AS titles
            FROM favourite f JOIN fresh n ON n.genre_id = f.genre_id
            GROUP BY f.user_id"""),
            {"today": now.date()},
        ).all()
        sent = 0
        for user_id, titles in rows:
            sent += notifications.notify(
                conn,
                user_id,
                "new_titles",
                "New this week in genres you love",
                "Just added: " + ", ".join(titles) + ".",
                now,
                dedupe_key=f"new_titles:{year}-W{week:02d}",
            )
    return sent


def run(
    engine: Engine,
    now: datetime | None = None,
    *,
    gateway: gateways.Gateway | None = None,
    started_by: str = "cli",
    use_job_lock: bool = True,
) -> dict:
    """Settle everything due up to `now`; safe to re-run and to run in several processes at once."""
    now, gateway = clock(now), gateway or gateways.default_gateway()
    with engine.connect() as lock_conn:
        if (
            use_job_lock
            and not lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": locks.BILLING_RUN}).scalar()
        ):
            lock_conn.rollback()
            return {"skipped": "another billing run is in progress"}
        lock_conn.commit()
        run_id = jobs.start_run(engine, "billing", {"now": now.isoformat()}, started_by)
        analytics_since = rollups_stale_since(engine, now)
        try:
            summary: dict = {"now": now.isoformat(), "accounts": 0, "analytics_since": analytics_since.isoformat()}
            touched = []
            for user_id in _due_accounts(engine, now):
                done = settle_account(engine, gateway, user_id, now)
                if done:
                    summary["accounts"] += 1
                    touched.append(user_id)
                for outcome in done:
                    summary[outcome] = summary.get(outcome, 0) + 1
            summary["reminders"] = send_reminders(engine, now)
            summary["new_titles_notes"] = send_new_titles(engine, now)
            notifications.deliver(engine, touched)
        except Exception as error:
            jobs.finish_run(engine, run_id, error=f"{type(error).__name__}: {error}"[:2000])
            raise
        finally:
            if use_job_lock:
                lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": locks.BILLING_RUN})
                lock_conn.commit()
        jobs.finish_run(engine, run_id, summary=summary)
    return summary


def rollups_stale_since(engine: Engine, now: datetime) -> date:
    """Where the dashboards' rollups need refreshing after this run: from the earliest step due (a late
    run writes history at the steps' own instants), and at least the last 35 days (members' own changes)."""
    with engine.connect() as conn:
        earliest = conn.execute(
            text("""
            SELECT min(CASE status WHEN 'trialing' THEN trial_end WHEN 'active' THEN current_period_end
                       ELSE current_period_start END)
            FROM subscriptions WHERE status IN ('trialing', 'active', 'past_due')""")
        ).scalar()
    return min(filter(None, (earliest, now - timedelta(days=35)))).astimezone(UTC).date()
