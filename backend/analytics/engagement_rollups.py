"""Engagement, content and acquisition rollups (migration 0009) and the metrics read from them.

`refresh(engine, since=None)` rebuilds every rollup from `since`'s month (None: everything) in one
transaction, so a re-run changes nothing. The playback events of the window are read once into a
temporary table; everything else derives from it or from the per-user rollups (scale-out rules 9-10:
aggregate per user first, join on user_id). The big tables (user_daily_activity, title_daily,
profile_item_starts, user_first_play) are computed into temporary tables and synced (`sync`): only the
rows that changed are written, so the billing job's refresh every few minutes writes little; the small
shared aggregates are deleted and inserted again. `benchmarks/dashboards.py` times it.

Definitions (../shared/docs/metrics.md): a *qualified play* reached 120 s (or the end of a shorter
item); *active* = at least one qualified play; DAU/MAU = distinct active in the day / the 30 days
ending on it; completion is per profile and item (film or episode): furthest position >= 90% of
the runtime; views = hours / runtime (a series' runtime is all its episodes). Days are UTC.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, Engine, text

from backend.core import locks
from backend.watching import rules as watching_rules

REFRESH_WORK_MEM = "128MB"
ALL_PLANS = -1  # daily_active rows over every plan (plan 0 = no plan at the time)
ALL_COUNTRIES = "*"
UNKNOWN_COUNTRY = ""  # as in the revenue rollups (migration 0008)
EARLIEST = date(1970, 1, 1)

QUALIFIED = (
    f"(p.watched_seconds >= {watching_rules.QUALIFIED_PLAY_SECONDS} OR (p.duration_seconds IS NOT NULL "
    f"AND p.duration_seconds < {watching_rules.QUALIFIED_PLAY_SECONDS} "
    "AND p.end_position_seconds >= p.duration_seconds))"
)

_PLAYS = f"""
CREATE TEMP TABLE refresh_plays ON COMMIT DROP AS
WITH segments AS (  -- the plan in force: the latest subscription event at or before the play
    SELECT user_id, plan_id, occurred_at AS valid_from,
           LEAD(occurred_at) OVER (PARTITION BY user_id ORDER BY occurred_at, event_id) AS valid_to
    FROM subscription_events
)
SELECT p.user_id, p.profile_id, p.title_id, coalesce(p.episode_id, 0) AS episode_id, p.started_at,
       coalesce(p.ended_at, p.started_at + make_interval(secs => p.watched_seconds)) AS ended_at,
       (p.started_at AT TIME ZONE 'UTC')::date AS day,
       extract(hour FROM p.started_at AT TIME ZONE 'UTC')::smallint AS hour,
       p.watched_seconds, {QUALIFIED} AS qualified,
       coalesce(s.plan_id, 0) AS plan_id, coalesce(u.country_code, '{UNKNOWN_COUNTRY}') AS country_code
FROM playback_events p
JOIN users u ON u.user_id = p.user_id
LEFT JOIN segments s ON s.user_id = p.user_id AND s.valid_from <= p.started_at
                    AND (s.valid_to IS NULL OR s.valid_to > p.started_at)
WHERE p.started_at >= CAST(:sweep_from AS timestamptz)
"""

_DAY_ROWS = """
CREATE TEMP TABLE refresh_days ON COMMIT DROP AS
SELECT user_id, day, profile_id, count(*)::int AS plays, (count(*) FILTER (WHERE qualified))::int AS qualified_plays,
       sum(watched_seconds)::bigint AS watched_seconds, (array_agg(plan_id ORDER BY started_at DESC))[1] AS plan_id,
       min(country_code) AS country_code
FROM refresh_plays WHERE day >= :lo GROUP BY user_id, day, profile_id
"""

_TITLE_DAYS = """
CREATE TEMP TABLE refresh_title_days ON COMMIT DROP AS
SELECT day, title_id, count(*)::int AS plays, (count(*) FILTER (WHERE qualified))::int AS qualified_plays,
       sum(watched_seconds)::bigint AS watched_seconds
FROM refresh_plays WHERE day >= :lo GROUP BY day, title_id
"""
TITLE_DAY_KEY = ["day", "title_id"]
TITLE_DAY_VALUES = ["plays", "qualified_plays", "watched_seconds"]

_DAILY = [
    "DELETE FROM engagement_daily WHERE day >= :lo",
    """INSERT INTO engagement_daily (day, plan_id, country_code, plays, qualified_plays, watched_seconds)
       SELECT day, plan_id, country_code, sum(plays), sum(qualified_plays), sum(watched_seconds)
       FROM refresh_days GROUP BY day, plan_id, country_code""",
    "DELETE FROM title_monthly WHERE month >= :lo",
    """INSERT INTO title_monthly (month, title_id, qualified_plays, watched_seconds)
       SELECT (date_trunc('month', day))::date, title_id, sum(qualified_plays), sum(watched_seconds)
       FROM title_daily WHERE day >= :lo GROUP BY 1, title_id""",
    "DELETE FROM viewing_hours WHERE month >= :lo",
    """INSERT INTO viewing_hours (month, weekday, hour, plan_id, country_code, sessions, watched_seconds)
       SELECT (date_trunc('month', day))::date, extract(isodow FROM day), hour, plan_id, country_code, count(*),
              sum(watched_seconds)
       FROM refresh_plays WHERE day >= :lo GROUP BY 1, 2, hour, plan_id, country_code""",
    "DELETE FROM daily_peak_concurrency WHERE day >= :lo",
    # Sessions overlapping each minute: +1 at the start minute, -1 after the end minute, running sum.
    """INSERT INTO daily_peak_concurrency (day, peak_sessions, peak_minute)
       WITH deltas AS (
           SELECT date_trunc('minute', started_at) AS minute, 1 AS d FROM refresh_plays
           UNION ALL
           SELECT date_trunc('minute', ended_at) + interval '1 minute', -1 FROM refresh_plays
       ), per_minute AS (SELECT minute, sum(d) AS d FROM deltas GROUP BY minute),
       running AS (SELECT minute, sum(d) OVER (ORDER BY minute) AS sessions FROM per_minute)
       SELECT DISTINCT ON (day) day, sessions, minute
       FROM (SELECT (minute AT TIME ZONE 'UTC')::date AS day, minute, sessions FROM running) r
       WHERE day >= :lo AND sessions > 0
       ORDER BY day, sessions DESC, minute""",
]

# DAU/MAU of both units (account, profile) and the four segments (all, by plan, by country, both) in one
# pass over user_daily_activity: each identity's active days per unit and segment (a day may repeat: it
# counts once), sorted per user; an island of days less than 31 apart keeps the identity in the MAU from
# its first day to 29 days after its last (+1, -1). MAU is the running sum of those changes per segment,
# spread over the days up to the next change (days with MAU 0 get no row: nothing to show).
_ACTIVE = f"""
INSERT INTO daily_active (day, unit, plan_id, country_code, dau, mau)
WITH act AS (
    SELECT a.user_id, g.seg, CASE WHEN g.by_profile THEN a.profile_id ELSE 0 END AS profile_id,
           CASE WHEN g.by_plan THEN a.plan_id ELSE {ALL_PLANS} END AS plan_id,
           CASE WHEN g.by_country THEN a.country_code ELSE '{ALL_COUNTRIES}' END COLLATE "C" AS country_code, a.day
    FROM user_daily_activity a
    CROSS JOIN (VALUES {{segments}}) g (seg, by_profile, by_plan, by_country)
    WHERE a.qualified_plays > 0 AND a.day BETWEEN CAST(:lo AS date) - 29 AND :hi
), days AS MATERIALIZED (
    SELECT seg, plan_id, country_code, day, lag(day) OVER w AS prev, lead(day) OVER w AS next
    FROM act WINDOW w AS (PARTITION BY user_id, seg, profile_id, plan_id, country_code ORDER BY day)
), changes AS (
    SELECT seg, plan_id, country_code, day, sum(dau) AS dau, sum(n) AS n FROM (
        SELECT seg, plan_id, country_code, day, 1 AS dau, (prev IS NULL OR day - prev > 30)::int AS n
        FROM days WHERE prev IS DISTINCT FROM day
        UNION ALL
        SELECT seg, plan_id, country_code, day + 30, 0, -1
        FROM days WHERE (next IS NULL OR next - day > 30) AND day + 30 <= :hi) c
    GROUP BY seg, plan_id, country_code, day
), running AS (
    SELECT *, sum(n) OVER s AS mau, lead(day) OVER s AS next_change
    FROM changes WINDOW s AS (PARTITION BY seg, plan_id, country_code ORDER BY day)
)
SELECT g.day::date, u.unit, r.plan_id, r.country_code, CASE WHEN g.day = r.day THEN r.dau ELSE 0 END, r.mau
FROM running r
JOIN (VALUES {{units}}) u (seg, unit) ON u.seg = r.seg
CROSS JOIN LATERAL generate_series(greatest(r.day, CAST(:lo AS date)), coalesce(r.next_change - 1, :hi),
                                   interval '1 day') g (day)
WHERE r.mau > 0
"""
UNITS = {"account": "false", "profile": "true"}  # by profile
SEGMENTS = [("false", "false"), ("true", "false"), ("false", "true"), ("true", "true")]  # (by plan, by country)
_GRID = [
    (unit, by_profile, by_plan, by_country) for unit, by_profile in UNITS.items() for by_plan, by_country in SEGMENTS
]
_ACTIVE_SQL = _ACTIVE.format(
    segments=", ".join(f"({n}, {p}, {pl}, {c})" for n, (_, p, pl, c) in enumerate(_GRID)),
    units=", ".join(f"({n}, '{unit}')" for n, (unit, *_) in enumerate(_GRID)),
)

# Per profile and item: computed into a temp table (every item, or the items with a qualified play in the
# window), then synced into profile_item_starts writing only the rows that changed.
_ITEMS = f"""
CREATE TEMP TABLE refresh_items ON COMMIT DROP AS
SELECT p.user_id, p.profile_id, p.title_id, coalesce(p.episode_id, 0) AS episode_id,
       min(p.started_at) FILTER (WHERE {QUALIFIED}) AS first_qualified_at,
       max(p.end_position_seconds) AS furthest_seconds, max(p.duration_seconds) AS runtime_seconds,
       sum(p.watched_seconds)::bigint AS watched_seconds
FROM playback_events p
{{touched}}
GROUP BY p.user_id, p.profile_id, p.title_id, coalesce(p.episode_id, 0)
HAVING bool_or({QUALIFIED})
"""
_TOUCHED = """JOIN (SELECT DISTINCT user_id, profile_id, title_id, episode_id FROM refresh_plays WHERE qualified) t
              ON t.user_id = p.user_id AND t.profile_id = p.profile_id AND t.title_id = p.title_id
             AND t.episode_id = coalesce(p.episode_id, 0)"""
ITEM_KEY = ["user_id", "profile_id", "title_id", "episode_id"]
ITEM_VALUES = ["first_qualified_at", "furthest_seconds", "runtime_seconds", "watched_seconds"]
DAY_KEY = ["user_id", "day", "profile_id"]
DAY_VALUES = ["plays", "qualified_plays", "watched_seconds", "plan_id", "country_code"]

_COMPLETION = [
    "DELETE FROM completion_monthly WHERE month >= :from_month",
    f"""INSERT INTO completion_monthly (month, kind, starts, completed, share_sum)
        SELECT (date_trunc('month', first_qualified_at AT TIME ZONE 'UTC'))::date,
               CASE WHEN episode_id = 0 THEN 'movie' ELSE 'episode' END, count(*),
               count(*) FILTER (WHERE furthest_seconds >= {watching_rules.COMPLETED_AT} * runtime_seconds),
               coalesce(sum(least(watched_seconds::numeric / runtime_seconds, 1)), 0)
        FROM profile_item_starts
        WHERE first_qualified_at >= CAST(:from_month AS date) AT TIME ZONE 'UTC' AND runtime_seconds > 0
        GROUP BY 1, 2""",
]

_FIRST_PLAY_ROWS = """
CREATE TEMP TABLE refresh_first_play ON COMMIT DROP AS
       SELECT u.user_id, u.created_at AS signed_up_at, s.subscribed_at, i.first_play_at
       FROM users u
       LEFT JOIN (SELECT user_id, min(started_at) AS subscribed_at FROM subscriptions GROUP BY user_id) s
              ON s.user_id = u.user_id
       LEFT JOIN (SELECT user_id, min(first_qualified_at) AS first_play_at FROM profile_item_starts
                  GROUP BY user_id) i ON i.user_id = u.user_id
       WHERE u.role = 'subscriber'
"""
FIRST_PLAY_VALUES = ["signed_up_at", "subscribed_at", "first_play_at"]

_FIRST_PLAY = [
    "DELETE FROM first_play_cohorts",
    f"""INSERT INTO first_play_cohorts (month, country_code, subscribers, played, hours_sorted)
        SELECT (date_trunc('month', f.signed_up_at AT TIME ZONE 'UTC'))::date,
               coalesce(u.country_code, '{UNKNOWN_COUNTRY}'), count(*),
               count(*) FILTER (WHERE f.first_play_at >= f.subscribed_at),
               coalesce(array_agg(round(extract(epoch FROM f.first_play_at - f.subscribed_at) / 3600, 2)
                                  ORDER BY f.first_play_at - f.subscribed_at)
                        FILTER (WHERE f.first_play_at >= f.subscribed_at), '{{}}')
        FROM user_first_play f JOIN users u ON u.user_id = f.user_id
        WHERE f.subscribed_at IS NOT NULL
        GROUP BY 1, 2""",
]

# Cohorts by month of first visit: each visitor, whether they signed up, ever started a trial, ever paid.
_ACQUISITION = [
    "DELETE FROM acquisition_monthly",
    f"""INSERT INTO acquisition_monthly (month, traffic_source, country_code, visitors, signups, trials, paid)
        WITH reached AS (
            SELECT user_id, bool_or(kind = 'trial_started') AS trial, bool_or(mrr > 0) AS paid
            FROM subscription_events GROUP BY user_id
        )
        SELECT (date_trunc('month', v.first_seen_at AT TIME ZONE 'UTC'))::date, v.traffic_source,
               coalesce(v.country_code, '{UNKNOWN_COUNTRY}'), count(*), count(v.signed_up_user_id),
               count(*) FILTER (WHERE r.trial), count(*) FILTER (WHERE r.paid)
        FROM visitors v LEFT JOIN reached r ON r.user_id = v.signed_up_user_id
        GROUP BY 1, 2, 3""",
]


def refresh(engine: Engine, since: date | None = None) -> list[str]:
    """Rebuild the engagement, content and acquisition rollups from `since` (None: all days).

    Idempotent: the same data gives the same rollups however often it runs. Returns the tables written.
    """
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.ENGAGEMENT_REFRESH})
        conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
        conn.execute(text(f"SET LOCAL work_mem = '{REFRESH_WORK_MEM}'"))  # sorts and hashes of a whole year
        conn.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves on these statements
        written = refresh_in(conn, since)
    return written


def refresh_in(conn: Connection, since: date | None) -> list[str]:
    """The engagement rollups, inside the caller's transaction."""
    lo = (since or EARLIEST).replace(day=1)  # whole months: the monthly rollups are rebuilt from their start
    params = {"lo": lo, "sweep_from": lo - timedelta(days=1)}
    conn.execute(text(_PLAYS), params)
    conn.execute(text("ANALYZE refresh_plays"))
    conn.execute(text(_DAY_ROWS), params)
    sync(conn, "user_daily_activity", "refresh_days", DAY_KEY, DAY_VALUES, scope="day >= :lo", params=params)
    conn.execute(text(_TITLE_DAYS), params)
    sync(conn, "title_daily", "refresh_title_days", TITLE_DAY_KEY, TITLE_DAY_VALUES, scope="day >= :lo", params=params)
    for sql in _DAILY:
        conn.execute(text(sql), params)
    _refresh_active(conn, lo)
    _refresh_items(conn, since)
    conn.execute(text(_FIRST_PLAY_ROWS))
    sync(conn, "user_first_play", "refresh_first_play", ["user_id"], FIRST_PLAY_VALUES, scope="true")
    for sql in _FIRST_PLAY + _ACQUISITION:
        conn.execute(text(sql))
    return [
        "user_daily_activity",
        "engagement_daily",
        "title_daily",
        "title_monthly",
        "viewing_hours",
        "daily_peak_concurrency",
        "daily_active",
        "profile_item_starts",
        "completion_monthly",
        "user_first_play",
        "first_play_cohorts",
        "acquisition_monthly",
    ]


def sync(
    conn: Connection,
    table: str,
    source: str,
    key: list[str],
    values: list[str],
    *,
    scope: str | None,
    params: dict | None = None,
) -> None:
    """Make `table`'s rows in `scope` (a WHERE condition; None: no deletions) equal `source`'s rows, writing
    only the differences: delete the rows gone, update the rows changed, insert the new ones in key order."""
    on = " AND ".join(f"s.{k} = t.{k}" for k in key)
    if scope is not None:
        conn.execute(
            text(f"DELETE FROM {table} t WHERE {scope} AND NOT EXISTS (SELECT FROM {source} s WHERE {on})"),
            params or {},
        )
    conn.execute(
        text(f"""
        UPDATE {table} t SET {", ".join(f"{v} = s.{v}" for v in values)} FROM {source} s
        WHERE {on} AND ({", ".join(f"t.{v}" for v in values)}) IS DISTINCT FROM ({", ".join(f"s.{v}" for v in values)})
    """)
    )
    columns = ", ".join(key + values)
    conn.execute(
        text(f"""
        INSERT INTO {table} ({columns}) SELECT {columns} FROM {source} s
        WHERE NOT EXISTS (SELECT FROM {table} t WHERE {on}) ORDER BY {", ".join(key)}""")
    )


def _refresh_active(conn: Connection, lo: date) -> None:
    hi = conn.execute(text("SELECT max(day) FROM user_daily_activity")).scalar()
    conn.execute(text("DELETE FROM daily_active WHERE day >= :lo"), {"lo": lo})
    if hi is None or hi < lo:
        return
    first: date = conn.execute(text("SELECT min(day) FROM user_daily_activity")).scalar_one()  # as hi: not NULL
    conn.execute(text(_ACTIVE_SQL), {"lo": max(lo, first), "hi": hi})


def _refresh_items(conn: Connection, since: date | None) -> None:
    conn.execute(text(_ITEMS.format(touched="" if since is None else _TOUCHED)))
    sync(conn, "profile_item_starts", "refresh_items", ITEM_KEY, ITEM_VALUES, scope=None if since else "true")
    if since is None:
        from_month = EARLIEST
    else:
        first = conn.execute(text("SELECT min(first_qualified_at) FROM refresh_items")).scalar()
        from_month = min(first.date(), since) if first else since
    conn.execute(text(_COMPLETION[0]), {"from_month": from_month.replace(day=1)})
    conn.execute(text(_COMPLETION[1]), {"from_month": from_month.replace(day=1)})
