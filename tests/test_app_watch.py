"""The watch page under AppTest (the player component does not run here: its reports are covered by
tests/test_playback.py and the browser journeys): guests get the trailer, refusals say why and what would
allow it, a play takes a lease and shows where it resumes, the screen limit lists the devices watching."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from backend.accounts import profiles as viewing_profiles
from backend.accounts import users
from backend.billing import checkout as billing_checkout
from backend.billing import gateway, plans
from backend.billing import state as billing_state
from backend.watching import playable
from backend.watching import progress as watch_progress
from backend.watching import streams as streaming
from etl import load_catalogue as etl
from tests.conftest import QUIRKS_CSV, app_as

PASSWORD = "correct horse 42"
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def plan_ids(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        return dict(conn.execute(text("SELECT name, plan_id FROM plans")).all())


def member(engine, plan_ids, plan: str | None, email="watcher@example.com") -> users.User:
    user = users.register(engine, email, "Wes Watcher", PASSWORD, now=datetime.now(UTC) - timedelta(minutes=5))
    if plan:
        billing_checkout.checkout(
            engine,
            user.user_id,
            plan_ids[plan],
            billing_state.CardDetails(gateway.SUCCESS_CARD, 12, 2035, "123"),
            "k",
            now=datetime.now(UTC) - timedelta(minutes=1),
        )
    return user


def watch(user, query: dict):
    at = app_as(user)
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page("pages/watch.py").run()
    assert not at.exception, at.exception
    return at


def leases(engine, user) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM stream_leases WHERE user_id = :u AND ended_at IS NULL"), {"u": user.user_id}
        ).scalar_one()


def test_a_guest_gets_the_trailer_and_a_way_to_sign_in(engine, plan_ids):
    at = watch(None, {"title": "t1"})
    assert at.title[0].value == "The Paper Lantern"
    assert "Guests can watch the trailer" in at.info[0].value
    assert [s.value for s in at.subheader] == ["Trailer"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stream_leases")).scalar_one() == 0


def test_an_unknown_title_says_so(engine, plan_ids):
    at = watch(None, {"title": "nope"})
    assert "not available" in at.error[0].value


def test_without_a_plan_the_member_is_told_to_subscribe(engine, plan_ids):
    user = member(engine, plan_ids, None)
    at = watch(user, {"title": "t1"})
    assert "Choose a plan" in at.error[0].value
    assert [link.label for link in at.get("page_link")] == ["Start a subscription"]
    assert leases(engine, user) == 0


def test_a_basic_plan_is_refused_a_premium_title_with_the_upgrade(engine, plan_ids):
    user = member(engine, plan_ids, "Basic")
    at = watch(user, {"title": "t15"})
    assert "premium title" in at.error[0].value
    assert [link.label for link in at.get("page_link")] == ["Upgrade to Standard or Premium"]
    assert [s.value for s in at.subheader] == ["Trailer"]  # the preview is still there
    assert leases(engine, user) == 0


def test_a_kids_profile_is_refused_an_adult_title(engine, plan_ids):
    user = member(engine, plan_ids, "Premium")
    with engine.begin() as conn:  # the account's only (so active) profile is a Kids one
        conn.execute(
            text("UPDATE profiles SET name = 'Kiddo', is_kids = TRUE, maturity_cap = 'older_kids' WHERE user_id = :u"),
            {"u": user.user_id},
        )
    at = watch(user, {"title": "t2"})
    assert "not available on the Kiddo profile" in at.error[0].value
    assert any("Switch to an adult profile" in link.label for link in at.get("page_link"))
    assert leases(engine, user) == 0


def test_a_member_plays_a_series_from_the_first_episode_and_resumes_later(engine, plan_ids):
    user = member(engine, plan_ids, "Premium")
    at = watch(user, {"title": "t2"})
    assert at.title[0].value == "Harbour Lights"
    assert "S1 E1" in at.caption[0].value
    assert leases(engine, user) == 1
    lease = at.session_state["watch"]["session"]
    watch_progress.report(engine, user.user_id, lease.lease_id, 600, datetime.now(UTC) + timedelta(seconds=5))

    again = watch(user, {"title": "t2"})  # another visit (a reload): same episode, resumes at 10 min
    assert "S1 E1" in again.caption[0].value
    assert any(c.value == "Resuming at 10 min." for c in again.caption)
    assert [b.label for b in again.button if b.label.startswith("Next episode")] == ["Next episode: S1 E2"]


def test_a_bad_episode_link_is_refused(engine, plan_ids):
    user = member(engine, plan_ids, "Premium")
    assert "not valid" in watch(user, {"title": "t2", "episode": "x"}).error[0].value
    assert "not part of this title" in watch(user, {"title": "t2", "episode": "999999"}).error[0].value
    assert leases(engine, user) == 0


def test_beyond_the_plans_screens_the_devices_are_listed_and_one_can_be_ended(engine, plan_ids):
    user = member(engine, plan_ids, "Basic")  # one screen
    profile = viewing_profiles.list_profiles(engine, user.user_id)[0]
    film = playable.find_title(engine, "t1")
    elsewhere = streaming.start(
        engine, user.user_id, profile, film, None, 0, "living-room-tv", "Living room TV", datetime.now(UTC)
    )
    at = watch(user, {"title": "t3"})
    assert "1 screen at once" in at.error[0].value
    assert any("Living room TV" in m.value and "The Paper Lantern" in m.value for m in at.markdown)
    at.button(key=f"end-{elsewhere.lease_id}").click().run()
    assert not at.exception
    assert at.title[0].value == "Standup in the Attic" and not at.error
    assert watch_progress.report(engine, user.user_id, elsewhere.lease_id, 60, datetime.now(UTC)).state == "stopped"
    assert leases(engine, user) == 1


def test_a_member_can_watch_a_trailer(engine, plan_ids):
    user = member(engine, plan_ids, "Basic")
    at = watch(user, {"title": "t15", "trailer": "1"})
    assert [s.value for s in at.subheader] == ["Trailer"] and not at.error
    assert leases(engine, user) == 0
