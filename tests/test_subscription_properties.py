"""Property-based tests (hypothesis): random sequences of member actions, card failures and clock moves,
checked against the invariants the revenue numbers rely on:

- the event log only moves along the state machine's edges (billing_state.ALLOWED);
- paid periods never overlap, and each period is paid once;
- the MRR in the log after the last event equals the MRR of the subscription's state;
- money taken by the gateway equals the successful payments recorded;
- End MRR = Start + New + Expansion + Reactivation - Contraction - Churn, every month.
"""

import contextlib
import itertools
import os
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import text

from backend.accounts.users import register
from backend.analytics import mrr_replay
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import job as billing_job
from backend.billing import plans, subscriptions
from backend.billing.errors import BillingError
from backend.billing.state import ALLOWED, NEXT_STATUS, CardDetails

set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "reelhouse-hypothesis"))  # no .hypothesis/ in the repo
T0 = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
GOOD = CardDetails(gateways.SUCCESS_CARD, 12, 2035, "123")
POOR = CardDetails(gateways.INSUFFICIENT_FUNDS_CARD, 12, 2035, "123")
PLAN_NAMES = [p["name"] for p in plans.DEFAULT_PLANS]
_emails = itertools.count()

actions = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "checkout",
                "checkout_poor",
                "change",
                "undo",
                "cancel",
                "resume",
                "retry",
                "update_card",
                "break_card",
                "job",
            ]
        ),
        st.sampled_from(PLAN_NAMES),
        st.integers(min_value=0, max_value=24 * 45),  # hours the clock moves before the action
    ),
    min_size=1,
    max_size=14,
)


@pytest.fixture
def plan_ids(engine):
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        return dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())


def act(engine, gw, user_id, plan_id, action, now, key):
    if action in ("checkout", "checkout_poor"):
        card = GOOD if action == "checkout" else POOR
        billing_checkout.checkout(engine, user_id, plan_id, card, key, gateway=gw, now=now)
    elif action == "change":
        subscriptions.change_plan(engine, user_id, plan_id, gateway=gw, now=now)
    elif action == "undo":
        subscriptions.undo_downgrade(engine, user_id, gateway=gw, now=now)
    elif action == "cancel":
        subscriptions.cancel(engine, user_id, gateway=gw, now=now)
    elif action == "resume":
        subscriptions.resume(engine, user_id, gateway=gw, now=now)
    elif action == "retry":
        subscriptions.retry_payment(engine, user_id, key, gateway=gw, now=now)
    elif action == "update_card":
        subscriptions.update_card(engine, user_id, GOOD, gateway=gw, now=now)
    elif action == "break_card":
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE payment_methods SET gateway_token = :t WHERE user_id = :u"),
                {"t": gw.token_for("declined"), "u": user_id},
            )
    else:  # the billing job's work for this account (a whole run would bill earlier examples' members too)
        billing_job.settle_account(engine, gw, user_id, now)


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=actions)
def test_random_histories_keep_the_invariants(engine, plan_ids, steps):
    gw = gateways.SimulatedGateway()
    user = register(
        engine, f"p{next(_emails)}@example.com", "Prop Erty", "correct horse 42", now=T0 - timedelta(days=1)
    )
    now = T0
    for number, (action, plan_name, hours) in enumerate(steps):
        now += timedelta(hours=hours)
        with contextlib.suppress(BillingError):  # refusals must leave nothing that breaks the invariants
            act(engine, gw, user.user_id, plan_ids[plan_name], action, now, f"key{number}")
    billing_job.settle_account(engine, gw, user.user_id, now)
    check_invariants(engine, gw, user.user_id, now)


def check_invariants(engine, gw, user_id, now):
    with engine.connect() as conn:
        events = conn.execute(
            text("""
            SELECT subscription_id, kind, occurred_at, mrr FROM subscription_events WHERE user_id = :u
            ORDER BY occurred_at, event_id"""),
            {"u": user_id},
        ).all()
        paid = conn.execute(
            text("""
            SELECT subscription_id, period_start, period_end, amount FROM payment_attempts
            WHERE user_id = :u AND status = 'succeeded' ORDER BY period_start"""),
            {"u": user_id},
        ).all()
    # the state machine
    status, subscription = None, None
    for sub_id, kind, _, _ in events:
        assert kind in ALLOWED[status], f"{kind} from {status}: {[e[1] for e in events]}"
        if status is not None:
            assert sub_id == subscription, "an event of another subscription while one is live"
        if kind in NEXT_STATUS:
            status = NEXT_STATUS[kind]
        subscription = sub_id
    current = subscriptions.current(engine, user_id)
    assert (current.status if current and current.is_live else None) == status
    # paid periods
    for before, after in itertools.pairwise(paid):
        assert after.period_start >= before.period_end, f"overlapping paid periods {before} {after}"
    assert len({(p.subscription_id, p.period_start) for p in paid}) == len(paid)
    assert all(p.period_end > p.period_start for p in paid)
    # MRR in the log = MRR of the state
    last_mrr = events[-1].mrr if events else Decimal("0")
    assert last_mrr == (current.mrr if current else Decimal("0"))
    # money
    assert gw.charged() == sum((p.amount for p in paid), Decimal("0"))
    # the monthly identity
    movements = mrr_replay.mrr_movements(engine, T0.date(), now.date())
    for row in movements.itertuples():
        assert row.end_mrr == (
            row.start_mrr
            + row.new_mrr
            + row.expansion_mrr
            + row.reactivation_mrr
            - row.contraction_mrr
            - row.churned_mrr
        ), row
    for before, after in itertools.pairwise(movements.itertuples()):
        assert after.start_mrr == before.end_mrr
