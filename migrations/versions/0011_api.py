"""JSON API: refresh tokens, idempotency keys, rate limits.

Placeholder reserved for issue 9; filled in by that work. A no-op until then.

Revision ID: 0011
Revises: 0010
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
