"""One idempotency key per charge: the seeder's vectorised keys equal the billing job's, and migration 0014
turns a history written under the old keys (duplicates included) into the one scheme."""

from datetime import UTC, datetime, timedelta

import numpy as np
from alembic import command
from sqlalchemy import text

import database
from backend.accounts.users import register
from backend.billing import charge_keys, plans
from backend.billing import gateway as gateways
from backend.billing import job as billing_job

PERIOD = datetime(2026, 3, 10, 9, 30, 15, tzinfo=UTC)


def test_the_seeders_keys_are_the_jobs_keys():
    rng = np.random.default_rng(3)
    subs = rng.integers(1, 10**9, 500)
    starts = rng.integers(946_684_800, 2_000_000_000, 500)
    attempts = rng.choice(list(charge_keys.SCHEDULED), 500)
    vectorised = charge_keys.charge_keys(subs, starts, attempts)
    one_by_one = [
        charge_keys.charge_key(int(s), datetime.fromtimestamp(int(t), UTC), str(a))
        for s, t, a in zip(subs, starts, attempts, strict=True)
    ]
    assert vectorised.tolist() == one_by_one
    assert charge_keys.charge_key(42, PERIOD, "retry2") == "sub42:20260310T093015:retry2"
    assert charge_keys.checkout_keys(np.array(["seed-7"])).tolist() == [charge_keys.checkout_key("seed-7")]


def attempt(conn, user_id, sub, key, kind, status, at, period_start=PERIOD):
    conn.execute(
        text("""INSERT INTO payment_attempts (user_id, subscription_id, plan_id, amount, currency, status,
                    idempotency_key, period_start, period_end, attempted_at, kind)
                VALUES (:u, :s, (SELECT plan_id FROM plans WHERE name = 'Basic'), 7.99, 'USD', :status, :k,
                        :ps, :ps + interval '1 month', :at, :kind)"""),
        {"u": user_id, "s": sub, "status": status, "k": key, "ps": period_start, "at": at, "kind": kind},
    )


def test_the_migration_removes_duplicates_and_names_old_charges_by_the_scheme(engine):
    with engine.begin() as conn:
        command.downgrade(database._alembic_config(conn), "0013")
    member = register(engine, "old.keys@example.com", "Olga Keys", "correct horse 42", now=PERIOD - timedelta(days=90))
    u = member.user_id
    day = timedelta(days=1)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        sub = conn.execute(
            text("""INSERT INTO subscriptions (user_id, plan_id, status, price, currency, billing_period, started_at,
                        current_period_start, current_period_end, grace_until, billing_anchor,
                        validity_days, access_level, max_devices_allowed, resolution)
                    SELECT :u, plan_id, 'past_due', 7.99, 'USD', 'month', :start, :ps, :ps + interval '1 month',
                           :grace, :start, validity_days, access_level, max_devices_allowed, resolution
                    FROM plans WHERE name = 'Basic' RETURNING subscription_id"""),
            {"u": u, "start": PERIOD - timedelta(days=31), "ps": PERIOD, "grace": PERIOD + 7 * day},
        ).scalar_one()
        conn.execute(
            text("""INSERT INTO payment_methods (user_id, brand, last4, exp_month, exp_year, gateway_token, updated_at)
                    VALUES (:u, 'Visa', '9995', 12, 2030, 'tok_sim_insufficient_funds_old', :t)"""),
            {"u": u, "t": PERIOD},
        )
        before = PERIOD - timedelta(days=31)
        attempt(conn, u, None, "form-1", "checkout", "failed", before - day, before)
        attempt(conn, u, sub, f"seed-{sub}-1-1", "conversion", "succeeded", before, before)
        attempt(conn, u, sub, f"seed-{sub}-2-1", "renewal", "failed", PERIOD)
        attempt(conn, u, sub, f"seed-{sub}-2-2", "retry", "failed", PERIOD + day)
        attempt(conn, u, sub, charge_keys.charge_key(sub, PERIOD, "retry1"), "retry", "failed", PERIOD + day)  # again
        attempt(conn, u, sub, "manual:click-9", "retry", "failed", PERIOD + day + timedelta(hours=2))
        attempt(conn, u, sub, f"card:{sub}:{PERIOD.isoformat()}:tok_sim_x", "retry", "failed", PERIOD + day * 1.5)
    database.upgrade(engine)
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT idempotency_key FROM payment_attempts ORDER BY attempted_at")).scalars()
        assert list(keys) == [
            "checkout:form-1",
            charge_keys.charge_key(sub, before, "conversion"),
            charge_keys.charge_key(sub, PERIOD, "renewal"),
            charge_keys.charge_key(sub, PERIOD, "retry1"),  # once: the repeat is gone
            charge_keys.charge_key(sub, PERIOD, "manual-click-9"),
            charge_keys.charge_key(sub, PERIOD, "card-tok_sim_x"),
        ]
    gateway = gateways.SimulatedGateway()
    billing_job.run(engine, PERIOD + 2 * day, gateway=gateway)  # retry 1 is found: nothing is due yet
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM payment_attempts")).scalar() == 6
    billing_job.run(engine, PERIOD + 3 * day + timedelta(hours=1), gateway=gateway)  # retry 2, once
    billing_job.run(engine, PERIOD + 3 * day + timedelta(hours=2), gateway=gateway)
    with engine.connect() as conn:
        latest = conn.execute(
            text("SELECT idempotency_key, attempted_at FROM payment_attempts ORDER BY payment_id DESC")
        ).all()
    assert len(latest) == 7 and latest[0] == (charge_keys.charge_key(sub, PERIOD, "retry2"), PERIOD + 3 * day)
