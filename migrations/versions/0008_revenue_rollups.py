"""Revenue and subscriber rollups for the dashboards (issue 7, revenue analytics).

Small shared tables (reference tables on a cluster), written set-based by `backend.analytics.refresh`
(delete + insert of the refreshed months in one transaction) from `subscription_events`,
`payment_attempts` and `users`; the dashboards read only these. No row references a per-user table.

- `revenue_monthly`: per calendar month, per (plan at the start of the month, plan at its end, account
  country), the sums of the subscribers' MRR at start and end and of each MRR movement, with counts.
  Plan 0 means "not paying" at that instant; country '' means unknown. Keeping both plans lets a plan
  filter tell a plan switch into or out of the selected plans (moved in/out) from new business or churn.
- `trial_monthly`: trials by the month they started, with how many have since become paying.
- `payments_monthly`: cash collected (successful payments), failed attempts, and failed renewals by the
  month they failed with how many were recovered or lost (involuntary churn).
- `rollup_refreshes`: when each rollup was last refreshed, from which month, and how long it took.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

import database

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ["revenue_monthly", "trial_monthly", "payments_monthly", "rollup_refreshes"]


def upgrade() -> None:
    op.execute("""
    CREATE TABLE revenue_monthly (
        month                    DATE NOT NULL,
        start_plan_id            BIGINT NOT NULL,
        end_plan_id              BIGINT NOT NULL,
        country_code             TEXT NOT NULL,
        start_mrr                NUMERIC(14,2) NOT NULL,
        end_mrr                  NUMERIC(14,2) NOT NULL,
        new_mrr                  NUMERIC(14,2) NOT NULL,
        expansion_mrr            NUMERIC(14,2) NOT NULL,
        reactivation_mrr         NUMERIC(14,2) NOT NULL,
        contraction_mrr          NUMERIC(14,2) NOT NULL,
        churned_mrr              NUMERIC(14,2) NOT NULL,
        active_start             INTEGER NOT NULL,
        active_end               INTEGER NOT NULL,
        new_subscribers          INTEGER NOT NULL,
        reactivated_subscribers  INTEGER NOT NULL,
        churned_subscribers      INTEGER NOT NULL,
        churned_voluntary        INTEGER NOT NULL,
        churned_involuntary      INTEGER NOT NULL,
        PRIMARY KEY (month, start_plan_id, end_plan_id, country_code)
    );

    CREATE TABLE trial_monthly (
        month             DATE NOT NULL,
        plan_id           BIGINT NOT NULL,
        country_code      TEXT NOT NULL,
        trials_started    INTEGER NOT NULL,
        trials_converted  INTEGER NOT NULL,
        trials_running    INTEGER NOT NULL,
        PRIMARY KEY (month, plan_id, country_code)
    );

    CREATE TABLE payments_monthly (
        month               DATE NOT NULL,
        plan_id             BIGINT NOT NULL,
        country_code        TEXT NOT NULL,
        cash_collected      NUMERIC(14,2) NOT NULL,
        payments_succeeded  INTEGER NOT NULL,
        payments_failed     INTEGER NOT NULL,
        failed_renewals     INTEGER NOT NULL,
        renewals_recovered  INTEGER NOT NULL,
        renewals_lost       INTEGER NOT NULL,
        PRIMARY KEY (month, plan_id, country_code)
    );

    CREATE TABLE rollup_refreshes (
        rollup        TEXT PRIMARY KEY,
        refreshed_at  TIMESTAMPTZ NOT NULL,
        since_month   DATE,
        seconds       NUMERIC(10,3) NOT NULL
    );
    """)
    database.distribute(op.get_bind(), reference=TABLES)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table}")
