"""MRR movements replayed from subscription_events, on a small history computed by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.analytics import mrr_replay
from backend.billing import plans


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def add_history(conn, email: str, events: list[tuple[str, datetime, str, str | None]]) -> None:
    """A user with one subscription row and the given (kind, when, mrr, reason) events."""
    user_id = conn.execute(
        text("""INSERT INTO users (email, display_name, password_hash)
                                   VALUES (:e, 'x', 'x') RETURNING user_id"""),
        {"e": email},
    ).scalar_one()
    plan_id = conn.execute(text("SELECT min(plan_id) FROM plans")).scalar_one()
    sub_id = conn.execute(
        text("""
        INSERT INTO subscriptions (user_id, plan_id, status, price, billing_period, validity_days, access_level,
                           max_devices_allowed, resolution, started_at,
                                   current_period_start, current_period_end)
        VALUES (:u, :p, 'expired', 1, 'month', 30, 'basic', 1, '720p', :t, :t, :t + interval '1 month')
        RETURNING subscription_id"""),
        {"u": user_id, "p": plan_id, "t": events[0][1]},
    ).scalar_one()
    conn.execute(
        text("""
        INSERT INTO subscription_events (user_id, subscription_id, kind, occurred_at, plan_id, mrr, reason)
        VALUES (:u, :s, :k, :t, :p, :m, :r)"""),
        [{"u": user_id, "s": sub_id, "k": k, "t": t, "p": plan_id, "m": Decimal(m), "r": r} for k, t, m, r in events],
    )


@pytest.fixture
def history(engine):
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        add_history(
            conn,
            "a@example.com",
            [
                ("subscribed", at(1, 10), "10", None),
                ("upgraded", at(2, 15), "20", None),
                ("cancel_scheduled", at(3, 20), "20", None),
                ("churned", at(4, 10), "0", "voluntary"),
            ],
        )
        add_history(
            conn,
            "b@example.com",
            [
                ("trial_started", at(1, 5), "0", None),
                ("trial_converted", at(1, 12), "14", None),
                ("payment_failed", at(3, 12), "14", None),
                ("churned", at(3, 19), "0", "involuntary"),
                ("reactivated", at(5, 2), "14", None),
            ],
        )
        add_history(
            conn,
            "c@example.com",
            [
                ("subscribed", datetime(2026, 2, 1, tzinfo=UTC), "20", None),
                ("downgraded", datetime(2026, 3, 1, tzinfo=UTC), "8", None),
            ],
        )
    return engine


def test_movements_match_the_hand_computed_months(history):
    table = mrr_replay.mrr_movements(history, date(2026, 1, 1), date(2026, 6, 30))
    got = {
        row.month.month: (
            row.start_mrr,
            row.new_mrr,
            row.expansion_mrr,
            row.reactivation_mrr,
            row.contraction_mrr,
            row.churned_mrr,
            row.end_mrr,
        )
        for row in table.itertuples()
    }
    d = Decimal
    assert got == {
        1: (d(0), d(24), d(0), d(0), d(0), d(0), d(24)),
        2: (d(24), d(20), d(10), d(0), d(0), d(0), d(54)),  # C starts on Feb 1 00:00: new in February
        3: (d(54), d(0), d(0), d(0), d(12), d(14), d(28)),  # C's downgrade on Mar 1 00:00 is March's
        4: (d(28), d(0), d(0), d(0), d(0), d(20), d(8)),
        5: (d(8), d(0), d(0), d(14), d(0), d(0), d(22)),
        6: (d(22), d(0), d(0), d(0), d(0), d(0), d(22)),
    }
    by_month = table.set_index(table["month"].map(lambda m: m.month))
    assert by_month.loc[3, "churned_involuntary"] == 1 and by_month.loc[3, "churned_voluntary"] == 0
    assert by_month.loc[4, "churned_voluntary"] == 1
    assert list(by_month["active_end"]) == [2, 3, 2, 1, 2, 2]
    assert by_month.loc[5, "reactivated_subscribers"] == 1 and by_month.loc[2, "new_subscribers"] == 1


def test_identity_and_json_series(history):
    table = mrr_replay.mrr_movements(history, date(2026, 1, 15), date(2026, 6, 1))
    for row in table.itertuples():
        assert row.end_mrr == (
            row.start_mrr
            + row.new_mrr
            + row.expansion_mrr
            + row.reactivation_mrr
            - row.contraction_mrr
            - row.churned_mrr
        )
    assert mrr_replay.mrr_by_month(history, date(2026, 2, 1), date(2026, 3, 1)) == {
        "2026-02": "54.00",
        "2026-03": "28.00",
    }
