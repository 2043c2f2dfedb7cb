"""Accounts: sign-in throttling by email, profile text fields.

`login_throttle` is keyed by the (normalised) email, like `user_logins`, so unknown accounts are
throttled exactly like known ones; on Citus it is distributed by email.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

import database

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE login_throttle (
        email              TEXT PRIMARY KEY CHECK (email = lower(email)),
        failures           INTEGER NOT NULL CHECK (failures >= 0),
        window_started_at  TIMESTAMPTZ NOT NULL,
        locked_until       TIMESTAMPTZ
    );
    ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '' CHECK (char_length(bio) <= 500);
    ALTER TABLE users ADD CONSTRAINT users_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 80);
    """)
    database.distribute(op.get_bind(), by_column={"login_throttle": "email"})


def downgrade() -> None:
    op.execute("""
    DROP TABLE login_throttle;
    ALTER TABLE users DROP CONSTRAINT users_display_name_length;
    ALTER TABLE users DROP COLUMN bio;
    """)
