"""Churn and retention: a four-subscriber history worked out by hand, Kaplan-Meier on a textbook example,
and the churn model on a seeded year (time split, no leakage, better than chance, light viewers riskier).

    A  paid Jan 10 2026 (10.00); cancels Mar 1, churns Mar 20 (voluntary); comes back Apr 5 (10.00)
    B  paid Jan 10 (10.00); upgrades Feb 5 (20.00)
    C  paid Feb 15 (10.00); churns Mar 5 (involuntary)
    D  paid Oct 1 2025 (10.00); stays
"""

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

import database
from backend.analytics import churn_metrics, churn_model, churn_rollups, mrr_replay, rollups
from backend.analytics.selection import Filters, Period
from backend.core import errors as core_errors
from etl.load_catalogue import load_catalogue
from seed import generate
from seed import options as seed_options
from tests.conftest import QUIRKS_CSV
from tests.test_engagement import World

AS_OF = datetime(2026, 5, 15, tzinfo=UTC)
MARCH = Period(date(2026, 3, 1), date(2026, 3, 1))


def when(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, tzinfo=UTC)


def history(world: World, name: str, events: list[tuple]) -> int:
    """One subscription and its events (kind, time, MRR after, reason)."""
    user_id = world.user(name, created=events[0][1])
    sub = world.sql(
        """INSERT INTO subscriptions (user_id, plan_id, status, price, billing_period, validity_days, access_level,
                           max_devices_allowed, resolution, started_at,
                           current_period_start, current_period_end)
                       VALUES (:u, :p, 'active', 10, 'month', 30, 'basic', 1, '720p', :s, :s, :s + interval '1 month')
                       RETURNING subscription_id""",
        u=user_id,
        p=world.plan,
        s=events[0][1],
    ).scalar_one()
    for kind, at, mrr, *reason in events:
        world.sql(
            """INSERT INTO subscription_events (user_id, subscription_id, kind, occurred_at, plan_id, mrr, reason)
                     VALUES (:u, :s, :k, :t, :p, :m, :r)""",
            u=user_id,
            s=sub,
            k=kind,
            t=at,
            p=world.plan,
            m=mrr,
            r=reason[0] if reason else None,
        )
    return user_id


@pytest.fixture
def four(engine):
    world = World(engine)
    history(
        world,
        "A",
        [
            ("subscribed", when(2026, 1, 10), 10),
            ("cancel_scheduled", when(2026, 3, 1), 10),
            ("churned", when(2026, 3, 20), 0, "voluntary"),
            ("reactivated", when(2026, 4, 5), 10),
        ],
    )
    history(world, "B", [("subscribed", when(2026, 1, 10), 10), ("upgraded", when(2026, 2, 5), 20)])
    history(world, "C", [("subscribed", when(2026, 2, 15), 10), ("churned", when(2026, 3, 5), 0, "involuntary")])
    history(world, "D", [("subscribed", when(2025, 10, 1), 10)])
    churn_rollups.refresh(engine, as_of=AS_OF)
    return world, world.user("Admin", role="admin")


def test_churn_by_tenure_month_and_reason(four):
    world, admin = four
    by_tenure = churn_metrics.churn_rates(world.engine, MARCH, by="tenure", acting_user_id=admin).set_index("tenure")
    # At March 1: C is 14 days in, A and B 1 month 19 days, D 5 months.
    assert by_tenure.loc["under 1 month", ["active_start", "churned", "churned_involuntary"]].tolist() == [1, 1, 1]
    assert by_tenure.loc["1-2 months", ["active_start", "churned", "churned_voluntary"]].tolist() == [2, 1, 1]
    assert by_tenure.loc["3-5 months", ["active_start", "churned"]].tolist() == [1, 0]
    assert by_tenure["churn_rate"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    month = churn_metrics.churn_rates(world.engine, MARCH, by="month", acting_user_id=admin).iloc[0]
    assert (month["churn_rate"], month["churn_rate_voluntary"], month["churn_rate_involuntary"]) == (0.5, 0.25, 0.25)
    movements = mrr_replay.mrr_movements(world.engine, date(2026, 3, 1), date(2026, 3, 1)).iloc[0]
    assert (movements["active_start"], movements["churned_subscribers"]) == (4, 2)  # the same replay
    by_plan = churn_metrics.churn_rates(world.engine, MARCH, by="plan", acting_user_id=admin)
    assert by_plan[["plan", "active_start", "churned"]].values.tolist() == [["Basic", 4, 2]]
    none = churn_metrics.churn_rates(world.engine, MARCH, Filters(countries=("GB",)), by="month", acting_user_id=admin)
    assert none.empty


def test_cohort_logo_and_net_mrr_retention(four):
    world, admin = four
    frame = churn_metrics.cohorts(world.engine, Period(date(2025, 10, 1), date(2026, 4, 1)), acting_user_id=admin)
    january = frame[frame["cohort_month"] == date(2026, 1, 1)].set_index("month_index")
    assert january.index.tolist() == [0, 1, 2, 3]  # through April, the last complete month before May 15
    assert january["cohort_size"].unique().tolist() == [2]
    assert january["logo_retention"].tolist() == [1.0, 1.0, 0.5, 1.0]  # A churned in March, back in April
    assert january["net_mrr_retention"].tolist() == [1.0, 1.5, 1.0, 1.5]  # New MRR 20; B at 20 from February
    february = frame[frame["cohort_month"] == date(2026, 2, 1)]
    assert february["logo_retention"].tolist() == [1.0, 0.0, 0.0]
    october = frame[frame["cohort_month"] == date(2025, 10, 1)]
    assert len(october) == 7 and set(october["logo_retention"]) == {1.0}


def test_kaplan_meier_on_a_textbook_example():
    # times 1, 2, 2+, 3, 4+, 5 (+ = censored): S(1) = 5/6, S(2) = 5/6 * 4/5, S(3) = 2/3 * 2/3, S(5) = 0
    curve = churn_rollups.kaplan_meier(np.array([1, 2, 2, 3, 4, 5]), np.array([1, 1, 0, 1, 0, 1]))
    assert curve["t_days"].tolist() == [0, 1, 2, 3, 5]
    assert curve["survival"].tolist() == pytest.approx([1, 5 / 6, 2 / 3, 4 / 9, 0])
    assert curve["at_risk"].tolist() == [6, 6, 5, 3, 1]
    inside = curve.iloc[1:4]
    assert (inside["ci_low"] < inside["survival"]).all() and (inside["survival"] < inside["ci_high"]).all()
    assert np.isnan(curve["ci_low"].iloc[-1])  # S = 0: no log-log bound


def test_survival_curves_from_first_paid_day_to_first_churn(four):
    world, admin = four
    # A: 69 days to churn; C: 18 days; B and D still paying (censored on May 15).
    everyone = churn_metrics.survival(world.engine, "all", acting_user_id=admin)
    assert everyone["t_days"].tolist() == [0, 18, 69]
    assert everyone["survival"].tolist() == pytest.approx([1.0, 0.75, 0.5])
    assert everyone["at_risk"].tolist() == [4, 4, 3]
    assert set(churn_metrics.survival(world.engine, "plan", acting_user_id=admin)["group_key"]) == {"Basic"}
    assert set(churn_metrics.survival(world.engine, "cohort", acting_user_id=admin)["group_key"]) == {
        "2025-10",
        "2026-01",
        "2026-02",
    }


def test_pending_cancellations_are_listed_apart_never_scored(four):
    world, admin = four
    churn_rollups.refresh(world.engine, as_of=when(2026, 3, 10))  # A has cancelled, churns Mar 20
    pending = churn_metrics.pending_cancellations(world.engine, acting_user_id=admin)
    assert pending["email"].tolist() == ["a@example.com"]
    with world.engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT u.display_name, s.pending_cancellation, s.probability IS NULL
                                    FROM churn_scores s JOIN users u USING (user_id) ORDER BY 1""")
        ).all()
    assert [tuple(r) for r in rows] == [("A", True, True), ("B", False, True), ("D", False, True)]  # C churned
    # Too little history for a model here (no churn label before March): nothing is scored, nothing invented.
    top, totals = churn_metrics.at_risk(world.engine, acting_user_id=admin)
    assert top.empty and totals["scored"] == 0


def test_incremental_refreshes_retrain_the_model_at_most_every_few_hours(four):
    world, _ = four

    def runs() -> int:
        with world.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM churn_model_runs")).scalar_one()

    assert runs() == 1
    rollups.refresh(world.engine, since=date(2026, 5, 1))  # the last run (as of May 15) is old: retrained
    assert runs() == 2
    rollups.refresh(world.engine, since=date(2026, 5, 1))  # as the billing job does minutes later: kept
    assert runs() == 2
    rollups.refresh(world.engine)  # a full refresh always retrains
    assert runs() == 3


def test_the_time_split_keeps_test_labels_out_of_training():
    cutoffs = [datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3)]
    train, test = churn_model.split(cutoffs)
    assert test == cutoffs[2]
    assert train == [cutoffs[0]]  # Feb 1 + 30 days = Mar 3: its labels overlap the test month
    assert churn_model.snapshot_cutoffs(datetime(2025, 12, 20, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)) == [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 1, tzinfo=UTC),
    ]  # Mar 1 + 30 days is after Mar 30


# --- the model on a seeded year -------------------------------------------------------------------------

END = date(2026, 6, 15)
SEED_AS_OF = datetime(2026, 6, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, QUIRKS_CSV)
    generate.seed(engine, seed_options.Options(subscribers=1500, months=12, end=END, seed=11))
    churn_rollups.refresh(engine, as_of=SEED_AS_OF)
    with engine.connect() as conn:
        admin = conn.execute(text("SELECT user_id FROM users WHERE role = 'admin'")).scalar_one()
    return engine, admin


def test_the_model_is_evaluated_on_the_latest_labelled_month(seeded):
    engine, admin = seeded
    run = churn_metrics.model_run(engine, acting_user_id=admin)
    assert run["test_cutoff"] == date(2026, 5, 1)  # June 1 + 30 days is after June 15
    trained = [date.fromisoformat(c) for c in run["details"]["train_cutoffs"]]
    assert trained and max(trained) == date(2026, 4, 1)
    assert all((c - run["test_cutoff"]).days <= -30 for c in trained)
    assert run["test_rows"] > 100 and run["test_positives"] > 0
    assert 0.5 < run["roc_auc"] <= 1
    assert float(run["pr_auc"]) > run["details"]["base_rate"]  # better than guessing at the base rate
    # Light viewers are riskier: the scored members in the lightest quarter by watch hours (30 days) get a
    # higher mean churn probability than the heaviest quarter. (With about 2 hours a day, watch hours and
    # active days move together, so the model may carry the signal on either coefficient.)
    with engine.connect() as conn:
        by_quarter = conn.execute(
            text("""SELECT q, avg(probability) FROM (
                        SELECT probability, ntile(4) OVER (ORDER BY watch_hours_30d, user_id) AS q
                        FROM churn_scores WHERE probability IS NOT NULL) s GROUP BY q ORDER BY q""")
        ).all()
    assert len(by_quarter) == 4 and by_quarter[0][1] > by_quarter[-1][1]


def test_features_use_nothing_after_the_snapshot(seeded):
    engine, _ = seeded
    cutoff = datetime(2026, 4, 1, tzinfo=UTC)
    columns = [
        "user_id",
        "mrr",
        "tenure_days",
        "watch_hours_30d",
        "active_days_30d",
        "days_since_play",
        "failed_payments_90d",
        "in_grace",
        "profiles",
        "reactivated",
        "pending_cancellation",
    ]
    with engine.connect() as conn:
        before = churn_model.features(conn, [cutoff])
    with engine.connect() as conn:
        transaction = conn.begin()
        for table, column in (("subscription_events", "occurred_at"), ("payment_attempts", "attempted_at")):
            conn.execute(text(f"DELETE FROM {table} WHERE {column} >= :c"), {"c": cutoff})
        conn.execute(text("DELETE FROM user_daily_activity WHERE day >= :c"), {"c": cutoff.date()})
        after = churn_model.features(conn, [cutoff])
        transaction.rollback()
    assert before["churned"].any() and not after["churned"].any()  # only the label needs the future
    pd.testing.assert_frame_equal(
        before[columns].sort_values("user_id").reset_index(drop=True),
        after[columns].sort_values("user_id").reset_index(drop=True),
    )


def test_scores_mrr_at_risk_and_pending_cancellations(seeded):
    engine, admin = seeded
    top, totals = churn_metrics.at_risk(engine, limit=10, acting_user_id=admin)
    with engine.connect() as conn:
        scores = pd.DataFrame(conn.execute(text("SELECT * FROM churn_scores")).mappings().all())
    scored = scores[~scores["pending_cancellation"]]
    assert scored["probability"].notna().all() and scores[scores["pending_cancellation"]]["probability"].isna().all()
    assert float(totals["mrr_at_risk"]) == pytest.approx(float(scored["mrr_at_risk"].sum()))
    np.testing.assert_allclose(
        scored["mrr_at_risk"].astype(float),
        scored["mrr"].astype(float) * scored["probability"].astype(float),
        atol=0.006,
    )
    assert top["mrr_at_risk"].is_monotonic_decreasing and len(top) == 10
    pending = churn_metrics.pending_cancellations(engine, acting_user_id=admin)
    assert len(pending) == scores["pending_cancellation"].sum() > 0
    assert not set(pending["email"]) & set(top["email"])


READERS = [
    lambda e, u: churn_metrics.churn_rates(e, MARCH, acting_user_id=u),
    lambda e, u: churn_metrics.cohorts(e, MARCH, acting_user_id=u),
    lambda e, u: churn_metrics.survival(e, "plan", acting_user_id=u),
    lambda e, u: churn_metrics.model_run(e, acting_user_id=u),
    lambda e, u: churn_metrics.at_risk(e, acting_user_id=u),
    lambda e, u: churn_metrics.pending_cancellations(e, acting_user_id=u),
]


def test_only_admins_and_analysts_read_churn(seeded):
    engine, _ = seeded
    with engine.connect() as conn:
        subscriber = conn.execute(text("SELECT min(user_id) FROM users WHERE role = 'subscriber'")).scalar_one()
        analyst = conn.execute(text("SELECT user_id FROM users WHERE role = 'analyst'")).scalar_one()
    for read in READERS:
        with pytest.raises(core_errors.NotAuthorised):
            read(engine, subscriber)
        assert read(engine, analyst) is not None
