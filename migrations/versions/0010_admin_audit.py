"""Admin management: audit log, title edits kept across ETL runs.

Placeholder reserved for issue 8; filled in by that work. A no-op until then.

Revision ID: 0010
Revises: 0009
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
