"""One idempotency scheme for every charge (backend.billing.charge_keys), and the duplicates removed.

Before this, the seeder named its charges `seed-<subscription>-<period number>-<attempt>` while the billing
job named the same charges `sub<subscription>:<period start>:<attempt>`: after a seed, the job did not
recognise the retries the seeder had already made for members in their grace period and made them again
(the same failed charge twice, at the same instant, in the member's billing history and in the failed
payment counts). This migration:

1. deletes every payment attempt that repeats another one of the same subscription, period and instant
   (keeping the successful one if there is one, else the first recorded);
2. rewrites the stored keys into the one scheme, so the job finds what was made before:
   `seed-S-N-A` -> `sub<S>:<period start>:conversion|renewal|retry<A-1>`, or `checkout:seed-<S>`;
   `manual:<form key>` -> `sub<S>:<period start>:manual-<form key>`;
   `card:<S>:<iso time>:<token>` -> `sub<S>:<period start>:card-<token>`;
   a checkout's form key `<K>` -> `checkout:<K>`.

The dashboards' payment rollups counted the duplicates: refresh them afterwards
(`python -m backend.analytics refresh`; the next billing run refreshes the last 35 days by itself).
Downgrading keeps the new keys (the earlier code finds its scheduled attempts under them too) and cannot
bring the duplicates back.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The period start as in charge_keys.charge_key: UTC, YYYYMMDDTHHMMSS (immutable functions only).
PERIOD = """(lpad(extract(year FROM period_start AT TIME ZONE 'UTC')::int::text, 4, '0')
    || lpad(extract(month FROM period_start AT TIME ZONE 'UTC')::int::text, 2, '0')
    || lpad(extract(day FROM period_start AT TIME ZONE 'UTC')::int::text, 2, '0') || 'T'
    || lpad(extract(hour FROM period_start AT TIME ZONE 'UTC')::int::text, 2, '0')
    || lpad(extract(minute FROM period_start AT TIME ZONE 'UTC')::int::text, 2, '0')
    || lpad(floor(extract(second FROM period_start AT TIME ZONE 'UTC'))::int::text, 2, '0'))"""
NAMED = f"'sub' || subscription_id || ':' || {PERIOD} || ':'"

STATEMENTS = [
    # 1. The same charge recorded twice: same subscription, period and instant.
    """DELETE FROM payment_attempts a USING payment_attempts b
       WHERE b.user_id = a.user_id AND b.subscription_id = a.subscription_id
         AND b.period_start = a.period_start AND b.attempted_at = a.attempted_at AND b.payment_id <> a.payment_id
         AND ((b.status = 'succeeded') > (a.status = 'succeeded')
              OR ((b.status = 'succeeded') = (a.status = 'succeeded') AND b.payment_id < a.payment_id))""",
    # 2. The seeder's keys.
    f"""UPDATE payment_attempts p SET idempotency_key = n.new_key
       FROM (SELECT user_id, payment_id, CASE
                 WHEN kind = 'checkout' THEN 'checkout:seed-' || subscription_id
                 WHEN kind = 'retry' THEN {NAMED} || 'retry' || (split_part(idempotency_key, '-', 4)::int - 1)
                 ELSE {NAMED} || kind END AS new_key
             FROM payment_attempts
             WHERE idempotency_key ~ '^seed-[0-9]+-[0-9]+-[0-9]+$' AND subscription_id IS NOT NULL
               AND period_start IS NOT NULL) n
       WHERE p.user_id = n.user_id AND p.payment_id = n.payment_id
         AND NOT EXISTS (SELECT 1 FROM payment_attempts x
                         WHERE x.user_id = n.user_id AND x.idempotency_key = n.new_key)""",
    # 3. The members' own charges.
    f"""UPDATE payment_attempts SET idempotency_key = {NAMED} || 'manual-' || substr(idempotency_key, 8)
       WHERE idempotency_key LIKE 'manual:%' AND subscription_id IS NOT NULL AND period_start IS NOT NULL""",
    f"""UPDATE payment_attempts SET idempotency_key = {NAMED} || 'card-' || substring(idempotency_key FROM ':([^:]+)$')
       WHERE idempotency_key LIKE 'card:%' AND subscription_id IS NOT NULL AND period_start IS NOT NULL""",
    """UPDATE payment_attempts SET idempotency_key = 'checkout:' || idempotency_key
       WHERE kind = 'checkout' AND idempotency_key NOT LIKE 'checkout:%' AND idempotency_key NOT LIKE 'seed-%'""",
]


def upgrade() -> None:
    for statement in STATEMENTS:  # one statement per execute (scale-out rule 16)
        op.execute(statement)


def downgrade() -> None:
    pass  # see the docstring: the keys stay, the duplicates are gone for good
