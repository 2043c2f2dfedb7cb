"""The seeder and the billing job on one history: a fresh seed, then the job, and no charge made twice; and the
seeder's --reset while billing work is under way (the job carries on, nothing is left behind)."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

import database
from backend.billing import charge_keys, lifecycle
from backend.billing import gateway as gateways
from backend.billing import job as billing_job
from etl.load_catalogue import load_catalogue
from ops import billing as billing_ops
from seed import generate
from seed import options as seed_options
from tests.conftest import QUIRKS_CSV

OPTIONS = seed_options.Options(subscribers=700, months=3, end=date(2026, 3, 15), seed=21)
WINDOW_END = datetime(2026, 3, 15, tzinfo=UTC)
SCHEME = re.compile(r"^(sub[0-9]+:[0-9]{8}T[0-9]{6}:(conversion|renewal|retry[123])|checkout:seed-[0-9]+)$")


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


@pytest.fixture(scope="module")
def seeded_then_billed(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, QUIRKS_CSV)
    generate.seed(engine, OPTIONS)
    seeded_in_grace = scalar(
        engine,
        """SELECT count(DISTINCT s.subscription_id) FROM subscriptions s JOIN payment_attempts p
           ON p.user_id = s.user_id AND p.subscription_id = s.subscription_id
           AND p.period_start = s.current_period_start AND p.kind = 'retry'
           WHERE s.status = 'past_due'""",
    )
    summary = billing_ops.run(engine, WINDOW_END + timedelta(days=9), gateway=gateways.SimulatedGateway())
    yield engine, seeded_in_grace, summary
    database.dispose_engines()


def test_the_seed_leaves_retries_in_grace_that_the_job_then_takes_over(seeded_then_billed):
    _, seeded_in_grace, summary = seeded_then_billed
    assert seeded_in_grace > 0  # members in their grace period whose first retries the seeder already made
    assert summary.get("retry_failed", 0) + summary.get("payment_recovered", 0) > 0  # and the job made the later ones
    assert summary["renewed"] > 0 and "skipped" not in summary


def test_no_two_attempts_for_one_subscription_period_and_instant(seeded_then_billed):
    engine, _, _ = seeded_then_billed
    twice = scalar(
        engine,
        """SELECT count(*) FROM (SELECT 1 FROM payment_attempts
           GROUP BY user_id, subscription_id, period_start, attempted_at HAVING count(*) > 1) d""",
    )
    assert twice == 0
    too_many = scalar(
        engine,
        f"""SELECT count(*) FROM (SELECT 1 FROM payment_attempts WHERE kind = 'retry'
            GROUP BY user_id, subscription_id, period_start HAVING count(*) > {len(lifecycle.RETRY_AFTER_DAYS)}) d""",
    )
    assert too_many == 0
    off_schedule = scalar(
        engine,
        """SELECT count(*) FROM payment_attempts WHERE kind = 'retry'
           AND extract(epoch FROM attempted_at - period_start) / 86400 <> ALL(:days)""",
        days=list(lifecycle.RETRY_AFTER_DAYS),
    )
    assert off_schedule == 0


def test_every_charge_is_named_by_the_one_scheme_whoever_made_it(seeded_then_billed):
    engine, _, _ = seeded_then_billed
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT subscription_id, period_start, kind, attempted_at, idempotency_key FROM payment_attempts")
        ).all()
    assert rows and all(SCHEME.match(key) for *_, key in rows)
    made_by_job = [r for r in rows if r.attempted_at > WINDOW_END]
    assert made_by_job  # both makers are in the history ...
    for sub, period_start, kind, attempted_at, key in rows:  # ... and name a charge the same way
        if kind == "retry":
            number = lifecycle.RETRY_AFTER_DAYS.index((attempted_at - period_start).days) + 1
            assert key == charge_keys.charge_key(sub, period_start, charge_keys.retry_attempt(number))
        elif kind in ("conversion", "renewal"):
            assert key == charge_keys.charge_key(sub, period_start, kind)


def waiting_on_a_lock(engine, pattern: str) -> bool:
    return bool(
        scalar(
            engine,
            """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
               AND wait_event_type = 'Lock' AND query LIKE :q""",
            q=pattern,
        )
    )


def test_a_reset_while_billing_work_is_under_way(engine):
    """The seeder's --reset locks the seeded accounts first: an account busy in a billing step finishes
    before its rows go, and the billing job run meanwhile skips the locked accounts instead of failing."""
    load_catalogue(engine, QUIRKS_CSV)
    options = seed_options.Options(subscribers=120, months=3, end=date(2026, 3, 15), seed=4)
    generate.seed(engine, options)
    busy = scalar(engine, "SELECT min(user_id) FROM subscriptions WHERE status IN ('active', 'trialing')")
    step = engine.connect()
    step_transaction = step.begin()
    step.execute(text("SELECT user_id FROM users WHERE user_id = :u FOR NO KEY UPDATE"), {"u": busy})
    outcome: dict = {}

    def reset():
        try:
            outcome["summary"] = generate.seed(
                engine, seed_options.Options(**{**options.as_json(), "end": options.end, "reset": True})
            )
        except Exception as error:  # reported below
            outcome["error"] = error

    thread = threading.Thread(target=reset)
    thread.start()
    deadline = time.monotonic() + 120
    while not waiting_on_a_lock(engine, "%FOR UPDATE%") and time.monotonic() < deadline:
        time.sleep(0.05)  # poll the condition: the reset is waiting for the busy account
    assert waiting_on_a_lock(engine, "%FOR UPDATE%"), "the reset never waited for the busy account"
    summary = billing_job.run(engine, WINDOW_END + timedelta(days=2), gateway=gateways.SimulatedGateway())
    assert "skipped" not in summary  # it ran, skipping the accounts the reset holds
    step.execute(
        text("""INSERT INTO notifications (user_id, kind, title, body, created_at)
                VALUES (:u, 'receipt', 'Payment received', 'Thank you', :now)"""),
        {"u": busy, "now": WINDOW_END},
    )
    step_transaction.commit()  # the step finishes; the reset goes on
    step.close()
    thread.join(timeout=600)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"]["rows"]["removed_accounts"] == 122
    for table in ("notifications", "payment_attempts", "subscriptions", "subscription_events", "email_outbox"):
        orphans = scalar(
            engine,
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.user_id)",
        )
        assert orphans == 0, table
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM job_runs WHERE job = 'billing'")).scalar() == "succeeded"
