"""Playback: stream leases, trailers, continue-watching state.

Placeholder reserved for issue 5 (playback, access, streams); filled in by that work. A no-op until then.

Revision ID: 0007
Revises: 0006
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
