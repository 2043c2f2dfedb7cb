"""Rollup columns for figures an auditor can sign (backend.analytics.revenue_rollups, churn_rollups):

- `trial_monthly` counts trials per trial (not per member): `trials_converted` now means converted from
  that trial (its first charge succeeded when it ended); `trials_ever_paid` keeps the older, looser figure
  (the member has paid at some time since the trial started, e.g. came back months after it expired).
- `churn_monthly.watched_seconds`: what the subscribers active at the start of the month (the rows'
  `active_start`) watched during the month, so watch hours per subscriber divide one population by itself.

Both are rebuilt by the next `python -m backend.analytics refresh` (the billing job's refresh too).

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE trial_monthly ADD COLUMN trials_ever_paid INTEGER NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE churn_monthly ADD COLUMN watched_seconds BIGINT NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE churn_monthly DROP COLUMN watched_seconds")
    op.execute("ALTER TABLE trial_monthly DROP COLUMN trials_ever_paid")
