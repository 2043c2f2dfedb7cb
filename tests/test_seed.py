"""The seeder on a real database: the issue's invariants, checked in SQL on generated data.

One module database is loaded with the catalogue (the Kaggle file when NETFLIX_CSV is set, else the
quirks fixture) and seeded once; the checks read it. Tests that change data use their own database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

import database
from backend.accounts import sessions, users
from backend.analytics import mrr_replay
from backend.billing import lifecycle
from backend.billing import state as billing_state
from backend.watching import rules as watching_rules
from etl.load_catalogue import load_catalogue
from seed import generate, population, rhythms
from seed import options as seed_options
from seed.copy import Column, copy_binary
from seed.viewing import TARGET_HOURS_PER_DAY
from tests.conftest import QUIRKS_CSV, full_catalogue_csv

OPTIONS = seed_options.Options(subscribers=800, months=12, end=date(2026, 6, 15), seed=11)
WINDOW_END = datetime(2026, 6, 15, tzinfo=UTC)


def catalogue_csv():
    return full_catalogue_csv() or QUIRKS_CSV


@pytest.fixture(scope="module")
def seeded(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, catalogue_csv())
    summary = generate.run_logged(engine, OPTIONS)
    yield engine, summary
    database.dispose_engines()


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


# --- what was made ------------------------------------------------------------------------------------


def test_every_table_gets_rows_and_the_summary_counts_them(seeded):
    engine, summary = seeded
    for table in (
        "users",
        "profiles",
        "visitors",
        "payment_methods",
        "subscriptions",
        "subscription_events",
        "payment_attempts",
        "playback_events",
        "viewing_progress",
        "list_entries",
        "ratings",
    ):
        marker = "WHERE is_seeded" if table in ("users", "visitors") else ""
        count = scalar(engine, f"SELECT count(*) FROM {table} {marker}")
        assert count > 0, table
        assert summary["rows"][table] == count, table
    assert summary["rows"]["users"] == OPTIONS.subscribers + 2  # plus the demo admin and analyst
    assert summary["rows_per_second"] > 0 and summary["seconds"] > 0
    no_card = scalar(
        engine,
        """SELECT count(*) FROM subscriptions s WHERE s.status IN ('active', 'past_due')
                                AND NOT EXISTS (SELECT 1 FROM payment_methods m WHERE m.user_id = s.user_id)""",
    )
    assert no_card == 0
    without_profile = scalar(
        engine,
        """SELECT count(*) FROM users u WHERE is_seeded
                                        AND NOT EXISTS (SELECT 1 FROM profiles p WHERE p.user_id = u.user_id)""",
    )
    assert without_profile == 0  # the app needs a profile on every account, staff included
    kinds = {k for (k,) in rows(engine, "SELECT DISTINCT kind FROM payment_attempts")}
    assert kinds == {"conversion", "checkout", "renewal", "retry"}


def test_the_business_has_every_kind_of_event(seeded):
    engine, _ = seeded
    kinds = {k for (k,) in rows(engine, "SELECT DISTINCT kind FROM subscription_events")}
    assert {
        "trial_started",
        "trial_converted",
        "trial_expired",
        "renewed",
        "upgraded",
        "downgrade_scheduled",
        "downgraded",
        "cancel_scheduled",
        "churned",
        "payment_failed",
        "payment_recovered",
        "reactivated",
    } <= kinds
    reasons = {r for (r,) in rows(engine, "SELECT DISTINCT reason FROM subscription_events WHERE kind = 'churned'")}
    assert reasons == {"voluntary", "involuntary"}
    states = {s for (s,) in rows(engine, "SELECT DISTINCT status FROM subscriptions")}
    assert {"active", "canceled", "expired"} <= states


def test_demo_accounts_share_one_hash_and_sign_in_with_the_documented_password(seeded):
    engine, summary = seeded
    assert scalar(engine, "SELECT count(DISTINCT password_hash) FROM users WHERE is_seeded") == 1
    roles = {who["role"] for who in summary["demo_sign_ins"]}
    assert roles == {"subscriber", "admin", "analyst"}
    plans_shown = {who["plan"] for who in summary["demo_sign_ins"] if who["role"] == "subscriber"}
    assert plans_shown == {name for (name,) in rows(engine, "SELECT name FROM plans WHERE is_active")}
    admin = sessions.authenticate(engine, "demo.admin@example.com", seed_options.DEMO_PASSWORD)
    assert admin.role == "admin"
    phones = [p for (p,) in rows(engine, "SELECT phone_e164 FROM users WHERE is_seeded AND phone_e164 IS NOT NULL")]
    assert phones and all(p.startswith("+") for p in phones)
    assert scalar(engine, "SELECT count(DISTINCT country_code) FROM users WHERE is_seeded") >= 5


# --- billing invariants ----------------------------------------------------------------------------------


def test_no_overlapping_paid_periods_per_subscriber(seeded):
    engine, _ = seeded
    overlaps = scalar(
        engine,
        """
        SELECT count(*) FROM (
            SELECT period_start, lag(period_end) OVER (PARTITION BY user_id ORDER BY period_start) AS previous_end
            FROM payment_attempts WHERE status = 'succeeded') p
        WHERE period_start < previous_end""",
    )
    assert overlaps == 0


def test_every_paid_period_is_paid_exactly_once(seeded):
    engine, _ = seeded
    twice = scalar(
        engine,
        """SELECT count(*) FROM (SELECT 1 FROM payment_attempts WHERE status = 'succeeded'
                              GROUP BY user_id, subscription_id, period_start HAVING count(*) > 1) d""",
    )
    assert twice == 0
    # Each event that starts a paid period has its successful payment at that instant.
    unpaid = scalar(
        engine,
        """
        SELECT count(*) FROM subscription_events e
        WHERE e.kind IN ('trial_converted', 'subscribed', 'reactivated', 'renewed', 'payment_recovered')
          AND NOT EXISTS (SELECT 1 FROM payment_attempts p WHERE p.user_id = e.user_id
                          AND p.subscription_id = e.subscription_id AND p.status = 'succeeded'
                          AND p.attempted_at = e.occurred_at)""",
    )
    assert unpaid == 0
    # The current period of every active subscription is covered by a successful payment.
    uncovered = scalar(
        engine,
        """
        SELECT count(*) FROM subscriptions s WHERE s.status = 'active' AND NOT EXISTS (
            SELECT 1 FROM payment_attempts p WHERE p.user_id = s.user_id AND p.subscription_id = s.subscription_id
              AND p.status = 'succeeded' AND p.period_start = s.current_period_start
              AND p.period_end = s.current_period_end)""",
    )
    assert uncovered == 0


def test_failed_attempts_come_before_their_retries_inside_the_grace_period(seeded):
    engine, _ = seeded
    assert scalar(engine, "SELECT count(*) FROM payment_attempts WHERE status = 'failed'") > 0
    misplaced = scalar(
        engine,
        f"""
        SELECT count(*) FROM payment_attempts f JOIN payment_attempts s
          ON s.user_id = f.user_id AND s.subscription_id = f.subscription_id AND s.period_start = f.period_start
        WHERE f.status = 'failed' AND s.status = 'succeeded'
          AND (s.attempted_at <= f.attempted_at
               OR s.attempted_at >= f.period_start + interval '{lifecycle.GRACE_DAYS} days')""",
    )
    assert misplaced == 0
    retries = rows(
        engine,
        """SELECT DISTINCT extract(epoch FROM attempted_at - period_start) / 86400
                              FROM payment_attempts WHERE attempted_at > period_start""",
    )
    assert {int(d) for (d,) in retries} <= set(lifecycle.RETRY_AFTER_DAYS)


def test_involuntary_churn_ends_the_grace_period_and_voluntary_churn_the_paid_period(seeded):
    engine, _ = seeded
    wrong = scalar(
        engine,
        f"""
        SELECT count(*) FROM subscriptions WHERE
            (end_reason = 'involuntary' AND ended_at <> grace_until)
         OR (end_reason = 'involuntary'
             AND ended_at <> current_period_end + interval '{lifecycle.GRACE_DAYS} days')
         OR (end_reason = 'voluntary' AND (ended_at <> current_period_end OR NOT cancel_at_period_end))""",
    )
    assert wrong == 0


def test_seeded_histories_move_along_the_apps_state_machine(seeded):
    """The seeder and the app's billing obey one state machine (backend.billing.state.ALLOWED)."""
    engine, _ = seeded
    history = rows(engine, """SELECT user_id, kind FROM subscription_events ORDER BY user_id, occurred_at, event_id""")
    replayed: dict[int, str | None] = {}
    for user_id, kind in history:
        status = replayed.get(user_id)
        assert kind in billing_state.ALLOWED[status], f"user {user_id}: {kind} while {status}"
        replayed[user_id] = billing_state.NEXT_STATUS.get(kind, status)
    final = dict(
        rows(
            engine,
            """SELECT DISTINCT ON (user_id) user_id, status FROM subscriptions
                                 ORDER BY user_id, started_at DESC""",
        )
    )
    assert final.keys() == replayed.keys()
    for user_id, status in final.items():
        assert (replayed[user_id] or "ended") == (status if status in lifecycle.LIVE_STATES else "ended"), user_id


# --- viewing invariants -----------------------------------------------------------------------------------

LIVE_SEGMENTS = """
    WITH seg AS (
        SELECT e.user_id, e.occurred_at AS valid_from, e.kind, p.access_level,
               coalesce(lead(e.occurred_at) OVER (PARTITION BY e.user_id ORDER BY e.occurred_at, e.event_id),
                        CAST(:window_end AS timestamptz)) AS valid_to
        FROM subscription_events e JOIN plans p ON p.plan_id = e.plan_id)
    SELECT * FROM seg WHERE kind NOT IN ('churned', 'trial_expired')
"""


def test_no_playback_outside_an_entitlement_or_above_the_plan_or_the_profile(seeded):
    engine, _ = seeded
    outside = scalar(
        engine,
        f"""
        WITH live AS ({LIVE_SEGMENTS})
        SELECT count(*) FROM playback_events e
        WHERE NOT EXISTS (SELECT 1 FROM live l WHERE l.user_id = e.user_id
                            AND e.started_at >= l.valid_from AND e.started_at < l.valid_to)
           OR NOT EXISTS (SELECT 1 FROM live l WHERE l.user_id = e.user_id
                            AND e.ended_at > l.valid_from AND e.ended_at <= l.valid_to)""",
        window_end=WINDOW_END,
    )
    assert outside == 0
    above_plan = scalar(
        engine,
        f"""
        WITH live AS ({LIVE_SEGMENTS})
        SELECT count(*) FROM playback_events e JOIN titles t ON t.title_id = e.title_id
        JOIN live l ON l.user_id = e.user_id AND e.started_at >= l.valid_from AND e.started_at < l.valid_to
        WHERE t.access_level = 'premium' AND l.access_level <> 'premium'""",
        window_end=WINDOW_END,
    )
    assert above_plan == 0
    above_maturity = scalar(
        engine,
        """
        SELECT count(*) FROM playback_events e JOIN titles t ON t.title_id = e.title_id
        JOIN profiles p ON p.user_id = e.user_id AND p.profile_id = e.profile_id
        WHERE p.maturity_cap = 'older_kids' AND t.audience NOT IN ('kids', 'older_kids')""",
    )
    assert above_maturity == 0
    assert scalar(engine, "SELECT count(*) FROM playback_events WHERE ended_at > :end", end=WINDOW_END) == 0


def test_kids_profiles_watch_and_basic_plans_never_see_premium_titles(seeded):
    engine, _ = seeded
    assert (
        scalar(
            engine,
            """SELECT count(*) FROM playback_events e JOIN profiles p
                             ON p.user_id = e.user_id AND p.profile_id = e.profile_id WHERE p.is_kids""",
        )
        > 0
    )


def test_positions_stay_within_runtime_and_progress_is_the_latest_session(seeded):
    engine, _ = seeded
    assert (
        scalar(
            engine,
            """SELECT count(*) FROM playback_events WHERE end_position_seconds > duration_seconds
                             OR start_position_seconds >= end_position_seconds
                             OR watched_seconds <> end_position_seconds - start_position_seconds
                             OR ended_at <> started_at + watched_seconds * interval '1 second'""",
        )
        == 0
    )
    assert scalar(engine, "SELECT count(*) FROM viewing_progress WHERE position_seconds > duration_seconds") == 0
    mismatched = scalar(
        engine,
        """
        SELECT count(*) FROM viewing_progress v JOIN LATERAL (
            SELECT episode_id, end_position_seconds, ended_at, completed FROM playback_events e
            WHERE e.user_id = v.user_id AND e.profile_id = v.profile_id AND e.title_id = v.title_id
            ORDER BY ended_at DESC LIMIT 1) last ON true
        WHERE last.episode_id IS DISTINCT FROM v.episode_id OR last.end_position_seconds <> v.position_seconds
           OR last.ended_at <> v.updated_at OR last.completed <> v.completed""",
    )
    assert mismatched == 0
    orphans = scalar(
        engine,
        """SELECT count(*) FROM viewing_progress v WHERE NOT EXISTS (
        SELECT 1 FROM playback_events e WHERE e.user_id = v.user_id AND e.profile_id = v.profile_id
          AND e.title_id = v.title_id)""",
    )
    assert orphans == 0
    completed_flag = scalar(
        engine,
        f"""SELECT count(*) FROM playback_events
        WHERE completed <> (end_position_seconds >= {watching_rules.COMPLETED_AT} * duration_seconds)""",
    )
    assert completed_flag == 0


def test_films_have_no_episode_and_series_episodes_of_their_own(seeded):
    engine, _ = seeded
    wrong = scalar(
        engine,
        """
        SELECT count(*) FROM playback_events e JOIN titles t ON t.title_id = e.title_id
        LEFT JOIN episodes x ON x.episode_id = e.episode_id
        WHERE (t.kind = 'movie') <> (e.episode_id IS NULL) OR (x.episode_id IS NOT NULL AND x.title_id <> e.title_id)
           OR (x.episode_id IS NOT NULL AND e.duration_seconds <> x.duration_minutes * 60)""",
    )
    assert wrong == 0
    assert scalar(engine, "SELECT count(*) FROM playback_events WHERE episode_id IS NOT NULL") > 0


def test_series_are_watched_episode_after_episode(seeded):
    engine, _ = seeded
    backwards = scalar(
        engine,
        """
        SELECT count(*) FROM (
            SELECT x.season_number * 1000 + x.episode_number AS place,
                   lag(x.season_number * 1000 + x.episode_number) OVER (
                       PARTITION BY e.user_id, e.profile_id, e.title_id ORDER BY e.started_at) AS previous
            FROM playback_events e JOIN episodes x ON x.episode_id = e.episode_id) s
        WHERE place < previous""",
    )
    assert backwards == 0
    binges = scalar(
        engine,
        """SELECT count(*) FROM playback_events a JOIN playback_events b
        ON b.user_id = a.user_id AND b.profile_id = a.profile_id AND b.title_id = a.title_id
        AND b.started_at = a.ended_at + interval '20 seconds' WHERE a.episode_id IS NOT NULL""",
    )
    assert binges > 0


def test_popularity_is_skewed(seeded):
    engine, _ = seeded
    shares = [
        float(s)
        for (s,) in rows(
            engine,
            """
        SELECT count(*)::float / sum(count(*)) OVER () FROM playback_events GROUP BY title_id
        ORDER BY count(*) DESC""",
        )
    ]
    top_tenth = sum(shares[: max(1, len(shares) // 10)])
    assert top_tenth > 0.3


SINGLE_ZONE = {country: zones[0][0] for country, zones in rhythms.ZONES.items() if len(zones) == 1}


def test_viewing_follows_each_members_local_evening(seeded):
    """Hours by local hour of the start, in each single-zone country's zone: the evening is busiest
    everywhere; in UTC, India, Japan and Australia peak hours before the Americas."""
    engine, _ = seeded
    for country, zone in SINGLE_ZONE.items():
        by_hour = dict(
            rows(
                engine,
                """SELECT extract(hour FROM e.started_at AT TIME ZONE :zone)::int, sum(e.watched_seconds)
                   FROM playback_events e JOIN users u ON u.user_id = e.user_id
                   WHERE u.country_code = :c GROUP BY 1""",
                zone=zone,
                c=country,
            )
        )
        if sum(by_hour.values()) < 200 * 3600:
            continue  # too few members of this country in the sample to tell
        evening = sum(by_hour.get(h, 0) for h in range(18, 23)) / sum(by_hour.values())
        assert evening > 5 / 24 * 1.5, country
        assert 18 <= max(by_hour, key=by_hour.get) <= 22, country
    utc_peak = dict(
        rows(
            engine,
            """SELECT country_code, mode() WITHIN GROUP (ORDER BY extract(hour FROM started_at)::int)
               FROM playback_events e JOIN users u USING (user_id) GROUP BY 1""",
        )
    )
    assert {utc_peak["IN"], utc_peak["JP"], utc_peak["AU"]}.isdisjoint({19, 20, 21, 22})
    assert utc_peak["US"] in (0, 1, 2, 3, 4)  # 20-22 h on the east coast, later further west


def test_streams_respect_the_plans_screens_and_never_overlap_on_a_profile(seeded):
    engine, _ = seeded
    overlapping_on_a_profile = scalar(
        engine,
        """SELECT count(*) FROM (
               SELECT started_at, lag(ended_at) OVER (PARTITION BY user_id, profile_id ORDER BY started_at) AS before
               FROM playback_events) e WHERE started_at < before""",
    )
    assert overlapping_on_a_profile == 0
    # Sweep each account's streams in time (an end before a start at the same instant) against the screens
    # of the plan in force when each stream starts.
    over, busiest = rows(
        engine,
        """
        WITH plan_at AS (
            SELECT e.user_id, e.occurred_at AS valid_from, p.max_devices_allowed AS max_streams,
                   lead(e.occurred_at) OVER (PARTITION BY e.user_id ORDER BY e.occurred_at, e.event_id) AS valid_to
            FROM subscription_events e JOIN plans p ON p.plan_id = e.plan_id
        ), moves AS (
            SELECT user_id, started_at AS t, 1 AS d FROM playback_events
            UNION ALL SELECT user_id, ended_at, -1 FROM playback_events
        ), running AS (
            SELECT user_id, t, d, sum(d) OVER (PARTITION BY user_id ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS streams
            FROM moves
        )
        SELECT count(*) FILTER (WHERE r.streams > a.max_streams), max(r.streams)
        FROM running r JOIN plan_at a ON a.user_id = r.user_id AND r.t >= a.valid_from
                                     AND (a.valid_to IS NULL OR r.t < a.valid_to)
        WHERE r.d = 1""",
    )[0]
    assert over == 0
    assert busiest >= 2  # households on multi-screen plans do watch on several screens at once


def entitled_hours_per_day(engine, where: str = "true", **params) -> float:
    """Hours watched / days of entitlement (trial, paid, past due in grace) between `lo` and `hi`, of the
    accounts `where` selects (a condition on u, the account)."""
    return float(
        scalar(
            engine,
            f"""
            WITH live AS (
                SELECT e.user_id, greatest(e.valid_from, :lo) AS valid_from, least(e.valid_to, :hi) AS valid_to
                FROM ({LIVE_SEGMENTS}) e JOIN users u ON u.user_id = e.user_id WHERE {where}
            )
            SELECT (SELECT sum(p.watched_seconds) FROM playback_events p JOIN users u ON u.user_id = p.user_id
                    WHERE {where} AND p.started_at >= :lo AND p.started_at < :hi) / 3600.0
                 / (SELECT extract(epoch FROM sum(valid_to - valid_from)) / 86400 FROM live
                    WHERE valid_to > valid_from)""",
            window_end=WINDOW_END,
            **({"lo": datetime(2000, 1, 1, tzinfo=UTC), "hi": WINDOW_END} | params),
        )
    )


def test_watch_time_is_calibrated_to_about_two_hours_a_day_per_household(seeded):
    """Netflix's letter to shareholders for Q3 2024: about 2 hours a day per member household
    (seed.viewing.TARGET_HOURS_PER_DAY)."""
    engine, _ = seeded
    assert 0.9 * TARGET_HOURS_PER_DAY <= entitled_hours_per_day(engine) <= 1.1 * TARGET_HOURS_PER_DAY


def test_viewing_has_a_holiday_peak_and_a_summer_dip(seeded):
    engine, _ = seeded
    north = "u.country_code NOT IN ('AU', 'BR')"
    year = entitled_hours_per_day(engine, north)
    holidays = entitled_hours_per_day(
        engine, north, lo=datetime(2025, 12, 21, tzinfo=UTC), hi=datetime(2026, 1, 5, tzinfo=UTC)
    )
    july = entitled_hours_per_day(
        engine, north, lo=datetime(2025, 7, 1, tzinfo=UTC), hi=datetime(2025, 8, 1, tzinfo=UTC)
    )
    assert holidays > 1.12 * year and july < 0.95 * year
    days, weights = population.day_weights(*OPTIONS.window())  # signups: the same seasons on top of growth
    signups = pd.Series(weights, index=pd.to_datetime(days, unit="s"))
    assert signups["2025-12-24":"2025-12-31"].mean() > 1.15 * signups["2025-12-01":"2025-12-08"].mean()
    assert signups["2025-07-15":"2025-07-25"].mean() < signups["2025-06-01":"2025-06-10"].mean()


def test_twelve_months_means_twelve_complete_months_and_the_month_to_date(seeded):
    engine, summary = seeded
    start, end = OPTIONS.window()
    assert (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)) == (
        datetime(2025, 6, 1, tzinfo=UTC),
        WINDOW_END,
    )
    assert list(summary["mrr_by_month"]) == [f"{y}-{m:02d}" for y, m in [(2025, n) for n in range(6, 13)]] + [
        f"2026-{m:02d}" for m in range(1, 7)
    ]
    first = scalar(engine, "SELECT min(created_at) FROM users WHERE is_seeded AND role = 'subscriber'")
    assert datetime(2025, 6, 1, tzinfo=UTC) <= first < datetime(2025, 6, 8, tzinfo=UTC)
    assert scalar(engine, "SELECT max(ended_at) FROM playback_events") < WINDOW_END


def test_light_viewers_churn_more(seeded):
    """The churn signal a model can learn: members who watch little leave more often."""
    engine, _ = seeded
    by_quartile = rows(
        engine,
        """
        WITH paying AS (SELECT DISTINCT user_id FROM subscription_events WHERE mrr > 0),
        hours AS (SELECT p.user_id, coalesce(sum(e.watched_seconds), 0) AS seconds
                  FROM paying p LEFT JOIN playback_events e ON e.user_id = p.user_id GROUP BY p.user_id),
        churned AS (SELECT DISTINCT user_id FROM subscription_events WHERE kind = 'churned')
        SELECT ntile, avg((c.user_id IS NOT NULL)::int) FROM (
            SELECT user_id, ntile(4) OVER (ORDER BY seconds) AS ntile FROM hours) q
        LEFT JOIN churned c USING (user_id) GROUP BY ntile ORDER BY ntile""",
    )
    assert by_quartile[0][1] > by_quartile[-1][1]


# --- MRR ------------------------------------------------------------------------------------------------


def test_mrr_identity_holds_every_month_and_matches_the_summary(seeded):
    engine, summary = seeded
    table = mrr_replay.mrr_movements(engine, date(2025, 6, 1), date(2026, 6, 1))
    assert len(table) == 13
    for row in table.itertuples():
        assert row.end_mrr == (
            row.start_mrr
            + row.new_mrr
            + row.expansion_mrr
            + row.reactivation_mrr
            - row.contraction_mrr
            - row.churned_mrr
        )
    assert summary["mrr_by_month"] == {r.month.strftime("%Y-%m"): f"{r.end_mrr:.2f}" for r in table.itertuples()}
    assert table["new_mrr"].sum() > 0 and table["churned_mrr"].sum() > 0 and table["expansion_mrr"].sum() > 0
    assert table["contraction_mrr"].sum() > 0 and table["reactivation_mrr"].sum() > 0
    assert table["end_mrr"].iloc[-1] > table["end_mrr"].iloc[3] > 0  # a growing business


def test_the_event_log_agrees_with_the_subscription_states(seeded):
    """MRR at the end of the window from the log equals the MRR of the subscriptions' final states."""
    engine, summary = seeded
    states = rows(engine, "SELECT price, validity_days FROM subscriptions WHERE status IN ('active', 'past_due')")
    from_states = sum((lifecycle.monthly_recurring(price, period) for price, period in states), Decimal(0))
    assert Decimal(list(summary["mrr_by_month"].values())[-1]) == from_states
    trialing = scalar(
        engine, "SELECT count(*) FROM subscriptions WHERE status = 'trialing' AND trial_end <= :e", e=WINDOW_END
    )
    assert trialing == 0


# --- runs, resets, safety -----------------------------------------------------------------------------------


def test_a_second_run_needs_reset(seeded):
    engine, _ = seeded
    with pytest.raises(seed_options.SeedError, match="--reset"):
        generate.seed(engine, OPTIONS)
    assert scalar(engine, "SELECT status FROM job_runs WHERE job = 'seed' ORDER BY run_id LIMIT 1") == "succeeded"


def fingerprint(engine) -> tuple:
    """The seeded data without surrogate ids: accounts, money and viewing in a stable order."""
    return (
        scalar(
            engine,
            "SELECT md5(string_agg(email || role || coalesce(phone_e164, ''), ',' ORDER BY email)) "
            "FROM users WHERE is_seeded",
        ),
        scalar(
            engine,
            """SELECT md5(string_agg(u.email || p.amount || p.status || p.attempted_at, ','
                          ORDER BY u.email, p.attempted_at, p.status)) FROM payment_attempts p
                          JOIN users u ON u.user_id = p.user_id""",
        ),
        scalar(
            engine,
            """SELECT md5(string_agg(u.email || e.title_id || e.started_at || e.watched_seconds, ','
                          ORDER BY u.email, e.started_at, e.title_id)) FROM playback_events e
                          JOIN users u ON u.user_id = e.user_id""",
        ),
    )


def test_same_seed_same_data_and_reset_spares_registered_members(engine):
    load_catalogue(engine, QUIRKS_CSV)
    member = users.register(engine, "real@example.com", "Real Member", "correct horse 42")
    with engine.begin() as conn:
        profile_id = conn.execute(
            text("SELECT profile_id FROM profiles WHERE user_id = :u"), {"u": member.user_id}
        ).scalar_one()
        title_id = conn.execute(text("SELECT min(title_id) FROM titles")).scalar_one()
        conn.execute(
            text("INSERT INTO list_entries VALUES (:u, :p, :t, now())"),
            {"u": member.user_id, "p": profile_id, "t": title_id},
        )
    options = seed_options.Options(subscribers=150, months=6, end=date(2026, 3, 1), seed=5)
    first = generate.seed(engine, options)
    print_one = fingerprint(engine)
    second = generate.seed(engine, seed_options.Options(**{**options.as_json(), "end": options.end, "reset": True}))
    assert second["rows"]["removed_accounts"] == 152
    assert {k: v for k, v in first["rows"].items() if k != "removed_accounts"} == {
        k: v for k, v in second["rows"].items() if k != "removed_accounts"
    }
    assert first["mrr_by_month"] == second["mrr_by_month"]
    assert fingerprint(engine) == print_one
    other = generate.seed(
        engine, seed_options.Options(subscribers=150, months=6, end=date(2026, 3, 1), seed=6, reset=True)
    )
    assert other["mrr_by_month"] != first["mrr_by_month"]
    # The registered member and their data are untouched by both resets.
    assert users.get_user(engine, member.user_id) is not None
    assert scalar(engine, "SELECT count(*) FROM list_entries WHERE user_id = :u", u=member.user_id) == 1
    assert scalar(engine, "SELECT is_seeded FROM users WHERE user_id = :u", u=member.user_id) is False


def test_a_failed_run_leaves_nothing_and_is_logged(engine, monkeypatch):
    load_catalogue(engine, QUIRKS_CSV)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(generate, "copy_viewing", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        generate.run_logged(engine, seed_options.Options(subscribers=50, months=3, end=date(2026, 3, 1)))
    for table in ("users", "subscriptions", "subscription_events", "payment_attempts", "profiles"):
        assert scalar(engine, f"SELECT count(*) FROM {table}") == 0, table
    assert scalar(engine, "SELECT count(*) FROM visitors") == 0
    assert rows(engine, "SELECT status, error FROM job_runs WHERE job = 'seed'") == [
        ("failed", "RuntimeError: disk full")
    ]


def test_plans_an_admin_made_are_used_and_never_overwritten(engine):
    load_catalogue(engine, QUIRKS_CSV)
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO plans (name, price, billing_period, validity_days, access_level,
                             max_devices_allowed, resolution)
                    VALUES ('Only', 5.55, 'month', 31, 'premium', 3, '1080p')""")
        )
    generate.seed(engine, seed_options.Options(subscribers=60, months=3, end=date(2026, 3, 1)))
    assert rows(engine, "SELECT name, price FROM plans") == [("Only", Decimal("5.55"))]
    assert scalar(engine, "SELECT count(DISTINCT plan_id) FROM subscriptions") == 1


def test_an_empty_catalogue_is_refused_with_a_clear_message(engine):
    with pytest.raises(seed_options.SeedError, match="load it first"):
        generate.seed(engine, seed_options.Options(subscribers=10, months=1))


def test_cli_prints_one_json_line_and_if_empty_skips(db_url):
    load_catalogue(database.get_engine(db_url), QUIRKS_CSV)
    env = {**os.environ, "DATABASE_URL": db_url}
    command = [
        sys.executable,
        "-m",
        "seed.generate",
        "--subscribers",
        "40",
        "--months",
        "2",
        "--end",
        "2026-02-01",
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=database.PROJECT_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["users"] == 42 and summary["seconds"] > 0 and summary["rows_per_second"] > 0
    assert list(summary["mrr_by_month"]) == ["2025-12", "2026-01"]
    assert "demo.admin@example.com" in done.stderr and seed_options.DEMO_PASSWORD in done.stderr
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=database.PROJECT_ROOT, timeout=120)
    assert again.returncode == 2 and "--reset" in again.stderr
    skipped = subprocess.run(
        [*command[:-1], "--if-empty"], capture_output=True, text=True, env=env, cwd=database.PROJECT_ROOT, timeout=120
    )
    assert skipped.returncode == 0 and "nothing to do" in skipped.stderr


def test_binary_copy_round_trips_nulls_text_and_times(engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE copy_check (a BIGINT, b INTEGER, c TEXT, d TIMESTAMPTZ, e BOOLEAN)"))
        count = copy_binary(
            conn,
            "copy_check",
            [
                Column("a", "int8", np.array([1, 2, 3]), null=np.array([False, True, False])),
                Column("b", "int4", np.array([-5, 0, 7])),
                Column("c", "text", np.array(["tv", "mobile", "tv"])),
                Column("d", "timestamptz", np.array([0, 946_684_800, 1_767_225_600])),
                Column("e", "bool", np.array([True, False, True])),
            ],
        )
        got = conn.execute(text("SELECT a, b, c, d, e FROM copy_check ORDER BY b")).all()
    assert count == 3
    assert got == [
        (1, -5, "tv", datetime(1970, 1, 1, tzinfo=UTC), True),
        (None, 0, "mobile", datetime(2000, 1, 1, tzinfo=UTC), False),
        (3, 7, "tv", datetime(2026, 1, 1, tzinfo=UTC), True),
    ]
