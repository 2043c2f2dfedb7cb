"""Discovery: trigram search indexes, ratings and list changes.

Placeholder reserved for issue 5 (browse, title pages, lists, ratings, recommendations); filled in by that work. A no-op until then.

Revision ID: 0006
Revises: 0005
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
