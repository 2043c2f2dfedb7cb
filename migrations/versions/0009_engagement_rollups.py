"""Engagement, content and acquisition rollups; churn-model scores.

Placeholder reserved for issue 7 (engagement, churn model); filled in by that work. A no-op until then.

Revision ID: 0009
Revises: 0008
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
