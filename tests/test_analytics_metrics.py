"""Every revenue metric on a small history lived through the app's own backend (checkout, plan changes,
cancel, card updates, the billing job with the simulated gateway), January to June 2026, with the
expected values computed by hand in the comments.

Plans: Basic 7.99, Standard 13.99, Premium 19.99 a month; Standard Annual 143.88 a year (MRR 11.99).
Trials last 7 days; renewals on the anchor day; failed renewals retried 1, 3, 5 days later, 7 days grace.

    A  US  trial Jan 5 Basic -> paid Jan 12 (7.99); upgrade to Premium Feb 10 (19.99, charged from Feb 12)
    B  US  trial Jan 3 Premium -> paid Jan 10 (19.99); downgrade to Basic asked Feb 1, applied at renewal Feb 10
    C  US  trial Jan 20 Standard -> paid Jan 27 (13.99); cancels Mar 5: churns at period end Mar 27 (voluntary)
    D  GB  trial Jan 15 Standard -> paid Jan 22 (13.99); card fails: renewal Feb 22 and retry Feb 23 fail,
           new card Feb 24 recovers it (no MRR movement)
    E  GB  trial Jan 8 Basic -> paid Jan 15 (7.99); card fails: renewal Feb 15 + retries 16, 18, 20 fail,
           grace ends Feb 22 (involuntary churn); comes back Apr 5 on Basic, paid at once (reactivation)
    G  GB  trial Feb 2 Standard Annual -> paid Feb 9 (143.88 cash, 11.99 MRR)
    H  US  trial Mar 3 Basic, cancelled Mar 5: expires Mar 10, never pays
    I  US  trial Mar 20 Basic with a card that fails: conversion fails Mar 27, never pays
    J  US  trial Mar 25 Standard -> paid Apr 1 (13.99): March's trial cohort, April's new MRR
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.accounts import users
from backend.analytics import mrr_replay, revenue_metrics, revenue_pages, revenue_rollups, rollups, selection
from backend.analytics.selection import Filters, Period
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import job as billing_job
from backend.billing import lifecycle, plans, subscriptions
from backend.billing.state import CardDetails
from backend.core import errors as core_errors

GOOD = CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")
POOR = CardDetails(gateways.INSUFFICIENT_FUNDS_CARD, 12, 2030, "123")
END = datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
HALF_YEAR = Period(date(2026, 1, 1), date(2026, 6, 1))
D = Decimal


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(module_db_url):
    """The history above, lived through the backend in time order; returns (engine, plan ids, admin id)."""
    import database

    engine = database.get_engine(module_db_url)
    assert lifecycle.trial_days() == 7 and lifecycle.GRACE_DAYS == 7
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        plan = dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())
    gw = gateways.SimulatedGateway()
    people = {}
    for name, country in zip("ABCDEGHIJ", ["US", "US", "US", "GB", "GB", "GB", "US", "US", "US"], strict=True):
        people[name] = users.register(
            engine, f"{name.lower()}@example.com", name, "correct horse 42", now=at(1, 1)
        ).user_id
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE users SET country_code = :c WHERE user_id = :u"), {"c": country, "u": people[name]}
            )
    admin = users.register(
        engine, "admin@example.com", "Ada Admin", "correct horse 42", role="admin", now=at(1, 1)
    ).user_id

    def checkout(who, plan_name, when, card=GOOD):
        billing_job.run(engine, when, gateway=gw)
        billing_checkout.checkout(engine, people[who], plan[plan_name], card, f"{who}{when:%m%d}", gateway=gw, now=when)

    def act(when, action, *args):
        billing_job.run(engine, when, gateway=gw)
        action(engine, *args, gateway=gw, now=when)

    checkout("B", "Premium", at(1, 3))
    checkout("A", "Basic", at(1, 5))
    checkout("E", "Basic", at(1, 8))
    checkout("D", "Standard", at(1, 15))
    checkout("C", "Standard", at(1, 20))
    act(at(2, 1), subscriptions.change_plan, people["B"], plan["Basic"])
    act(at(2, 1, 11), subscriptions.update_card, people["E"], POOR)
    checkout("G", "Standard Annual", at(2, 2))
    act(at(2, 10, 11), subscriptions.change_plan, people["A"], plan["Premium"])
    act(at(2, 20), subscriptions.update_card, people["D"], POOR)
    billing_job.run(engine, at(2, 23, 20), gateway=gw)  # D's first retry (Feb 23 10:00) fails
    act(at(2, 24), subscriptions.update_card, people["D"], GOOD)
    checkout("H", "Basic", at(3, 3))
    act(at(3, 5), subscriptions.cancel, people["H"])
    act(at(3, 5, 11), subscriptions.cancel, people["C"])
    checkout("I", "Basic", at(3, 20), POOR)
    checkout("J", "Standard", at(3, 25))
    checkout("E", "Basic", at(4, 5))
    billing_job.run(engine, END, gateway=gw)
    rollups.refresh(engine, now=END)
    yield engine, plan, admin
    engine.dispose()


def by_month(frame) -> dict:
    return {row["month"].month: row for _, row in frame.iterrows()}


def test_the_history_is_what_the_scenario_says(world):
    engine, _, _ = world
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(
                text("""
            SELECT u.display_name, string_agg(e.kind, ',' ORDER BY e.occurred_at, e.event_id)
            FROM subscription_events e JOIN users u USING (user_id)
            WHERE e.kind NOT IN ('renewed', 'downgrade_scheduled', 'cancel_scheduled') GROUP BY 1""")
            ).all()
        )
    assert kinds == {
        "A": "trial_started,trial_converted,upgraded",
        "B": "trial_started,trial_converted,downgraded",
        "C": "trial_started,trial_converted,churned",
        "D": "trial_started,trial_converted,payment_failed,payment_recovered",
        "E": "trial_started,trial_converted,payment_failed,churned,reactivated",
        "G": "trial_started,trial_converted",
        "H": "trial_started,trial_expired",
        "I": "trial_started,trial_expired",
        "J": "trial_started,trial_converted",
    }


def test_mrr_movements_and_subscribers(world):
    engine, _, admin = world
    m = by_month(revenue_metrics.monthly_metrics(engine, HALF_YEAR, acting_user_id=admin))
    columns = [
        "start_mrr",
        "new_mrr",
        "expansion_mrr",
        "reactivation_mrr",
        "contraction_mrr",
        "churned_mrr",
        "end_mrr",
        "arr",
    ]
    got = {k: tuple(row[c] for c in columns) for k, row in m.items()}
    assert got == {
        # Jan: A 7.99 + B 19.99 + C 13.99 + D 13.99 + E 7.99 = 63.95, all new; ARR x12
        1: (D("0.00"), D("63.95"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("63.95"), D("767.40")),
        # Feb: A +12.00 expansion, B -12.00 contraction, E -7.99 churn, G +11.99 new; D recovered: no movement
        2: (D("63.95"), D("11.99"), D("12.00"), D("0.00"), D("12.00"), D("7.99"), D("67.95"), D("815.40")),
        # Mar: C churns 13.99 at its period end (Mar 27), not when it cancelled (Mar 5)
        3: (D("67.95"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("13.99"), D("53.96"), D("647.52")),
        # Apr: J's trial converts Apr 1 (new 13.99), E comes back (reactivation 7.99)
        4: (D("53.96"), D("13.99"), D("0.00"), D("7.99"), D("0.00"), D("0.00"), D("75.94"), D("911.28")),
        5: (D("75.94"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("75.94"), D("911.28")),
        6: (D("75.94"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("75.94"), D("911.28")),
    }
    counts = [
        "active_start",
        "active_end",
        "new_subscribers",
        "reactivated_subscribers",
        "churned_subscribers",
        "churned_voluntary",
        "churned_involuntary",
    ]
    assert {k: tuple(int(row[c]) for c in counts) for k, row in m.items()} == {
        1: (0, 5, 5, 0, 0, 0, 0),
        2: (5, 5, 1, 0, 1, 0, 1),
        3: (5, 4, 0, 0, 1, 1, 0),
        4: (4, 6, 1, 1, 0, 0, 0),
        5: (6, 6, 0, 0, 0, 0, 0),
        6: (6, 6, 0, 0, 0, 0, 0),
    }
    for row in m.values():
        assert row["end_mrr"] == (
            row["start_mrr"]
            + row["new_mrr"]
            + row["expansion_mrr"]
            + row["reactivation_mrr"]
            - row["contraction_mrr"]
            - row["churned_mrr"]
        )
    # The rollup agrees with the raw replay (mrr_replay.mrr_movements) month by month.
    raw = mrr_replay.mrr_movements(engine, date(2026, 1, 1), date(2026, 6, 1))
    assert [r.end_mrr for r in raw.itertuples()] == [m[k]["end_mrr"] for k in range(1, 7)]


def test_rates_retention_arpu_ltv_and_quick_ratio(world):
    engine, _, admin = world
    m = by_month(revenue_metrics.monthly_metrics(engine, HALF_YEAR, acting_user_id=admin))
    columns = [
        "churn_rate",
        "voluntary_churn_rate",
        "involuntary_churn_rate",
        "gross_revenue_churn_rate",
        "net_revenue_churn_rate",
        "nrr",
        "grr",
    ]
    got = {k: tuple(row[c] for c in columns) for k, row in m.items()}
    assert got == {
        1: (None,) * 7,  # nobody was active at the start of January: n/a, never 0
        # Feb: churn 1/5; gross (7.99 + 12) / 63.95 = .31259; net (7.99 + 12 - 12) / 63.95 = .12494;
        # NRR (63.95 - 7.99 - 12 + 12) / 63.95 = .87506; GRR (63.95 - 7.99 - 12) / 63.95 = .68741
        2: (D("0.2000"), D("0.0000"), D("0.2000"), D("0.3126"), D("0.1249"), D("0.8751"), D("0.6874")),
        # Mar: 1/5 voluntary; 13.99 / 67.95 = .20589; NRR = GRR = 53.96 / 67.95 = .79411
        3: (D("0.2000"), D("0.2000"), D("0.0000"), D("0.2059"), D("0.2059"), D("0.7941"), D("0.7941")),
        # Apr: no churn; net MRR churn = (0 - 7.99 reactivation) / 53.96 = -.14807 (negative); NRR 1
        4: (D("0.0000"), D("0.0000"), D("0.0000"), D("0.0000"), D("-0.1481"), D("1.0000"), D("1.0000")),
        5: (D("0.0000"), D("0.0000"), D("0.0000"), D("0.0000"), D("0.0000"), D("1.0000"), D("1.0000")),
        6: (D("0.0000"), D("0.0000"), D("0.0000"), D("0.0000"), D("0.0000"), D("1.0000"), D("1.0000")),
    }
    assert {k: (row["arpu"], row["ltv"], row["quick_ratio"]) for k, row in m.items()} == {
        # ARPU = end MRR / active at end. LTV = ARPU / mean churn of the months before (n/a ones skipped).
        # Quick ratio = (new + expansion) / (churn + contraction).
        1: (D("12.79"), None, None),  # 63.95 / 5; no earlier rate; nothing lost
        2: (D("13.59"), None, D("1.20")),  # 67.95 / 5; Jan's rate is n/a; 23.99 / 19.99
        3: (D("13.49"), D("67.45"), D("0.00")),  # 53.96 / 4; 13.49 / .2 (Feb); 0 / 13.99
        4: (D("12.66"), D("63.28"), None),  # 75.94 / 6 = 12.6567; / mean(.2, .2) = 63.283; 13.99 / 0
        5: (D("12.66"), D("94.93"), None),  # 12.65667 / mean(.2, .2, 0) = 94.925 exactly -> half-up 94.93
        6: (D("12.66"), D("126.57"), None),  # 12.65667 / mean(.2, .2, 0, 0) = 126.567
    }


def test_trials_cash_and_failed_payments(world):
    engine, _, admin = world
    m = by_month(revenue_metrics.monthly_metrics(engine, HALF_YEAR, acting_user_id=admin))
    columns = [
        "trials_started",
        "trials_converted",
        "trial_conversion",
        "cash_collected",
        "failed_payment_attempts",
        "failed_renewals",
        "renewals_recovered",
        "renewals_lost",
        "recovery_rate",
    ]
    got = {k: tuple(row[c] for c in columns) for k, row in m.items()}
    assert got == {
        # Jan: 5 trials, all paid; cash = the 5 conversions 7.99 + 19.99 + 13.99 + 13.99 + 7.99
        1: (5, 5, D("1.0000"), D("63.95"), 0, 0, 0, 0, None),
        # Feb: G's trial converts; cash A 19.99 (Premium from Feb 12) + B 7.99 + C 13.99 + D 13.99 (new card)
        # + G 143.88 (a year) = 199.84; failed: D renewal + retry, E renewal + 3 retries = 6;
        # 2 failed renewals, D recovered, E lost: 1 / 2
        2: (1, 1, D("1.0000"), D("199.84"), 6, 2, 1, 1, D("0.5000")),
        # Mar: trials H, I, J; only J has since become paying (in April): 1/3. Cash A 19.99 + B 7.99 + D 13.99;
        # I's failed trial conversion is a failed attempt, not a failed renewal (no recovery rate)
        3: (3, 1, D("0.3333"), D("41.97"), 1, 0, 0, 0, None),
        # Apr: cash A 19.99 + B 7.99 + D 13.99 + J 13.99 + E 7.99 (paid at checkout) = 63.95; no trial started
        4: (0, 0, None, D("63.95"), 0, 0, 0, 0, None),
        5: (0, 0, None, D("63.95"), 0, 0, 0, 0, None),
        6: (0, 0, None, D("63.95"), 0, 0, 0, 0, None),
    }


def test_plan_filter_moves_switches_in_and_out_of_the_selection(world):
    engine, plan, admin = world
    feb = Period(date(2026, 2, 1), date(2026, 2, 1))
    columns = [
        "start_mrr",
        "new_mrr",
        "expansion_mrr",
        "moved_in_mrr",
        "contraction_mrr",
        "churned_mrr",
        "moved_out_mrr",
        "end_mrr",
        "active_start",
        "active_end",
        "churn_rate",
    ]

    def february(*names):
        frame = revenue_metrics.monthly_metrics(
            engine, feb, Filters(tuple(plan[n] for n in names)), acting_user_id=admin
        )
        return tuple(frame.iloc[0][c] for c in columns)

    # Premium: B (19.99) leaves for Basic, A (7.99 on Basic) arrives at 19.99: moved, not churn or new.
    assert february("Premium") == (
        D("19.99"),
        D("0.00"),
        D("0.00"),
        D("19.99"),
        D("0.00"),
        D("0.00"),
        D("19.99"),
        D("19.99"),
        1,
        1,
        D("0.0000"),
    )
    # Basic: A 7.99 + E 7.99 at the start; A moves out, B moves in at 7.99, E churns (1 of 2).
    assert february("Basic") == (
        D("15.98"),
        D("0.00"),
        D("0.00"),
        D("7.99"),
        D("0.00"),
        D("7.99"),
        D("7.99"),
        D("7.99"),
        2,
        1,
        D("0.5000"),
    )
    # Both: the switches are expansion and contraction again.
    assert february("Basic", "Premium") == (
        D("35.97"),
        D("0.00"),
        D("12.00"),
        D("0.00"),
        D("12.00"),
        D("7.99"),
        D("0.00"),
        D("27.98"),
        3,
        2,
        D("0.3333"),
    )
    # Every plan selected = no filter.
    everything = revenue_metrics.monthly_metrics(engine, HALF_YEAR, Filters(tuple(plan.values())), acting_user_id=admin)
    assert everything.equals(revenue_metrics.monthly_metrics(engine, HALF_YEAR, acting_user_id=admin))
    # The identity with moves holds under any filter.
    for names in (("Premium",), ("Basic",), ("Standard",), ("Standard Annual",), ("Basic", "Standard")):
        frame = revenue_metrics.monthly_metrics(
            engine, HALF_YEAR, Filters(tuple(plan[n] for n in names)), acting_user_id=admin
        )
        for _, r in frame.iterrows():
            assert r["end_mrr"] == (
                r["start_mrr"]
                + r["new_mrr"]
                + r["expansion_mrr"]
                + r["reactivation_mrr"]
                + r["moved_in_mrr"]
                - r["contraction_mrr"]
                - r["churned_mrr"]
                - r["moved_out_mrr"]
            )


def test_country_filter(world):
    engine, _, admin = world
    m = by_month(revenue_metrics.monthly_metrics(engine, HALF_YEAR, Filters(countries=("GB",)), acting_user_id=admin))
    # GB = D, E, G. Feb: start D 13.99 + E 7.99; G new 11.99; E churns; cash D 13.99 + G 143.88; all 6 failures.
    feb = m[2]
    assert (
        feb["start_mrr"],
        feb["new_mrr"],
        feb["churned_mrr"],
        feb["end_mrr"],
        feb["cash_collected"],
        feb["failed_payment_attempts"],
        feb["recovery_rate"],
    ) == (D("21.98"), D("11.99"), D("7.99"), D("25.98"), D("157.87"), 6, D("0.5000"))
    # Mar: none of H, I, J is in GB.
    assert (m[3]["trials_started"], m[3]["trial_conversion"]) == (0, None)
    assert m[4]["reactivation_mrr"] == D("7.99") and m[4]["new_mrr"] == D("0.00")


def test_refresh_is_idempotent_and_incremental(world):
    engine, _, _ = world

    def snapshot():
        with engine.connect() as conn:
            return {
                t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()))
                for t in revenue_rollups.REVENUE_ROLLUPS
            }

    before = snapshot()
    revenue_rollups.refresh_revenue(engine, now=END)
    assert snapshot() == before
    revenue_rollups.refresh_revenue(engine, since=date(2026, 4, 17), now=END)
    assert snapshot() == before
    with engine.begin() as conn:  # spoil February: its MRR, and its failed renewals' outcomes
        conn.execute(text("UPDATE revenue_monthly SET end_mrr = 0 WHERE month = '2026-02-01'"))
        conn.execute(text("UPDATE payments_monthly SET renewals_recovered = 0, renewals_lost = 0"))
    revenue_rollups.refresh_revenue(engine, since=date(2026, 3, 1), now=END)
    after = snapshot()
    # Failures are rolled up again from the month before `since` (their outcome comes up to 7 days later) ...
    assert after["payments_monthly"] == before["payments_monthly"]
    # ... while MRR months before `since` are left alone (nothing later changes them).
    assert after["revenue_monthly"] != before["revenue_monthly"]
    revenue_rollups.refresh_revenue(engine, now=END)
    assert snapshot() == before


def test_kpis_compare_the_last_month_with_the_one_before(world):
    engine, _, admin = world
    data = revenue_pages.overview(engine, Period(date(2026, 2, 1), date(2026, 3, 1)), acting_user_id=admin)
    tiles = {row["metric"]: (row["value"], row["previous"], row["change"]) for _, row in data["kpis"].iterrows()}
    # March vs February: MRR 53.96 vs 67.95: (53.96 - 67.95) / 67.95 = -.20589; churn 0.2 vs 0.2: +0
    assert tiles["MRR"] == (D("53.96"), D("67.95"), D("-0.2059"))
    assert tiles["Active subscribers"] == (4, 5, D("-0.2000"))
    assert tiles["Subscriber churn"] == (D("0.2000"), D("0.2000"), D("0.0000"))
    assert tiles["LTV"] == (D("67.45"), None, None)
    assert tiles["Cash collected"] == (D("41.97"), D("199.84"), D("-0.7900"))  # (41.97 - 199.84) / 199.84
    assert [m.month for m in data["growth"]["month"]] == [2, 3]


def test_only_admins_and_analysts_get_the_figures(world):
    engine, _, _ = world
    subscriber = users.find_user_by_email(engine, "a@example.com").user_id
    for call in (revenue_metrics.monthly_metrics, revenue_pages.overview, revenue_pages.revenue_page):
        with pytest.raises(core_errors.NotAuthorised):
            call(engine, HALF_YEAR, acting_user_id=subscriber)
        with pytest.raises(core_errors.NotAuthorised):
            call(engine, HALF_YEAR, acting_user_id=None)
    with pytest.raises(core_errors.NotAuthorised):
        selection.filter_options(engine, acting_user_id=subscriber)


def test_rates_under_a_plan_filter_follow_the_subscribers_at_the_start(world):
    """revenue_metrics.PLAN_FILTER_RULE. February: Basic starts with A 7.99 + E 7.99; A moves to Premium
    (19.99: +12.00 expansion at the new price), E churns. Premium starts with B 19.99, who moves to Basic
    (7.99: -12.00 contraction). Moves count at their new price, neither as kept nor as lost."""
    engine, plan, admin = world
    feb = Period(date(2026, 2, 1), date(2026, 2, 1))
    columns = ["start_cohort_expansion_mrr", "start_cohort_contraction_mrr", "nrr", "grr", "gross_revenue_churn_rate"]

    def february(*names):
        frame = revenue_metrics.monthly_metrics(
            engine, feb, Filters(tuple(plan[n] for n in names)), acting_user_id=admin
        )
        return tuple(frame.iloc[0][c] for c in columns)

    # Basic: NRR (15.98 - 7.99 + 12.00) / 15.98 = 1.25094; GRR (15.98 - 7.99) / 15.98 = .5
    assert february("Basic") == (D("12.00"), D("0.00"), D("1.2509"), D("0.5000"), D("0.5000"))
    # Premium: NRR = GRR = (19.99 - 12.00) / 19.99 = .39970
    assert february("Premium") == (D("0.00"), D("12.00"), D("0.3997"), D("0.3997"), D("0.6003"))
    assert february() == (D("12.00"), D("12.00"), D("0.8751"), D("0.6874"), D("0.3126"))  # all plans: as before
    # The plans' retained MRR adds up to the retained MRR of all plans, every month.
    every = revenue_metrics.monthly_metrics(engine, HALF_YEAR, acting_user_id=admin)

    def retained(frame):
        return [
            r["start_mrr"] - r["churned_mrr"] - r["start_cohort_contraction_mrr"] + r["start_cohort_expansion_mrr"]
            for _, r in frame.iterrows()
        ]

    per_plan = [
        retained(revenue_metrics.monthly_metrics(engine, HALF_YEAR, Filters((p,)), acting_user_id=admin))
        for p in plan.values()
    ]
    assert [sum(month) for month in zip(*per_plan, strict=True)] == retained(every)
    # The CLI and the API carry the same columns (the rule is said once, in revenue_metrics).
    assert "start_cohort_expansion_mrr" in revenue_metrics.METRIC_COLUMNS
    assert "new price" in revenue_metrics.PLAN_FILTER_RULE


def test_the_month_to_date_is_compared_like_for_like_or_not_at_all(world):
    """As if today were 10 March: March is the month to date. Its MRR (a value at an instant) is compared
    with the end of February; its churn, NRR and cash (what happened in the month so far) are not compared
    with a full February."""
    engine, _, admin = world
    data = revenue_pages.overview(
        engine, Period(date(2026, 2, 1), date(2026, 3, 1)), acting_user_id=admin, today=date(2026, 3, 10)
    )
    tiles = {row["metric"]: row for _, row in data["kpis"].iterrows()}
    assert tiles["MRR"]["month_to_date"] and tiles["MRR"]["compared_with"] == "since 28 Feb"
    assert tiles["MRR"]["change"] == D("-0.2059")
    for flow in ("Subscriber churn", "NRR", "Cash collected", "Quick ratio", "Gross revenue churn"):
        assert tiles[flow]["change"] is None and tiles[flow]["compared_with"] is None, flow
    assert list(data["growth"]["month_to_date"]) == [False, True]
    complete = revenue_pages.overview(
        engine, Period(date(2026, 2, 1), date(2026, 3, 1)), acting_user_id=admin, today=date(2026, 4, 2)
    )
    assert {r["metric"]: r["compared_with"] for _, r in complete["kpis"].iterrows()}["Cash collected"] == "MoM"
