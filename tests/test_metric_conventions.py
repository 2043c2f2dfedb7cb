"""Conventions an auditor checks, on small histories worked out by hand: trial conversion counted per trial
(with "has paid since" as a second figure), figures still open shown as pending, watch hours per subscriber
over one population, money rounded half-up, and dashboards opening on the last complete month."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import text

from backend.accounts.users import register
from backend.analytics import engagement_metrics, revenue_metrics, revenue_rollups, rollups, selection
from backend.analytics.selection import Period
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import job as billing_job
from backend.billing import plans, subscriptions
from backend.billing.state import CardDetails
from tests.test_churn import history
from tests.test_engagement import World
from ui import dashboards as dash

GOOD = CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")
POOR = CardDetails(gateways.INSUFFICIENT_FUNDS_CARD, 12, 2030, "123")
END = datetime(2026, 4, 30, 23, 0, tzinfo=UTC)
D = Decimal


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_trial_conversion_is_per_trial_and_open_outcomes_are_pending(engine):
    """M1 trial Mar 2 -> paid Mar 9.  M2 trial Mar 3, cancelled: expires Mar 10, comes back and pays Apr 20.
    M4 trial Mar 20 -> paid Mar 27; its card fails from Apr 1: renewal Apr 27 fails, still in grace on Apr 30.
    M3 trial Apr 28: still running on Apr 30."""
    gw = gateways.SimulatedGateway()
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        basic = conn.execute(text("SELECT plan_id FROM plans WHERE name = 'Basic'")).scalar_one()
    admin = register(engine, "boss@example.com", "Boss", "correct horse 42", role="admin", now=at(1, 1)).user_id
    people = {n: register(engine, f"{n}@example.com", n, "correct horse 42", now=at(1, 1)).user_id for n in "1234"}

    def run(when):
        billing_job.run(engine, when, gateway=gw)

    def checkout(who, when, key):
        run(when)
        billing_checkout.checkout(engine, people[who], basic, GOOD, key, gateway=gw, now=when)

    checkout("1", at(3, 2), "a")
    checkout("2", at(3, 3), "a")
    subscriptions.cancel(engine, people["2"], gateway=gw, now=at(3, 4))
    checkout("4", at(3, 20), "a")
    run(at(4, 1))
    subscriptions.update_card(engine, people["4"], POOR, gateway=gw, now=at(4, 1))
    checkout("2", at(4, 20), "b")  # paid at once: not a first subscription
    checkout("3", at(4, 28), "a")
    run(END)
    revenue_rollups.refresh_revenue(engine, now=END)
    m = {
        row["month"].month: row
        for _, row in revenue_metrics.monthly_metrics(
            engine, Period(date(2026, 3, 1), date(2026, 4, 1)), acting_user_id=admin
        ).iterrows()
    }
    trial_columns = [
        "trials_started",
        "trials_converted",
        "trials_running",
        "trial_conversion",
        "trial_conversion_pending",
        "trials_ever_paid",
        "trial_ever_paid_rate",
    ]
    assert {k: tuple(row[c] for c in trial_columns) for k, row in m.items()} == {
        # March: M1 and M4 converted from their trial; M2 only paid later (the looser figure counts it)
        3: (3, 2, 0, D("0.6667"), False, 3, D("1.0000")),
        # April: M3 still running: pending, never 0 %
        4: (1, 0, 1, None, True, 0, None),
    }
    recovery = ["failed_renewals", "renewals_recovered", "renewals_lost", "renewals_in_grace"]
    assert tuple(m[4][c] for c in [*recovery, "recovery_rate", "recovery_rate_pending"]) == (1, 0, 0, 1, None, True)
    assert m[4]["failed_payment_attempts"] == 3  # the renewal, and its retries of Apr 28 and Apr 30


def test_watch_hours_per_subscriber_divide_one_population(engine):
    """June: P (paying since May 10) watches 3 h, Q (paying since May 5, churns Jun 15) 1 h, T (trial from
    Jun 2, paying from Jun 9) 50 h. The subscribers at the start of June are P and Q: 4 h / 2 = 2 h; T's
    trial viewing is in the hours watched by everyone (54 h) but in neither side of the ratio."""
    world = World(engine)
    film = world.film("f1", 120)
    p = history(world, "P", [("subscribed", at(5, 10), 10)])
    q = history(world, "Q", [("subscribed", at(5, 5), 10), ("churned", at(6, 15), 0, "voluntary")])
    t = history(world, "T", [("trial_started", at(6, 2), 0), ("trial_converted", at(6, 9), 10)])
    admin = world.user("Admin", role="admin")
    for user, hours in ((p, 3), (q, 1), (t, 50)):
        profile = world.profile(user)
        for n in range(hours):
            start = at(6, 2 + n // 4, 8 + 3 * (n % 4)) if user != q else at(6, 3 + n, 20)
            world.play(user, profile, film, start, 3600, runtime=7200)
    rollups.refresh(engine, now=at(7, 1))
    frame = engagement_metrics.watch_hours(engine, Period(date(2026, 6, 1), date(2026, 6, 1)), acting_user_id=admin)
    row = frame.iloc[0]
    assert (row["hours"], row["subscriber_hours"], row["active_start"], row["hours_per_subscriber"]) == (
        54.0,
        4.0,
        2,
        2.0,
    )


def test_money_and_rates_round_half_up_once():
    assert revenue_metrics.rounded(Fraction(14625, 1000), revenue_metrics.CENT) == D("14.63")  # not 14.62
    assert revenue_metrics.rounded(Fraction(-14625, 1000), revenue_metrics.CENT) == D("-14.63")
    assert revenue_metrics.rounded(Fraction(1, 3), revenue_metrics.RATE) == D("0.3333")
    assert revenue_metrics.rounded(Fraction(5, 100000), revenue_metrics.RATE) == D("0.0001")
    assert revenue_metrics.rounded(None, revenue_metrics.CENT) is None
    # ARPU 29.25 / 2 = 14.625 -> 14.63
    row = {c: D("0.00") for c in revenue_metrics.MONEY_COLUMNS} | dict.fromkeys(revenue_metrics.COUNT_COLUMNS, 0)
    row |= {"month": date(2026, 1, 1), "month_to_date": False, "end_mrr": D("29.25"), "active_end": 2}
    assert revenue_metrics._derive(row, [])["arpu"] == D("14.63")


def test_dashboards_open_on_the_last_complete_month():
    months = [date(2025, m, 1) for m in range(1, 13)] + [date(2026, 1, 1)]
    options = selection.FilterOptions(months, {}, [])
    assert options.default_period(today=date(2026, 1, 7)) == Period(date(2025, 1, 1), date(2025, 12, 1))
    assert options.default_period(today=date(2026, 2, 3)) == Period(date(2025, 2, 1), date(2026, 1, 1))
    assert selection.is_month_to_date(date(2026, 1, 1), today=date(2026, 1, 7))
    assert not selection.is_month_to_date(date(2025, 12, 1), today=date(2026, 1, 7))
    assert selection.FilterOptions([], {}, []).default_period(today=date(2026, 1, 7)) == Period(
        date(2026, 1, 1), date(2026, 1, 1)
    )
    # Only the month to date has data: it is what there is to show.
    only = selection.FilterOptions([date(2026, 1, 1)], {}, [])
    assert only.default_period(today=date(2026, 1, 7)) == Period(date(2026, 1, 1), date(2026, 1, 1))


def test_month_labels_mark_the_month_to_date():
    today = datetime.now(UTC).date()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    assert dash.month_label(this_month) == f"{this_month:%Y-%m} (to date)"
    assert dash.month_label(last_month) == f"{last_month:%Y-%m}"
