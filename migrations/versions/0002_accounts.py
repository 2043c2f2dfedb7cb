"""Accounts: sign-in throttling by email, signed-out sessions, profile text fields.

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
    -- A session is known by its cookie's expiry instant; signing out records it here so that a
    -- saved copy of that cookie no longer signs in. Rows can go once the instant has passed.
    CREATE TABLE signed_out_sessions (
        user_id           BIGINT NOT NULL,
        token_expires_at  TIMESTAMPTZ NOT NULL,
        signed_out_at     TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (user_id, token_expires_at)
    );
    ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '' CHECK (char_length(bio) <= 500);
    ALTER TABLE users ADD CONSTRAINT users_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 80);
    """)
    database.distribute(op.get_bind(), by_user=["signed_out_sessions"], by_column={"login_throttle": "email"})
    op.execute("""ALTER TABLE signed_out_sessions ADD FOREIGN KEY (user_id) REFERENCES users (user_id)
                  ON DELETE CASCADE""")


def downgrade() -> None:
    op.execute("""
    DROP TABLE signed_out_sessions;
    DROP TABLE login_throttle;
    ALTER TABLE users DROP CONSTRAINT users_display_name_length;
    ALTER TABLE users DROP COLUMN bio;
    """)
