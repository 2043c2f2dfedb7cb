"""Playback rules on real PostgreSQL: access (subscription state, plan level, maturity), stream leases per
plan, progress reports, resume, next episode, completion at 90% and Continue Watching."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from backend.accounts import profiles as viewing_profiles
from backend.accounts import users
from backend.billing import checkout as billing_checkout
from backend.billing import gateway, plans
from backend.billing import state as billing_state
from backend.watching import access as watch_access
from backend.watching import media, playable
from backend.watching import progress as watch_progress
from backend.watching import rules as watching_rules
from backend.watching import streams as streaming
from etl import load_catalogue as etl
from tests.conftest import QUIRKS_CSV, run_at_once

PASSWORD = "correct horse 42"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def catalogue(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        return dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())


def member(engine, plan_ids, plan: str | None = "Premium", email: str = "viewer@example.com") -> users.User:
    user = users.register(engine, email, "Val Viewer", PASSWORD, now=NOW - timedelta(days=1))
    if plan is not None:
        billing_checkout.checkout(
            engine,
            user.user_id,
            plan_ids[plan],
            billing_state.CardDetails(gateway.SUCCESS_CARD, 12, 2035, "123"),
            f"k-{email}",
            now=NOW - timedelta(hours=1),
        )
    return user


def profile(engine, user) -> viewing_profiles.Profile:
    return viewing_profiles.list_profiles(engine, user.user_id)[0]


def title(engine, show_id: str) -> playable.WatchTitle:
    found = playable.find_title(engine, show_id)
    assert found is not None
    return found


def begin(engine, user, show_id: str, device: str = "device-aaaa", now=NOW, prof=None, episode=None):
    t = title(engine, show_id)
    prof = prof or profile(engine, user)
    if episode is None and t.is_series:
        episode, _ = watch_progress.resume_point(engine, user.user_id, prof.profile_id, t)
    return streaming.start(engine, user.user_id, prof, t, episode, 0, device, f"Chromium ({device})", now)


def refused(work) -> watch_access.PlaybackRefused:
    with pytest.raises(watch_access.PlaybackRefused) as caught:
        work()
    return caught.value


# --- access --------------------------------------------------------------------------------------


def test_without_a_subscription_play_is_refused_with_a_way_to_subscribe(engine, catalogue):
    user = member(engine, catalogue, plan=None)
    why = refused(lambda: begin(engine, user, "t1"))
    assert (why.reason, why.remedy, why.remedy_page) == ("no_subscription", "Start a subscription", "plans")


def test_a_basic_plan_cannot_play_a_premium_title_but_can_play_the_back_catalogue(engine, catalogue):
    user = member(engine, catalogue, plan="Basic")
    why = refused(lambda: begin(engine, user, "t15"))  # released 2022: premium
    assert why.reason == "plan" and "premium title" in why.message
    assert why.remedy == "Upgrade to Standard or Premium" and why.remedy_page == "subscription"
    assert begin(engine, user, "t1").position_seconds == 0  # released 2019: basic


def test_a_kids_profile_cannot_play_adult_or_unrated_titles(engine, catalogue):
    user = member(engine, catalogue)
    kids = viewing_profiles.create_profile(engine, user.user_id, "Kiddo", is_kids=True)
    for show_id in ("t2", "t6", "t1"):  # TV-MA, NR (unrated), PG-13
        why = refused(lambda s=show_id: begin(engine, user, s, prof=kids))
        assert (why.reason, why.remedy) == ("maturity", "Switch to an adult profile")
        assert "Kiddo" in why.message
    assert begin(engine, user, "t5", prof=kids).episode_id is not None  # TV-Y series


def test_past_due_plays_within_grace_and_not_after(engine, catalogue):
    user = member(engine, catalogue)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE subscriptions SET status = 'past_due', grace_until = :g WHERE user_id = :u"),
            {"g": NOW + timedelta(days=2), "u": user.user_id},
        )
    assert begin(engine, user, "t1").lease_id
    why = refused(lambda: begin(engine, user, "t1", now=NOW + timedelta(days=3)))
    assert why.reason == "subscription_ended" and why.remedy == "Resubscribe"


def playable_audiences(maturity_cap: str | None) -> tuple[str, ...]:
    """The audiences whose titles (and trailers) a profile with this cap may play."""
    profile = viewing_profiles.Profile(1, "P", False, maturity_cap)
    allowed = []
    for audience in ("kids", "older_kids", "teens", "adults", "unrated"):
        title = playable.WatchTitle(1, "x1", "X", "movie", "", 2000, None, audience, "basic", 90, None)
        try:
            watch_access.check_trailer(profile, title)
            allowed.append(audience)
        except watch_access.PlaybackRefused:
            pass
    return tuple(allowed)


def test_allowed_audiences_follow_the_cap():
    assert playable_audiences(None) == ("kids", "older_kids", "teens", "adults", "unrated")
    assert playable_audiences("older_kids") == ("kids", "older_kids")
    assert playable_audiences("teens") == ("kids", "older_kids", "teens")


# --- streams -------------------------------------------------------------------------------------


def test_a_third_stream_on_a_two_screen_plan_is_refused_until_one_ends(engine, catalogue):
    user = member(engine, catalogue, plan="Standard")  # two screens
    first = begin(engine, user, "t1", "device-one1")
    begin(engine, user, "t3", "device-two2")
    why = refused(lambda: begin(engine, user, "t4", "device-three"))
    assert why.reason == "streams" and "2 screens" in why.message
    assert [d.device_label for d in why.devices] == ["Chromium (device-one1)", "Chromium (device-two2)"]
    assert [d.title for d in why.devices] == ["The Paper Lantern", "Standup in the Attic"]
    assert streaming.end_stream(engine, user.user_id, first.lease_id, NOW)
    begin(engine, user, "t4", "device-three")
    assert watch_progress.report(engine, user.user_id, first.lease_id, 60, NOW).state == "stopped"


def test_the_same_device_replaces_its_own_stream(engine, catalogue):
    user = member(engine, catalogue, plan="Basic")  # one screen
    old = begin(engine, user, "t1", "device-same")
    begin(engine, user, "t1", "device-same", now=NOW + timedelta(seconds=5))  # e.g. a reload
    assert len(streaming.live_streams(engine, user.user_id, NOW + timedelta(seconds=5))) == 1
    assert watch_progress.report(engine, user.user_id, old.lease_id, 60, NOW + timedelta(seconds=6)).state == "stopped"
    with engine.connect() as conn:  # the replaced session played nothing: it is no play at all
        assert (
            conn.execute(
                text("SELECT count(*) FROM playback_events WHERE user_id = :u"), {"u": user.user_id}
            ).scalar_one()
            == 1
        )


def test_a_stream_whose_heartbeats_stop_expires(engine, catalogue):
    user = member(engine, catalogue, plan="Basic")
    lease = begin(engine, user, "t1", "device-gone")
    later = NOW + streaming.LEASE_TTL - timedelta(seconds=1)
    assert watch_progress.report(engine, user.user_id, lease.lease_id, 100, later).state == "playing"  # a heartbeat
    refused(lambda: begin(engine, user, "t3", "device-next", now=later + timedelta(seconds=30)))
    after = later + streaming.LEASE_TTL + timedelta(seconds=1)
    assert begin(engine, user, "t3", "device-next", now=after).lease_id
    assert watch_progress.report(engine, user.user_id, lease.lease_id, 120, after).state == "stopped"


def test_simultaneous_starts_never_exceed_the_plan(engine, catalogue):
    user = member(engine, catalogue, plan="Standard")

    def attempt(n: int):
        try:
            return begin(engine, user, "t1", f"device-race{n}")
        except watch_access.PlaybackRefused as error:
            return error

    results = run_at_once(*[lambda n=n: attempt(n) for n in range(4)])
    assert sum(isinstance(r, streaming.Session) for r in results) == 2
    assert len(streaming.live_streams(engine, user.user_id, NOW)) == 2


def test_one_member_cannot_end_anothers_stream(engine, catalogue):
    a = member(engine, catalogue, email="a@example.com")
    b = member(engine, catalogue, email="b@example.com")
    lease = begin(engine, a, "t1")
    assert not streaming.end_stream(engine, b.user_id, lease.lease_id, NOW)
    assert watch_progress.report(engine, b.user_id, lease.lease_id, 10, NOW).state == "stopped"
    assert watch_progress.report(engine, a.user_id, lease.lease_id, 10, NOW + timedelta(seconds=1)).state == "playing"


# --- progress ------------------------------------------------------------------------------------


def event(engine, user, event_id):
    with engine.connect() as conn:
        return conn.execute(
            text("""SELECT start_position_seconds, end_position_seconds, watched_seconds,
                                           duration_seconds, completed, device FROM playback_events
                                    WHERE user_id = :u AND event_id = :e"""),
            {"u": user.user_id, "e": event_id},
        ).one()


def test_reports_save_progress_resume_and_complete_at_ninety_percent(engine, catalogue):
    user = member(engine, catalogue)
    prof, film = profile(engine, user), title(engine, "t1")  # 101 minutes
    session = begin(engine, user, "t1")
    length = 101 * 60
    speed = length / media.CLIP_SECONDS
    at = NOW
    for clip_second in range(5, 20, 5):  # plays 15 s of clip
        at += timedelta(seconds=5)
        assert watch_progress.report(engine, user.user_id, session.lease_id, clip_second * speed, at).state == "playing"
    row = event(engine, user, session.event_id)
    assert row.end_position_seconds == round(15 * speed) and row.watched_seconds == row.end_position_seconds
    assert row.duration_seconds == length and not row.completed
    assert watch_progress.resume_point(engine, user.user_id, prof.profile_id, film) == (None, row.end_position_seconds)
    assert [r["show_id"] for r in watch_progress.continue_watching(engine, user.user_id, prof.profile_id, 10)] == ["t1"]

    again = streaming.start(
        engine,
        user.user_id,
        prof,
        film,
        None,
        row.end_position_seconds,
        "device-aaaa",
        "Chromium",
        at + timedelta(seconds=10),
    )
    done = watch_progress.report(
        engine, user.user_id, again.lease_id, watching_rules.COMPLETED_AT * length, at + timedelta(seconds=20)
    )
    assert done.state == "completed"
    assert event(engine, user, again.event_id).completed
    assert watch_progress.continue_watching(engine, user.user_id, prof.profile_id, 10) == []
    assert watch_progress.resume_point(engine, user.user_id, prof.profile_id, film) == (
        None,
        0,
    )  # finished: from the top


def test_a_seek_earns_no_watched_time(engine, catalogue):
    user = member(engine, catalogue)
    session = begin(engine, user, "t1")
    watch_progress.report(engine, user.user_id, session.lease_id, 5000, NOW + timedelta(seconds=2))
    row = event(engine, user, session.event_id)
    assert row.end_position_seconds == 5000
    assert 0 < row.watched_seconds < 5000  # only what the clip could play in 2 s


def test_a_finished_episode_moves_on_to_the_next_and_the_last_one_completes_the_series(engine, catalogue):
    user = member(engine, catalogue)
    prof, show = profile(engine, user), title(engine, "t5")  # one season
    eps = playable.episodes(engine, show.title_id)
    first = begin(engine, user, "t5")
    assert first.episode_id == eps[0].episode_id
    outcome = watch_progress.report(engine, user.user_id, first.lease_id, 0, NOW + timedelta(seconds=3), ended=True)
    assert outcome.state == "completed" and outcome.next_episode == eps[1]
    row = watch_progress.continue_watching(engine, user.user_id, prof.profile_id, 10)[0]
    assert (row["episode_id"], row["position_seconds"], row["episode_number"]) == (eps[1].episode_id, 0, 2)
    assert watch_progress.resume_point(engine, user.user_id, prof.profile_id, show) == (eps[1], 0)

    last = streaming.start(
        engine, user.user_id, prof, show, eps[-1], 0, "device-aaaa", "Chromium", NOW + timedelta(seconds=10)
    )
    outcome = watch_progress.report(engine, user.user_id, last.lease_id, 0, NOW + timedelta(seconds=12), ended=True)
    assert outcome.state == "completed" and outcome.next_episode is None
    assert watch_progress.continue_watching(engine, user.user_id, prof.profile_id, 10) == []


def test_removing_from_continue_watching_keeps_progress_until_played_again(engine, catalogue):
    user = member(engine, catalogue)
    prof = profile(engine, user)
    session = begin(engine, user, "t1")
    watch_progress.report(engine, user.user_id, session.lease_id, 300, NOW + timedelta(seconds=5))
    film = title(engine, "t1")
    assert watch_progress.remove_from_continue_watching(engine, user.user_id, prof.profile_id, film.title_id)
    assert watch_progress.continue_watching(engine, user.user_id, prof.profile_id, 10) == []
    assert watch_progress.resume_point(engine, user.user_id, prof.profile_id, film)[1] > 0
    again = begin(engine, user, "t1", now=NOW + timedelta(seconds=10))
    watch_progress.report(engine, user.user_id, again.lease_id, 310, NOW + timedelta(seconds=12))
    assert [r["show_id"] for r in watch_progress.continue_watching(engine, user.user_id, prof.profile_id, 10)] == ["t1"]
    assert not watch_progress.remove_from_continue_watching(engine, user.user_id, prof.profile_id, 999_999)


def test_continue_watching_is_per_profile(engine, catalogue):
    user = member(engine, catalogue)
    prof = profile(engine, user)
    other = viewing_profiles.create_profile(engine, user.user_id, "Other")
    session = begin(engine, user, "t1")
    watch_progress.report(engine, user.user_id, session.lease_id, 300, NOW + timedelta(seconds=5))
    assert len(watch_progress.continue_watching(engine, user.user_id, prof.profile_id, 10)) == 1
    assert watch_progress.continue_watching(engine, user.user_id, other.profile_id, 10) == []


def test_device_ids_are_checked(engine, catalogue):
    user = member(engine, catalogue)
    with pytest.raises(ValueError):
        begin(engine, user, "t1", device="x'; drop")
