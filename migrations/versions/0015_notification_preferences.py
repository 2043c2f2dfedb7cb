"""Notification preferences per member, the genres they follow, and the "subscription ends" reminder.

- `notification_preferences`: one row per member who changed a default (backend.notify.preferences):
  reminders (renewal, trial end, end of a cancelled subscription), the weekly new-titles note, and
  whether those optional notes also come by email. No row = everything on.
- `followed_genres`: the genres of a member's new-titles note; none = the three they watch most.
- `notifications.kind` gains 'subscription_ending' ("Your subscription ends on ...", sent before a
  cancelled subscription or trial ends).

Both tables are per-user (user_id first, distributed by user_id); `followed_genres` references the shared
`genres` table (scale-out rule 2 allows it). One statement per execute (rules 15-17).

Revision ID: 0015
Revises: 0014
"""

from alembic import op

import database

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KINDS = (
    "'renewal_reminder', 'payment_failed', 'payment_recovered', 'subscription_ended', "
    "'new_titles', 'receipt', 'trial_started'"
)


def upgrade() -> None:
    conn = op.get_bind()
    if database.has_citus(conn):  # DDL after distribution in one transaction (scale-out rule 15)
        op.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
    op.execute("""
    CREATE TABLE notification_preferences (
        user_id     BIGINT NOT NULL PRIMARY KEY,
        reminders   BOOLEAN NOT NULL DEFAULT TRUE,
        new_titles  BOOLEAN NOT NULL DEFAULT TRUE,
        email       BOOLEAN NOT NULL DEFAULT TRUE,
        updated_at  TIMESTAMPTZ NOT NULL
    )""")
    op.execute("""
    CREATE TABLE followed_genres (
        user_id      BIGINT NOT NULL,
        genre_id     BIGINT NOT NULL,
        followed_at  TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (user_id, genre_id)
    )""")
    database.distribute(conn, by_user=["notification_preferences", "followed_genres"])
    op.execute(
        "ALTER TABLE notification_preferences ADD CONSTRAINT notification_preferences_user_fk "
        "FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE"
    )
    op.execute(
        "ALTER TABLE followed_genres ADD CONSTRAINT followed_genres_user_fk "
        "FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE"
    )
    op.execute(
        "ALTER TABLE followed_genres ADD CONSTRAINT followed_genres_genre_fk "
        "FOREIGN KEY (genre_id) REFERENCES genres (genre_id) ON DELETE CASCADE"
    )
    op.execute("ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check")
    op.execute(
        "ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check "
        f"CHECK (kind IN ({KINDS}, 'subscription_ending'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'subscription_ending'")
    op.execute("ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check")
    op.execute(f"ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ({KINDS}))")
    op.execute("DROP TABLE followed_genres")
    op.execute("DROP TABLE notification_preferences")
