"""The required plan model in the backend: validity_days drives the period, a plan edit reaches subscribers at
their next renewal only (and they are told), free content plays without a subscription, access levels nest
(free < basic < premium), and a paused player is stored and reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.accounts import profiles as viewing_profiles
from backend.accounts import users
from backend.admin import content as content_admin
from backend.admin import plans as plan_admin
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import job as billing_job
from backend.billing import lifecycle, plans, subscriptions
from backend.billing.state import CardDetails
from backend.catalogue.rules import level_includes
from backend.notify import notifications
from backend.watching import access as watch_access
from backend.watching import playable
from backend.watching import progress as watch_progress
from backend.watching import streams as streaming
from etl import load_catalogue as etl
from tests.conftest import QUIRKS_CSV

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CARD = CardDetails(gateways.SUCCESS_CARD, 12, 2035, "123")
PASSWORD = "correct horse 42"


@pytest.fixture
def world(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        ids = dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())
    admin = users.register(engine, "boss@example.com", "Bo Boss", PASSWORD, role="admin", now=T0 - timedelta(days=9))
    return ids, admin.user_id


def member(engine, tag: str) -> users.User:
    return users.register(engine, f"{tag}@example.com", "Mo Member", PASSWORD, now=T0 - timedelta(days=9))


def weekly(engine, admin_id: int, **changes) -> int:
    entry = plan_admin.PlanInput(
        name="Weekly", price="2.99", validity_days=7, max_devices_allowed=1, resolution="720p", access_level="basic"
    )
    return plan_admin.create_plan(engine, entry, acting_user_id=admin_id)


def test_the_period_unit_follows_validity_days():
    assert [lifecycle.billing_period_for(d) for d in (7, 27, 28, 30, 31, 32, 365, 366, 400)] == [
        "day", "day", "month", "month", "month", "day", "year", "year", "day"
    ]  # fmt: skip
    start = datetime(2026, 1, 31, tzinfo=UTC)
    assert lifecycle.period_end(start, 1, 7) == datetime(2026, 2, 7, tzinfo=UTC)
    assert lifecycle.period_end(start, 2, 7) == datetime(2026, 2, 14, tzinfo=UTC)
    assert lifecycle.period_end(start, 1, 30) == datetime(2026, 2, 28, tzinfo=UTC)  # a calendar month
    assert lifecycle.period_end(start, 1, 365) == datetime(2027, 1, 31, tzinfo=UTC)
    assert lifecycle.monthly_recurring(Decimal("2.99"), 7) == Decimal("12.99")  # 2.99 x (365 / 12) / 7, half-up
    assert lifecycle.monthly_recurring(Decimal("143.88"), 365) == Decimal("11.99")
    assert lifecycle.monthly_recurring(Decimal("13.99"), 30) == Decimal("13.99")


def test_a_seven_day_plan_bills_seven_days_and_renews_after_them(engine, world, monkeypatch):
    monkeypatch.setenv("TRIAL_DAYS", "0")
    _plan_ids, admin_id = world
    plan_id = weekly(engine, admin_id)
    user = member(engine, "weekly")
    gw = gateways.SimulatedGateway()
    started = billing_checkout.checkout(engine, user.user_id, plan_id, CARD, "k-week", gateway=gw, now=T0)
    sub = started.subscription
    assert (sub.current_period_end, sub.billing_period, sub.validity_days) == (T0 + timedelta(days=7), "day", 7)
    billing_job.run(engine, T0 + timedelta(days=7, minutes=1), gateway=gw)
    renewed = subscriptions.current(engine, user.user_id)
    assert (renewed.current_period_start, renewed.current_period_end) == (
        T0 + timedelta(days=7),
        T0 + timedelta(days=14),
    )
    assert gw.charged() == Decimal("5.98")


def test_a_plan_edit_reaches_subscribers_at_their_next_renewal_only_and_says_so(engine, world, monkeypatch):
    monkeypatch.setenv("TRIAL_DAYS", "0")
    plan_ids, admin_id = world
    user = member(engine, "premium")
    gw = gateways.SimulatedGateway()
    billing_checkout.checkout(engine, user.user_id, plan_ids["Premium"], CARD, "k-prem", gateway=gw, now=T0)
    change = plan_admin.change_plan(
        engine,
        plan_ids["Premium"],
        {"access_level": "basic", "max_devices_allowed": 1, "resolution": "1080p", "validity_days": 7},
        acting_user_id=admin_id,
        now=T0 + timedelta(days=2),
    )
    assert change.live_subscribers == 1 and set(change.changed) >= {"access_level", "max_devices_allowed"}
    during = subscriptions.entitlement(engine, user.user_id, T0 + timedelta(days=3))
    assert (during.access_level, during.max_devices_allowed, during.resolution) == ("premium", 4, "4K")
    renewal = lifecycle.period_end(T0, 1, 30)
    assert subscriptions.current(engine, user.user_id).current_period_end == renewal  # the month as paid
    billing_job.run(engine, renewal + timedelta(minutes=1), gateway=gw)
    after = subscriptions.current(engine, user.user_id)
    assert (after.access_level, after.max_devices_allowed, after.resolution) == ("basic", 1, "1080p")
    assert (after.current_period_start, after.current_period_end) == (renewal, renewal + timedelta(days=7))
    told = [n for n in notifications.recent(engine, user.user_id) if "plan has changed" in n["title"]]
    assert len(told) == 1 and "1 screen" in told[0]["body"] and "7 days" in told[0]["body"]


def free_title(engine, admin_id: int, show_id: str = "t1") -> playable.WatchTitle:
    title_id = playable.find_title(engine, show_id).title_id
    content_admin.patch_title(engine, title_id, {"access_level": "free"}, acting_user_id=admin_id)
    return playable.find_title(engine, show_id)


def start(engine, user, title, device="device-free-1", now=None):
    profile = viewing_profiles.list_profiles(engine, user.user_id)[0]
    episode = None
    if title.is_series:
        episode, _ = watch_progress.resume_point(engine, user.user_id, profile.profile_id, title)
    return streaming.start(engine, user.user_id, profile, title, episode, 0, device, "Laptop", now)


def test_a_free_title_plays_for_a_signed_in_member_without_a_subscription_on_one_screen(engine, world):
    _, admin_id = world
    title = free_title(engine, admin_id)
    user = member(engine, "nosub")
    session = start(engine, user, title)
    assert session.title_id == title.title_id
    with pytest.raises(watch_access.PlaybackRefused) as caught:
        start(engine, user, title, device="device-free-2")
    assert caught.value.reason == "streams" and "Free titles play on 1 screen" in str(caught.value)
    basic_title = playable.find_title(engine, "t3")
    assert basic_title.access_level != "free"
    with pytest.raises(watch_access.PlaybackRefused) as refused:
        start(engine, user, basic_title, device="device-free-3")
    assert refused.value.reason == "no_subscription" and refused.value.code == "playback_no_subscription"


def test_access_levels_nest_free_basic_premium():
    assert level_includes("basic", "free") and level_includes("basic", "basic")
    assert not level_includes("basic", "premium") and level_includes("premium", "premium")
    assert level_includes(None, "free") and not level_includes(None, "basic") and not level_includes("free", "basic")


def test_a_basic_plan_plays_basic_or_free_content_only(engine, world, monkeypatch):
    monkeypatch.setenv("TRIAL_DAYS", "0")
    plan_ids, admin_id = world
    title = free_title(engine, admin_id)
    user = member(engine, "basic")
    billing_checkout.checkout(engine, user.user_id, plan_ids["Basic"], CARD, "k-basic", now=T0)
    now = T0 + timedelta(hours=1)
    assert start(engine, user, title, now=now).title_id == title.title_id  # on the plan's screens
    premium = next(
        t for t in (playable.find_title(engine, f"t{i}") for i in range(1, 19)) if t and t.access_level == "premium"
    )
    with pytest.raises(watch_access.PlaybackRefused) as caught:
        start(engine, user, premium, device="device-basic-2", now=now)
    assert caught.value.reason == "plan" and "premium title" in str(caught.value)


def test_a_pause_is_stored_and_reported(engine, world):
    _, admin_id = world
    title = free_title(engine, admin_id)
    user = member(engine, "pauser")
    session = start(engine, user, title)
    at = datetime.now(UTC) + timedelta(seconds=5)
    paused = watch_progress.report(engine, user.user_id, session.lease_id, 30, at, paused=True)
    assert paused.state == "paused"
    [stream] = streaming.live_streams(engine, user.user_id, at)
    assert stream.state == "paused"
    with engine.connect() as conn:
        paused_at = conn.execute(
            text("SELECT paused_at FROM stream_leases WHERE user_id = :u AND lease_id = :l"),
            {"u": user.user_id, "l": session.lease_id},
        ).scalar_one()
    assert paused_at == at
    # A paused player keeps reporting every PAUSED_HEARTBEAT_SECONDS; the next report after it plays on resumes.
    held = at + timedelta(seconds=streaming.PAUSED_HEARTBEAT_SECONDS)
    assert watch_progress.report(engine, user.user_id, session.lease_id, 30, held, paused=True).state == "paused"
    later = held + timedelta(seconds=streaming.PAUSED_HEARTBEAT_SECONDS)
    assert watch_progress.report(engine, user.user_id, session.lease_id, 35, later).state == "playing"
    assert streaming.live_streams(engine, user.user_id, later)[0].state == "playing"
