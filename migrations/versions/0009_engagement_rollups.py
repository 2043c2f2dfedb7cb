"""Engagement, content and acquisition rollups; churn and retention rollups; churn-model scores.

Maintained by `backend.engagement.refresh` and `backend.churn.refresh` (set-based, idempotent), which
`python -m backend.analytics refresh`, the seeder and the billing job call. The dashboards read only
these tables (scale-out rule 10), never `playback_events` or `subscription_events`.

Per-user rollups (user_id first, distributed by user): user_daily_activity, profile_item_starts,
user_first_play, churn_scores. The others are small shared aggregates. Segment columns use plan_id 0
for "no plan", -1 for all plans (daily_active), country_code '' for unknown (as 0008), '*' for all.
Probabilities are NUMERIC (the schema has no floating-point columns).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

import database

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PER_USER = """
CREATE TABLE user_daily_activity (
    user_id          BIGINT NOT NULL,
    day              DATE NOT NULL,
    profile_id       BIGINT NOT NULL,
    plays            INTEGER NOT NULL,
    qualified_plays  INTEGER NOT NULL,
    watched_seconds  BIGINT NOT NULL,
    plan_id          BIGINT NOT NULL,
    country_code     TEXT NOT NULL,
    PRIMARY KEY (user_id, day, profile_id)
);
CREATE INDEX user_daily_activity_day_idx ON user_daily_activity (day);

-- One row per profile and item (a film, or one episode: episode_id 0 for films) with a qualified play.
CREATE TABLE profile_item_starts (
    user_id             BIGINT NOT NULL,
    profile_id          BIGINT NOT NULL,
    title_id            BIGINT NOT NULL,
    episode_id          BIGINT NOT NULL,
    first_qualified_at  TIMESTAMPTZ NOT NULL,
    furthest_seconds    INTEGER NOT NULL,
    runtime_seconds     INTEGER,
    watched_seconds     BIGINT NOT NULL,
    PRIMARY KEY (user_id, profile_id, title_id, episode_id)
);
CREATE INDEX profile_item_starts_first_idx ON profile_item_starts (first_qualified_at);

CREATE TABLE user_first_play (
    user_id        BIGINT NOT NULL PRIMARY KEY,
    signed_up_at   TIMESTAMPTZ NOT NULL,
    subscribed_at  TIMESTAMPTZ,
    first_play_at  TIMESTAMPTZ
);

-- The latest churn-model run's scores of the subscribers active at its as-of time.
CREATE TABLE churn_scores (
    user_id               BIGINT NOT NULL PRIMARY KEY,
    run_id                BIGINT NOT NULL,
    plan_id               BIGINT NOT NULL,
    country_code          TEXT NOT NULL,
    mrr                   NUMERIC(12,2) NOT NULL,
    tenure_days           INTEGER NOT NULL,
    watch_hours_30d       NUMERIC(10,2) NOT NULL,
    days_since_play       INTEGER,
    pending_cancellation  BOOLEAN NOT NULL,
    cancels_at            TIMESTAMPTZ,
    probability           NUMERIC(6,5),
    mrr_at_risk           NUMERIC(12,2)
);
CREATE INDEX churn_scores_risk_idx ON churn_scores (mrr_at_risk DESC NULLS LAST);
"""

SHARED = """
CREATE TABLE engagement_daily (
    day              DATE NOT NULL,
    plan_id          BIGINT NOT NULL,
    country_code     TEXT NOT NULL,
    plays            INTEGER NOT NULL,
    qualified_plays  INTEGER NOT NULL,
    watched_seconds  BIGINT NOT NULL,
    PRIMARY KEY (day, plan_id, country_code)
);

CREATE TABLE daily_active (
    day           DATE NOT NULL,
    unit          TEXT NOT NULL CHECK (unit IN ('account', 'profile')),
    plan_id       BIGINT NOT NULL,
    country_code  TEXT NOT NULL,
    dau           INTEGER NOT NULL,
    mau           INTEGER NOT NULL,
    PRIMARY KEY (day, unit, plan_id, country_code)
);

CREATE TABLE title_daily (
    day              DATE NOT NULL,
    title_id         BIGINT NOT NULL,
    plays            INTEGER NOT NULL,
    qualified_plays  INTEGER NOT NULL,
    watched_seconds  BIGINT NOT NULL,
    PRIMARY KEY (day, title_id)
);
CREATE INDEX title_daily_title_idx ON title_daily (title_id);

-- Per month and title (the dashboards' ranges are months): what title_daily sums to.
CREATE TABLE title_monthly (
    month            DATE NOT NULL,
    title_id         BIGINT NOT NULL,
    qualified_plays  INTEGER NOT NULL,
    watched_seconds  BIGINT NOT NULL,
    PRIMARY KEY (month, title_id)
);

CREATE TABLE viewing_hours (
    month            DATE NOT NULL,
    weekday          SMALLINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    hour             SMALLINT NOT NULL CHECK (hour BETWEEN 0 AND 23),
    plan_id          BIGINT NOT NULL,
    country_code     TEXT NOT NULL,
    sessions         INTEGER NOT NULL,
    watched_seconds  BIGINT NOT NULL,
    PRIMARY KEY (month, weekday, hour, plan_id, country_code)
);

CREATE TABLE daily_peak_concurrency (
    day            DATE NOT NULL PRIMARY KEY,
    peak_sessions  INTEGER NOT NULL,
    peak_minute    TIMESTAMPTZ NOT NULL
);

CREATE TABLE completion_monthly (
    month      DATE NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('movie', 'episode')),
    starts     INTEGER NOT NULL,
    completed  INTEGER NOT NULL,
    share_sum  NUMERIC(16,4) NOT NULL,
    PRIMARY KEY (month, kind)
);

CREATE TABLE first_play_cohorts (
    month         DATE NOT NULL,
    country_code  TEXT NOT NULL,
    subscribers   INTEGER NOT NULL,
    played        INTEGER NOT NULL,
    hours_sorted  NUMERIC(10,2)[] NOT NULL,
    PRIMARY KEY (month, country_code)
);

CREATE TABLE acquisition_monthly (
    month           DATE NOT NULL,
    traffic_source  TEXT NOT NULL,
    country_code    TEXT NOT NULL,
    visitors        INTEGER NOT NULL,
    signups         INTEGER NOT NULL,
    trials          INTEGER NOT NULL,
    paid            INTEGER NOT NULL,
    PRIMARY KEY (month, traffic_source, country_code)
);

CREATE TABLE churn_monthly (
    month                DATE NOT NULL,
    plan_id              BIGINT NOT NULL,
    country_code         TEXT NOT NULL,
    tenure_band          TEXT NOT NULL,
    active_start         INTEGER NOT NULL,
    churned              INTEGER NOT NULL,
    churned_voluntary    INTEGER NOT NULL,
    churned_involuntary  INTEGER NOT NULL,
    start_mrr            NUMERIC(14,2) NOT NULL,
    churned_mrr          NUMERIC(14,2) NOT NULL,
    PRIMARY KEY (month, plan_id, country_code, tenure_band)
);

CREATE TABLE cohort_retention (
    cohort_month  DATE NOT NULL,
    month_index   INTEGER NOT NULL CHECK (month_index >= 0),
    plan_id       BIGINT NOT NULL,
    country_code  TEXT NOT NULL,
    cohort_size   INTEGER NOT NULL,
    active        INTEGER NOT NULL,
    new_mrr       NUMERIC(14,2) NOT NULL,
    mrr           NUMERIC(14,2) NOT NULL,
    PRIMARY KEY (cohort_month, month_index, plan_id, country_code)
);

CREATE TABLE survival_curves (
    group_kind  TEXT NOT NULL CHECK (group_kind IN ('all', 'plan', 'cohort')),
    group_key   TEXT NOT NULL,
    t_days      INTEGER NOT NULL,
    survival    NUMERIC(8,6) NOT NULL,
    ci_low      NUMERIC(8,6),
    ci_high     NUMERIC(8,6),
    at_risk     INTEGER NOT NULL,
    PRIMARY KEY (group_kind, group_key, t_days)
);

CREATE TABLE churn_model_runs (
    run_id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    trained_at      TIMESTAMPTZ NOT NULL,
    as_of           TIMESTAMPTZ NOT NULL,
    test_cutoff     DATE,
    train_cutoffs   INTEGER NOT NULL,
    train_rows      INTEGER NOT NULL,
    test_rows       INTEGER NOT NULL,
    test_positives  INTEGER NOT NULL,
    roc_auc         NUMERIC(6,5),
    pr_auc          NUMERIC(6,5),
    model           TEXT NOT NULL,
    details         JSONB NOT NULL DEFAULT '{}'
);
"""

PER_USER_TABLES = ["user_daily_activity", "profile_item_starts", "user_first_play", "churn_scores"]
SHARED_TABLES = [
    "engagement_daily",
    "daily_active",
    "title_daily",
    "title_monthly",
    "viewing_hours",
    "daily_peak_concurrency",
    "completion_monthly",
    "first_play_cohorts",
    "acquisition_monthly",
    "churn_monthly",
    "cohort_retention",
    "survival_curves",
    "churn_model_runs",
]


def upgrade() -> None:
    op.execute(PER_USER)
    op.execute(SHARED)
    database.distribute(op.get_bind(), reference=SHARED_TABLES, by_user=PER_USER_TABLES)
    for table in PER_USER_TABLES:
        op.execute(f"ALTER TABLE {table} ADD FOREIGN KEY (user_id) REFERENCES users (user_id) ON DELETE CASCADE")


def downgrade() -> None:
    for table in reversed(PER_USER_TABLES + SHARED_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table}")
