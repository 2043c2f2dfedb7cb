"""Revenue and subscriber rollups for the dashboards.

Placeholder reserved for issue 7 (revenue metrics); filled in by that work. A no-op until then.

Revision ID: 0008
Revises: 0007
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
