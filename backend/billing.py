"""The billing job: trial conversions, renewals, payment retries, ends of grace and of cancelled
periods, renewal reminders and the weekly new-titles note.

`run(engine, now)` settles everything that fell due up to `now`. Each step happens at its scheduled
instant (a renewal at the period end, a retry 1, 3 and 5 days later, the end of grace after 7), not
at the time the job happens to run, so a late or replayed run writes the same history. Each step is
one transaction holding the account's row lock (taken with SKIP LOCKED: an account busy in another
transaction or another job process is left for the next run), and every charge has an idempotency
key derived from the subscription and the period, so re-running the job never charges twice.

CLI: `python -m backend.billing run [--until YYYY-MM-DD] [--json]`.
The app runs the same job every few minutes in a background thread (pages/common.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Engine, text

import database
from backend import gateway as gateways
from backend import jobs, lifecycle, notifications
from backend.subscriptions import (
    Subscription,
    add_event,
    attempt_by_key,
    charge,
    live_subscription,
    lock_account,
    plan_row,
    recover,
    saved_card,
)
from backend.users import clock

log = logging.getLogger("reelhouse.billing")
JOB_LOCK_KEY = 7_340_006  # session advisory lock: one billing run at a time across processes
REMINDER_DAYS = 3
ZERO = Decimal("0.00")


def _set(conn: Connection, sub: Subscription, at: datetime, **changes) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in changes)
    conn.execute(
        text(f"UPDATE subscriptions SET {assignments}, updated_at = :at_ WHERE user_id = :u AND subscription_id = :s"),
        {**changes, "at_": at, "u": sub.user_id, "s": sub.subscription_id},
    )


def _key(sub: Subscription, period_start: datetime, what: str) -> str:
    return f"sub{sub.subscription_id}:{period_start.astimezone(UTC):%Y%m%dT%H%M%S}:{what}"


def next_period(anchor: datetime | None, start: datetime, billing_period: str) -> tuple[datetime, datetime]:
    """(billing anchor, end) of the period starting at `start`. Periods are anchored calendar months; when
    the billing period changed (a monthly member moved to an annual plan) the anchor moves to `start`."""
    if anchor is not None:
        n = 1
        while (end := lifecycle.period_end(anchor, n, billing_period)) < start:
            n += 1
        if end == start:
            return anchor, lifecycle.period_end(anchor, n + 1, billing_period)
    return start, lifecycle.period_end(start, 1, billing_period)


def retry_times(sub: Subscription) -> list[datetime]:
    return [sub.current_period_start + timedelta(days=d) for d in lifecycle.RETRY_AFTER_DAYS]


def _next_due(conn: Connection, sub: Subscription) -> tuple[datetime, str] | None:
    """(when, what) of the subscription's next scheduled step."""
    if sub.status == "trialing":
        return sub.trial_end, "trial_end"
    if sub.status == "active":
        return sub.current_period_end, "period_end"
    for number, when in enumerate(retry_times(sub), start=1):
        if (
            when < sub.grace_until
            and attempt_by_key(conn, sub.user_id, _key(sub, sub.current_period_start, f"retry{number}")) is None
        ):
            return when, f"retry{number}"
    return sub.grace_until, "grace_end"


def _end(conn: Connection, sub: Subscription, at: datetime, status: str, reason: str, kind: str, message: str):
    _set(conn, sub, at, status=status, ended_at=at, end_reason=reason, grace_until=None)
    add_event(conn, sub.user_id, sub.subscription_id, kind, at, sub.plan_id, ZERO, reason)
    notifications.notify(conn, sub.user_id, "subscription_ended", "Your subscription has ended", message, at)


def step(conn: Connection, gateway: gateways.Gateway, sub: Subscription, now: datetime) -> str | None:
    """Carry out the subscription's next step if it is due at `now`; returns what was done."""
    due = _next_due(conn, sub)
    if due is None or due[0] > now:
        return None
    at, what = due
    if what == "trial_end":
        if sub.cancel_at_period_end:
            _end(
                conn,
                sub,
                at,
                "expired",
                "trial_not_converted",
                "trial_expired",
                "Your free trial has ended. Choose a plan whenever you want to watch again.",
            )
            return "trial_expired"
        return _convert_trial(conn, gateway, sub, at)
    if what == "period_end":
        if sub.cancel_at_period_end:
            _end(
                conn,
                sub,
                at,
                "canceled",
                "voluntary",
                "churned",
                f"Your {sub.plan_name} subscription ended on {at:%d %b %Y}, as you asked. "
                "Resubscribe any time to watch again.",
            )
            return "churned_voluntary"
        return _renew(conn, gateway, sub, at)
    if what == "grace_end":
        _end(
            conn,
            sub,
            at,
            "expired",
            "involuntary",
            "churned",
            "We could not take your payment during the grace period, so your subscription has ended. "
            "Resubscribe any time to watch again.",
        )
        return "churned_involuntary"
    return (
        "payment_recovered"
        if recover(conn, gateway, sub, _key(sub, sub.current_period_start, what), at)
        else "retry_failed"
    )


def _convert_trial(conn: Connection, gateway: gateways.Gateway, sub: Subscription, at: datetime) -> str:
    plan = plan_row(conn, sub.plan_id, on_sale=False)
    price, period = plan["price"], plan["billing_period"]
    end = lifecycle.period_end(at, 1, period)
    result = charge(
        conn,
        gateway,
        user_id=sub.user_id,
        subscription_id=sub.subscription_id,
        plan_id=sub.plan_id,
        amount=price,
        currency=plan["currency"],
        key=_key(sub, at, "conversion"),
        kind="conversion",
        period_start=at,
        period_end=end,
        at=at,
        card=saved_card(conn, sub.user_id),
    )
    if not result.succeeded:
        # Choice: a trial whose first charge fails ends at once (no grace: nothing was ever paid).
        _end(
            conn,
            sub,
            at,
            "expired",
            "trial_not_converted",
            "trial_expired",
            f"Your free trial has ended and the first payment failed ({result.message}) "
            "Choose a plan again with another card to keep watching.",
        )
        return "trial_expired"
    _set(
        conn,
        sub,
        at,
        status="active",
        price=price,
        billing_period=period,
        current_period_start=at,
        current_period_end=end,
        billing_anchor=at,
    )
    add_event(
        conn,
        sub.user_id,
        sub.subscription_id,
        "trial_converted",
        at,
        sub.plan_id,
        lifecycle.monthly_recurring(price, period),
    )
    return "trial_converted"


def _renew(conn: Connection, gateway: gateways.Gateway, sub: Subscription, at: datetime) -> str:
    plan = plan_row(conn, sub.scheduled_plan_id or sub.plan_id, on_sale=False)
    price, period = plan["price"], plan["billing_period"]
    mrr = lifecycle.monthly_recurring(price, period)
    if sub.scheduled_plan_id is not None:
        add_event(conn, sub.user_id, sub.subscription_id, "downgraded", at, plan["plan_id"], mrr)
    elif price != sub.price or period != sub.billing_period:  # an admin's price change reaches this member now
        add_event(conn, sub.user_id, sub.subscription_id, "price_changed", at, plan["plan_id"], mrr)
    anchor, end = next_period(sub.billing_anchor, at, period)
    result = charge(
        conn,
        gateway,
        user_id=sub.user_id,
        subscription_id=sub.subscription_id,
        plan_id=plan["plan_id"],
        amount=price,
        currency=plan["currency"],
        key=_key(sub, at, "renewal"),
        kind="renewal",
        period_start=at,
        period_end=end,
        at=at,
        card=saved_card(conn, sub.user_id),
    )
    common = {
        "plan_id": plan["plan_id"],
        "price": price,
        "billing_period": period,
        "currency": plan["currency"],
        "scheduled_plan_id": None,
        "current_period_start": at,
        "current_period_end": end,
        "billing_anchor": anchor,
    }
    if result.succeeded:
        _set(conn, sub, at, **common)
        add_event(conn, sub.user_id, sub.subscription_id, "renewed", at, plan["plan_id"], mrr)
        return "renewed"
    grace_until = at + timedelta(days=lifecycle.GRACE_DAYS)
    _set(conn, sub, at, status="past_due", grace_until=grace_until, **common)
    add_event(conn, sub.user_id, sub.subscription_id, "payment_failed", at, plan["plan_id"], mrr)
    notifications.notify(
        conn,
        sub.user_id,
        "payment_failed",
        "Your payment failed",
        f"We could not charge {plan['currency']} {price} for {plan['name']}: {result.message} "
        f"We will try again over the next days; to keep watching after {grace_until:%d %b %Y}, "
        "update your card or press Retry now on the Subscription page.",
        at,
    )
    return "renewal_failed"


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
            and not lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": JOB_LOCK_KEY}).scalar()
        ):
            lock_conn.rollback()
            return {"skipped": "another billing run is in progress"}
        lock_conn.commit()
        run_id = jobs.start_run(engine, "billing", {"now": now.isoformat()}, started_by)
        refresh_since = _analytics_since(engine, now)
        try:
            summary: dict = {"now": now.isoformat(), "accounts": 0}
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
                lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": JOB_LOCK_KEY})
                lock_conn.commit()
        jobs.finish_run(engine, run_id, summary=summary)
    summary["analytics_refresh_seconds"] = _refresh_analytics(engine, refresh_since, now)
    return summary


def _analytics_since(engine: Engine, now: datetime) -> date:
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


def _refresh_analytics(engine: Engine, since: date, now: datetime) -> dict:
    """Refresh the analytics rollups of the recent months; a failure is logged, never the run's."""
    from backend import analytics

    try:
        return {name: round(seconds, 3) for name, seconds in analytics.refresh(engine, since, now).items()}
    except Exception:
        log.exception("analytics refresh after the billing run failed")
        return {}


def set_plan_price(engine: Engine, acting_user_id: int, plan_id: int, price, *, now: datetime | None = None) -> Decimal:
    """An admin's price change. It applies to new periods only: each subscriber keeps the price in force
    until their next renewal (a `price_changed` event then), and the history keeps what was paid."""
    from backend.subscriptions import BillingError
    from backend.users import require_role

    require_role(engine, acting_user_id, "admin")
    try:
        price = Decimal(str(price)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise BillingError("Enter a price like 12.99.") from None
    if not Decimal("0.01") <= price <= Decimal("1000"):
        raise BillingError("A price must be between 0.01 and 1000.00.")
    with engine.begin() as conn:
        found = conn.execute(
            text("UPDATE plans SET price = :p, updated_at = :now WHERE plan_id = :id RETURNING 1"),
            {"p": price, "now": clock(now), "id": plan_id},
        ).scalar()
    if found is None:
        raise BillingError("No such plan.")
    return price


def _until(value: str) -> datetime:
    """The end of that day, UTC."""
    day = date.fromisoformat(value)
    return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(microseconds=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.billing", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="settle everything due (idempotent)")
    run_parser.add_argument("--until", type=_until, help="settle what is due up to the end of this day (UTC)")
    run_parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    summary = run(database.get_engine(), args.until)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        for name, value in summary.items():
            print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
