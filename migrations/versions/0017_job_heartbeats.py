"""Job runs carry a heartbeat: `job_runs.heartbeat_at`, written every few seconds by the process running the job
(backend.core.jobs.beating). A 'running' row whose heartbeat stopped is a run whose process died (kill -9, a lost
machine); backend.core.jobs.mark_dead_runs marks it failed.

Scale-out rules 15-17: one statement per execute; the column is added without constraints.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = [
    "ALTER TABLE job_runs ADD COLUMN heartbeat_at TIMESTAMPTZ",
    "UPDATE job_runs SET heartbeat_at = coalesce(finished_at, started_at)",
    "CREATE INDEX job_runs_running_idx ON job_runs (heartbeat_at) WHERE status = 'running'",
]
DOWNGRADE = [
    "DROP INDEX job_runs_running_idx",
    "ALTER TABLE job_runs DROP COLUMN heartbeat_at",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
