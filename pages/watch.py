"""Watch a title (`?title=<show_id>[&episode=<episode_id>][&trailer=1]`).

Members: the server checks the subscription, the plan's level and the profile's maturity cap, then takes a
stream lease for this device (refused beyond the plan's screens, with the devices watching and "End this
stream"). The player, in a fragment, reports the position every few seconds, on pause and at the end; it
resumes from the saved position and a series moves on to the next episode. Guests get the trailer.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import streamlit as st

from backend.accounts import profiles as viewing_profiles
from backend.accounts import users
from backend.watching import access as watch_access
from backend.watching import media, playable
from backend.watching import progress as watch_progress
from backend.watching import streams as streaming
from components.player import player
from ui.discovery import md
from ui.session import engine, through_app

through_app()

DEVICE_COOKIE = "reelhouse_device"
REMEDY_PAGES = {
    "plans": "pages/plans.py",
    "subscription": "pages/subscription.py",
    "profiles": "pages/profiles.py",
    "sign-in": "pages/sign_in.py",
}


def now() -> datetime:
    return datetime.now(UTC)


def device_id() -> str:
    """This browser's id: the device cookie the player sets, else one made for this session (the player
    then stores it, so a reload is the same device)."""
    cookie = st.context.cookies.get(DEVICE_COOKIE) if hasattr(st.context.cookies, "get") else None
    if isinstance(cookie, str) and streaming.valid_device_id(cookie):
        return cookie
    return st.session_state.setdefault("device_id", secrets.token_urlsafe(12))


def runtime_label(seconds: int) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def header(title: playable.WatchTitle, episode: streaming.Episode | None) -> None:
    st.title(md(title.title), anchor=False)
    facts = [
        str(title.release_year or ""),
        title.maturity_rating or "Unrated",
        "Premium" if title.access_level == "premium" else "",
    ]
    if episode is not None:
        facts.append(f"{episode.label} · {md(episode.name)} · {runtime_label(episode.duration_minutes * 60)}")
    else:
        facts.append(runtime_label(playable.duration_seconds(title, None)))
    st.caption(" · ".join(md(f) if i < 2 else f for i, f in enumerate(facts) if f))


def clip_caption(runtime_seconds: int, clip: media.Media) -> str:
    speed = runtime_seconds / clip.seconds
    return f"sample clip standing in for the full {runtime_label(runtime_seconds)} ({speed:.0f}× speed)"


def show_trailer(title: playable.WatchTitle) -> None:
    trailer = media.trailer_for(title.show_id)
    st.subheader("Trailer")
    player(
        key=f"trailer-{title.show_id}",
        src=trailer.url,
        runtime_seconds=trailer.seconds,
        report=False,
        caption="trailer",
    )


def remedy_link(why: watch_access.PlaybackRefused) -> None:
    target = REMEDY_PAGES.get(why.remedy_page or "")
    if target:
        st.page_link(target, label=why.remedy, icon=":material/arrow_forward:")
    else:
        st.caption(why.remedy)


def show_refusal(why: watch_access.PlaybackRefused, title: playable.WatchTitle, uid: int) -> None:
    st.error(md(why.message))
    remedy_link(why)
    if why.reason == "streams":
        st.subheader("Watching now")
        for device in why.devices:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.markdown(
                f"**{md(device.device_label)}** · {md(device.profile_name)} · "
                f"{md(device.title)} (since {device.started_at:%H:%M} UTC)"
            )
            if right.button("End this stream", key=f"end-{device.lease_id}"):
                streaming.end_stream(engine(), uid, device.lease_id, now())
                st.session_state.pop("watch", None)
                st.rerun()
    elif why.reason in ("plan", "no_subscription", "subscription_ended"):
        show_trailer(title)


def guest_page(title: playable.WatchTitle) -> None:
    header(title, None)
    st.info(f"Guests can watch the trailer. Sign in and choose a plan to watch “{md(title.title)}”.")
    cols = st.columns(2)
    with cols[0]:
        st.page_link("pages/sign_in.py", label="Sign in", icon=":material/login:")
    with cols[1]:
        st.page_link("pages/register.py", label="Create account", icon=":material/person_add:")
    show_trailer(title)


def requested_episode() -> int | None:
    raw = st.query_params.get("episode")
    if raw is None:
        return None
    if not raw.isdigit():
        st.error("That episode link is not valid.")
        st.stop()
    return int(raw)


def start_or_resume(uid: int, profile: viewing_profiles.Profile, title: playable.WatchTitle) -> dict:
    """The play session of this page (kept across reruns); started (lease taken) when the title, episode or
    profile changed. A refusal is shown and stops the page."""
    wanted = requested_episode()
    key = (title.title_id, wanted, profile.profile_id)
    watch = st.session_state.get("watch")
    if watch is not None and watch["key"] == key:
        return watch
    if watch is not None:  # another title, episode or profile: this device's stream moves on
        streaming.stop(engine(), uid, watch["session"].lease_id, now())
        st.session_state.pop("watch")
    episode, position = watch_progress.resume_point(engine(), uid, profile.profile_id, title, wanted)
    if wanted is not None and (episode is None or episode.episode_id != wanted):
        header(title, None)
        st.error("That episode is not part of this title.")
        st.stop()
    device = device_id()
    label = streaming.device_label(st.context.headers.get("User-Agent") if st.context.headers else None, device)
    try:
        session = streaming.start(engine(), uid, profile, title, episode, position, device, label, now())
    except watch_access.PlaybackRefused as why:
        header(title, episode)
        show_refusal(why, title, uid)
        st.stop()
    watch = {"key": key, "session": session, "episode": episode, "stopped": None, "finished": None}
    st.session_state["watch"] = watch
    return watch


@st.fragment
def play_panel(uid: int, title: playable.WatchTitle, lease_id: int) -> None:
    """The player and what its reports say; a report reruns only this fragment. A late report of a session
    the page has left (another profile, a refusal) draws nothing."""
    watch = st.session_state.get("watch")
    if watch is None or watch["session"].lease_id != lease_id:
        return
    session: streaming.Session = watch["session"]
    clip = media.clip_for(title.show_id)
    report = player(
        key=f"player-{session.lease_id}",
        src=clip.url,
        runtime_seconds=session.duration_seconds,
        start_seconds=session.position_seconds,
        caption=clip_caption(session.duration_seconds, clip),
        stop=watch["stopped"] is not None,
        device=device_id(),
        every=streaming.REPORT_EVERY_SECONDS,
        idle=streaming.PAUSED_HEARTBEAT_SECONDS,
    )
    if report is not None and watch["stopped"] is None:
        outcome = watch_progress.report(
            engine(), uid, session.lease_id, report.position_seconds, now(), ended=report.ended
        )
        if outcome.state == "stopped":
            watch["stopped"] = "This stream was stopped: it was ended from another device, or played elsewhere."
            st.rerun(scope="fragment")
        if report.ended and outcome.next_episode is not None:
            st.query_params["episode"] = str(outcome.next_episode.episode_id)
            st.rerun()
        if report.ended:
            watch["finished"] = f"You finished “{md(title.title)}”."
    if watch["stopped"]:
        st.warning(watch["stopped"])
        if st.button("Play here again", icon=":material/play_arrow:"):
            st.session_state.pop("watch", None)
            st.rerun()
    if watch["finished"]:
        st.success(watch["finished"])


def member_page(user: users.User, title: playable.WatchTitle) -> None:
    profile = next(
        p
        for p in viewing_profiles.list_profiles(engine(), user.user_id)
        if p.profile_id == st.session_state.get("profile_id")
    )
    if st.query_params.get("trailer") == "1":
        header(title, None)
        try:
            watch_access.check_trailer(profile, title)
        except watch_access.PlaybackRefused as why:
            st.error(md(why.message))
            remedy_link(why)
            return
        show_trailer(title)
        return
    watch = start_or_resume(user.user_id, profile, title)
    header(title, watch["episode"])
    if watch["session"].position_seconds:
        st.caption(f"Resuming at {runtime_label(watch['session'].position_seconds)}.")
    play_panel(user.user_id, title, watch["session"].lease_id)
    if watch["episode"] is not None:
        following = playable.next_episode(engine(), title.title_id, watch["episode"].episode_id)
        if following is not None and st.button(f"Next episode: {following.label}", icon=":material/skip_next:"):
            st.query_params["episode"] = str(following.episode_id)
            st.rerun()
    if title.description:
        st.markdown(md(title.description))


def main() -> None:
    show_id = st.query_params.get("title", "")
    title = playable.find_title(engine(), show_id) if show_id else None
    if title is None:
        st.title("Watch")
        st.error("This title is not available. Pick another one from Browse.")
        return
    user = st.session_state.get("current_user")
    if user is None:
        guest_page(title)
    else:
        member_page(user, title)


main()
