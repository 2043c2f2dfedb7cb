"""The plan model of the requirements, entitlements that change at renewals only, a stored pause.

- `plans.max_streams` is `plans.max_devices_allowed` (the requirements' name).
- Access levels are free, basic and premium, for plans and titles alike (a free title plays for any
  signed-in member, with or without a subscription).
- `validity_days` drives the billing period (backend.billing.lifecycle): 28-31 days is one calendar month,
  365-366 one calendar year, anything else exactly that many days ('day'). `billing_period` is kept as the
  period's unit, and a check holds the two together; rows whose validity said otherwise are set to what
  they were really billed by (30 days a month, 365 a year).
- `subscriptions` keep the terms of the current period (validity_days, access_level, max_devices_allowed,
  resolution) beside its price: an admin's change of a plan reaches its subscribers at their next
  renewal, never mid-period. Existing subscriptions take their plan's terms now.
- `stream_leases.paused_at`: set while the player reports a pause (NULL while playing).

Scale-out rules 15-17: sequential DDL on Citus; one statement per execute; columns added without
constraints, then named constraints.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

import database

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LEVELS = "('free', 'basic', 'premium')"
UNIT = (
    "CASE WHEN validity_days BETWEEN 28 AND 31 THEN 'month' WHEN validity_days IN (365, 366) THEN 'year' ELSE 'day' END"
)

UPGRADE = [
    "ALTER TABLE plans RENAME COLUMN max_streams TO max_devices_allowed",
    "ALTER TABLE plans RENAME CONSTRAINT plans_max_streams_check TO plans_max_devices_allowed_check",
    "ALTER TABLE plans DROP CONSTRAINT plans_access_level_check",
    f"ALTER TABLE plans ADD CONSTRAINT plans_access_level_check CHECK (access_level IN {LEVELS})",
    "ALTER TABLE titles DROP CONSTRAINT titles_access_level_check",
    f"ALTER TABLE titles ADD CONSTRAINT titles_access_level_check CHECK (access_level IN {LEVELS})",
    """UPDATE plans SET validity_days = CASE billing_period WHEN 'year' THEN 365 ELSE 30 END
       WHERE billing_period IS DISTINCT FROM (CASE WHEN validity_days BETWEEN 28 AND 31 THEN 'month'
                                                   WHEN validity_days IN (365, 366) THEN 'year' ELSE 'day' END)""",
    "ALTER TABLE plans DROP CONSTRAINT plans_billing_period_check",
    f"ALTER TABLE plans ADD CONSTRAINT plans_billing_period_check CHECK (billing_period = {UNIT})",
    "ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_billing_period_check",
    "ALTER TABLE subscriptions ADD COLUMN validity_days INTEGER",
    "ALTER TABLE subscriptions ADD COLUMN access_level TEXT",
    "ALTER TABLE subscriptions ADD COLUMN max_devices_allowed INTEGER",
    "ALTER TABLE subscriptions ADD COLUMN resolution TEXT",
    """UPDATE subscriptions s SET validity_days = p.validity_days, access_level = p.access_level,
              max_devices_allowed = p.max_devices_allowed, resolution = p.resolution,
              billing_period = p.billing_period
       FROM plans p WHERE p.plan_id = s.plan_id""",
    "ALTER TABLE subscriptions ALTER COLUMN validity_days SET NOT NULL",
    "ALTER TABLE subscriptions ALTER COLUMN access_level SET NOT NULL",
    "ALTER TABLE subscriptions ALTER COLUMN max_devices_allowed SET NOT NULL",
    "ALTER TABLE subscriptions ALTER COLUMN resolution SET NOT NULL",
    f"ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_billing_period_check CHECK (billing_period = {UNIT})",
    f"ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_access_level_check CHECK (access_level IN {LEVELS})",
    """ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_max_devices_allowed_check
       CHECK (max_devices_allowed BETWEEN 1 AND 10)""",
    """ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_resolution_check
       CHECK (resolution IN ('480p', '720p', '1080p', '4K'))""",
    "ALTER TABLE stream_leases ADD COLUMN paused_at TIMESTAMPTZ",
]

DOWNGRADE = [
    "ALTER TABLE stream_leases DROP COLUMN paused_at",
    "ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_billing_period_check",
    "ALTER TABLE subscriptions DROP COLUMN resolution",
    "ALTER TABLE subscriptions DROP COLUMN max_devices_allowed",
    "ALTER TABLE subscriptions DROP COLUMN access_level",
    "ALTER TABLE subscriptions DROP COLUMN validity_days",
    """ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_billing_period_check
       CHECK (billing_period IN ('month', 'year'))""",
    "ALTER TABLE plans DROP CONSTRAINT plans_billing_period_check",
    "ALTER TABLE plans ADD CONSTRAINT plans_billing_period_check CHECK (billing_period IN ('month', 'year'))",
    "ALTER TABLE titles DROP CONSTRAINT titles_access_level_check",
    "ALTER TABLE titles ADD CONSTRAINT titles_access_level_check CHECK (access_level IN ('basic', 'premium'))",
    "ALTER TABLE plans DROP CONSTRAINT plans_access_level_check",
    "ALTER TABLE plans ADD CONSTRAINT plans_access_level_check CHECK (access_level IN ('basic', 'premium'))",
    "ALTER TABLE plans RENAME CONSTRAINT plans_max_devices_allowed_check TO plans_max_streams_check",
    "ALTER TABLE plans RENAME COLUMN max_devices_allowed TO max_streams",
]


def upgrade() -> None:
    if database.has_citus(op.get_bind()):  # rule 15: DDL on distributed tables inside one transaction
        op.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
