"""The billing job: trial conversions, renewals, payment retries, ends of grace and of cancelled
periods, reminders (a renewal, a trial's end, a cancelled subscription's end) and the weekly new-titles
note, as each member's notification preferences allow (backend.notify.preferences).

`run(engine, now)` settles everything that fell due up to `now`. Each step happens at its scheduled
instant (a renewal at the period end, a retry 1, 3 and 5 days later, the end of grace after 7), not
at the time the job happens to run, so a late or replayed run writes the same history. Each step is
one transaction holding the account's row lock (taken with SKIP LOCKED: an account busy in another
transaction or another job process is left for the next run), and every charge has an idempotency
key derived from the subscription, the period and the attempt (backend.billing.charge_keys, the scheme the
seeder and the members' actions use too), so re-running the job never charges twice. Accounts may vanish
under a run (an admin's deletion, the seeder's --reset): such an account is skipped and logged, and the
run carries on with the others.

The summary's `analytics_since` says from which day the dashboards' rollups are stale: `ops.billing`
(the CLI `python -m ops.billing run`, and the app's scheduler) refreshes them after each run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

import database
from backend.billing import gateway as gateways
from backend.billing import lifecycle
from backend.billing.renewals import step
from backend.billing.state import live_subscription, lock_account
from backend.core import jobs, locks
from backend.core.clock import clock
from backend.core.money import format_amount
from backend.notify import notifications, preferences

log = logging.getLogger("reelhouse.billing")
REMINDER_DAYS = 3
T = TypeVar("T")


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


def for_member(engine: Engine, user_id: int, work: Callable[[Connection], T]) -> T | None:
    """`work(conn)` in one transaction holding the account's row lock; None when the account is busy in
    another transaction or has vanished (deleted meanwhile, e.g. by the seeder's --reset): skipped, logged."""

    def locked(conn: Connection) -> T | None:
        if not lock_account(conn, user_id, skip_locked=True):
            log.info("billing: account %s is busy or gone: left for the next run", user_id)
            return None
        return work(conn)

    try:
        return database.transaction(engine, locked)
    except IntegrityError:
        log.warning("billing: account %s changed under the run: skipped", user_id, exc_info=True)
        return None


_REMINDERS_SQL = text("""
SELECT s.user_id, s.subscription_id, s.status, s.cancel_at_period_end AS ending,
       CASE WHEN s.status = 'trialing' THEN s.trial_end ELSE s.current_period_end END AS at,
       p.name AS plan_name, n.name AS next_plan_name, n.price, n.currency, coalesce(np.email, true) AS email
FROM subscriptions s
JOIN plans p ON p.plan_id = s.plan_id
JOIN plans n ON n.plan_id = coalesce(s.scheduled_plan_id, s.plan_id)
LEFT JOIN notification_preferences np ON np.user_id = s.user_id
WHERE s.status IN ('trialing', 'active') AND coalesce(np.reminders, true)
  AND CASE WHEN s.status = 'trialing' THEN s.trial_end ELSE s.current_period_end END BETWEEN :now AND :until
ORDER BY s.user_id""")


def reminders_due(engine: Engine, now: datetime) -> list[dict]:
    """Every live subscription that renews, converts or (cancelled) ends within REMINDER_DAYS, of members
    who keep reminders on."""
    with engine.connect() as conn:
        rows = conn.execute(_REMINDERS_SQL, {"now": now, "until": now + timedelta(days=REMINDER_DAYS)}).mappings()
        return [dict(r) for r in rows]


def reminder(r: dict) -> tuple[str, str, str, str]:
    """(kind, title, body, dedupe key) of one reminder."""
    when = f"{r['at']:%d %b %Y}"
    if r["ending"]:
        title = "Your free trial ends" if r["status"] == "trialing" else "Your subscription ends"
        return (
            "subscription_ending",
            f"{title} on {when}",
            f"You cancelled {r['plan_name']}: you can watch until {r['at']:%d %b %Y, %H:%M} UTC, and nothing "
            "more will be charged. Changed your mind? Resume on the Subscription page before then.",
            f"ending:{r['subscription_id']}:{r['at']:%Y-%m-%d}",
        )
    title = "Your free trial ends" if r["status"] == "trialing" else "Your subscription renews"
    return (
        "renewal_reminder",
        f"{title} on {when}",
        f"On {when} we will charge {r['currency']} {format_amount(r['price'])} for {r['next_plan_name']} to your card "
        "on file. Cancel before then on the Subscription page if you do not want to continue.",
        f"renewal:{r['subscription_id']}:{r['at']:%Y-%m-%d}",
    )


def send_reminders(engine: Engine, now: datetime) -> int:
    """ "Renews / trial ends / subscription ends in 3 days", each in its own transaction under the account's
    lock, after checking the subscription is still as it was (an account may vanish or change meanwhile)."""
    sent = 0
    for due in reminders_due(engine, now):
        kind, title, body, key = reminder(due)

        def send(conn: Connection, due=due, kind=kind, title=title, body=body, key=key) -> bool:
            still = conn.execute(
                text("""SELECT 1 FROM subscriptions WHERE user_id = :u AND subscription_id = :s
                        AND status = :status AND cancel_at_period_end = :ending"""),
                {"u": due["user_id"], "s": due["subscription_id"], "status": due["status"], "ending": due["ending"]},
            ).first()
            return still is not None and notifications.notify(
                conn, due["user_id"], kind, title, body, now, dedupe_key=key, email=due["email"]
            )

        sent += bool(for_member(engine, due["user_id"], send))
    return sent


_NEW_TITLES_SQL = text("""
WITH members AS (
    SELECT s.user_id FROM subscriptions s LEFT JOIN notification_preferences np ON np.user_id = s.user_id
    WHERE s.status IN ('trialing', 'active', 'past_due') AND coalesce(np.new_titles, true)
), chosen AS (
    SELECT f.user_id, f.genre_id FROM followed_genres f JOIN members m ON m.user_id = f.user_id
), liked AS (  -- members who chose no genre: their taste, from what they rated up, listed or watched
    SELECT user_id, title_id FROM ratings WHERE score > 0
    UNION ALL SELECT user_id, title_id FROM list_entries
    UNION ALL SELECT user_id, title_id FROM viewing_progress
), taste AS (
    SELECT l.user_id, tg.genre_id, count(*) AS weight
    FROM liked l JOIN members m ON m.user_id = l.user_id JOIN title_genres tg ON tg.title_id = l.title_id
    WHERE NOT EXISTS (SELECT 1 FROM followed_genres f WHERE f.user_id = l.user_id)
    GROUP BY l.user_id, tg.genre_id
), favourite AS (
    SELECT user_id, genre_id, true AS followed FROM chosen
    UNION ALL
    SELECT user_id, genre_id, false FROM (
        SELECT user_id, genre_id, row_number() OVER (PARTITION BY user_id ORDER BY weight DESC, genre_id) AS r
        FROM taste) t WHERE r <= 3
), fresh AS (
    SELECT t.title, tg.genre_id FROM titles t JOIN title_genres tg ON tg.title_id = t.title_id
    WHERE t.is_active AND t.date_added > CAST(:today AS date) - 7 AND t.date_added <= CAST(:today AS date)
)
SELECT f.user_id, bool_or(f.followed) AS followed, (array_agg(DISTINCT n.title ORDER BY n.title))[1:10] AS titles
FROM favourite f JOIN fresh n ON n.genre_id = f.genre_id
GROUP BY f.user_id ORDER BY f.user_id""")


def send_new_titles(engine: Engine, now: datetime) -> int:
    """Once per ISO week: titles added in the last 7 days in each member's genres (the ones they follow, else
    the 3 they watch, rate and list most), to members who keep the note on."""
    year, week, _ = now.isocalendar()
    with engine.connect() as conn:
        rows = conn.execute(_NEW_TITLES_SQL, {"today": now.date()}).all()
    sent = 0
    for user_id, followed, titles in rows:

        def send(conn: Connection, user_id=user_id, followed=followed, titles=titles) -> bool:
            email = preferences.of_member(conn, user_id).email
            return notifications.notify(
                conn,
                user_id,
                "new_titles",
                f"New this week in genres you {'follow' if followed else 'love'}",
                "Just added: " + ", ".join(titles) + ".",
                now,
                dedupe_key=f"new_titles:{year}-W{week:02d}",
                email=email,
            )

        sent += bool(for_member(engine, user_id, send))
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
                try:
                    done = settle_account(engine, gateway, user_id, now)
                except IntegrityError:  # the account vanished or changed under the run: the others go on
                    log.warning("billing: account %s changed under the run: skipped", user_id, exc_info=True)
                    summary["skipped_accounts"] = summary.get("skipped_accounts", 0) + 1
                    continue
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
