"""Discovery: trigram search indexes, home-row indexes and the weekly views rollup (Top 10).

- pg_trgm with GIN trigram indexes on lower(titles.title) and lower(people.name): substring (LIKE),
  similarity (%) and word-similarity (<%) searches use them.
- `title_weekly_views`: hours viewed and views (hours / runtime, metrics.md) per title per Monday-Sunday
  week, filled by `backend.home` from playback_events; `title_weekly_views_runs` says when each week was
  computed. Both are shared (derived, no user data): reference tables on Citus.
- Indexes for the home rows (recently watched, new on the service) and the title page (latest reviews).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

import database

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX titles_title_trgm_idx ON titles USING gin (lower(title) gin_trgm_ops);
CREATE INDEX people_name_trgm_idx ON people USING gin (lower(name) gin_trgm_ops);
CREATE INDEX titles_date_added_idx ON titles (date_added DESC NULLS LAST, title_id DESC) WHERE is_active;
CREATE INDEX viewing_progress_recent_idx ON viewing_progress (user_id, profile_id, updated_at DESC);
CREATE INDEX ratings_reviews_idx ON ratings (title_id, updated_at DESC) WHERE review IS NOT NULL;
"""

TABLES = """
CREATE TABLE title_weekly_views (
    week_start       DATE NOT NULL CHECK (extract(isodow FROM week_start) = 1),
    title_id         BIGINT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('movie', 'tv_show')),
    watched_seconds  BIGINT NOT NULL CHECK (watched_seconds >= 0),
    views            NUMERIC(14,2) NOT NULL CHECK (views >= 0),
    PRIMARY KEY (week_start, title_id)
);
CREATE INDEX title_weekly_views_rank_idx ON title_weekly_views (week_start, kind, views DESC, watched_seconds DESC);

CREATE TABLE title_weekly_views_runs (
    week_start    DATE PRIMARY KEY,
    refreshed_at  TIMESTAMPTZ NOT NULL
);
"""


def upgrade() -> None:
    op.execute(INDEXES)
    op.execute(TABLES)
    database.distribute(op.get_bind(), reference=["title_weekly_views", "title_weekly_views_runs"])
    op.execute("ALTER TABLE title_weekly_views ADD FOREIGN KEY (title_id) REFERENCES titles (title_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS title_weekly_views_runs, title_weekly_views")
    for index in (
        "ratings_reviews_idx",
        "viewing_progress_recent_idx",
        "titles_date_added_idx",
        "people_name_trgm_idx",
        "titles_title_trgm_idx",
    ):
        op.execute(f"DROP INDEX IF EXISTS {index}")
