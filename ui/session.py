"""What every page shares: the engine, the signed-in account and the active viewing profile.

streamlit-authenticator is used for writing and deleting the sign-in cookie only, and is handed no
account at all (never a password hash). The cookie is read here: any cookie that cannot be used (unreadable,
forged, `alg=none`, expired, for an account suspended or signed out) signs that browser out cleanly, with the
cookie deleted and a short notice. The password check, throttling and session validity are
`backend.accounts`', checked against the database on every run.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import jwt
import streamlit as st
import streamlit_authenticator as stauth

import database
from backend.accounts import profiles as viewing_profiles
from backend.accounts import sessions, users
from backend.core import keys
from backend.core.settings import get_settings
from ops import billing

COOKIE_NAME = "reelhouse_session"
_SESSION_KEYS = ("session_expires_at", "user_id", "profile_id", "switch_to_profile")
_REFUSED_COOKIE = "refused_cookie"  # the cookie this browser session was signed out of (st.context keeps it)
SIGNED_OUT_NOTICE = "You were signed out, so this page is shown as to a guest. Sign in again to continue."


class _UnusableCookie(Exception):
    """The sign-in cookie cannot sign anyone in (unreadable, forged, wrong algorithm, expired)."""


def through_app() -> None:
    """Pages run inside app.py. Until some run has called st.navigation, Streamlit treats a `pages/`
    folder the legacy way, so a deep link that is a server's very first request would run a page
    alone: send that run through app.py (it lands on the default page)."""
    if "authenticator" not in st.session_state:
        st.switch_page("app.py")


@st.cache_resource(show_spinner=False)
def engine():
    """One pooled engine per server process; migrations run on first use."""
    return database.get_engine()


@st.cache_resource(show_spinner=False)
def billing_scheduler() -> threading.Thread | None:
    """The billing cycle (ops/billing.py: the job, then the rollups) every $BILLING_EVERY_MINUTES (5; 0 = off),
    in one daemon thread per server process. Several processes are safe: a run takes an advisory lock and skips
    accounts locked elsewhere, and every charge is idempotent."""
    minutes = get_settings().billing_every_minutes
    if minutes <= 0:
        return None

    app_engine = engine()

    def loop() -> None:

        while True:
            time.sleep(minutes * 60)
            try:
                billing.run(app_engine, started_by="app")
            except Exception:  # keep the schedule alive; the failure is in job_runs and the log
                logging.getLogger("reelhouse.billing").exception("scheduled billing run failed")

    thread = threading.Thread(target=loop, name="billing-scheduler", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def cookie_key() -> str:
    """$AUTH_COOKIE_KEY, else a random key kept in data/ (created once, readable by its owner only)."""
    return keys.signing_key(get_settings().auth_cookie_key, "auth_cookie_key")


def start_authenticator() -> stauth.Authenticate:
    """The run's one authenticator (app.py calls this once per run)."""
    authenticator = stauth.Authenticate(
        {"usernames": {}}, COOKIE_NAME, cookie_key(), sessions.SESSION_DAYS, auto_hash=False, login_sleep_time=0
    )
    st.session_state["authenticator"] = authenticator
    return authenticator


def _authenticator() -> stauth.Authenticate:
    return st.session_state["authenticator"]


def _cookie_expiry() -> datetime | None:
    model = _authenticator().cookie_controller.cookie_model
    return datetime.fromtimestamp(model.exp_date, UTC) if model.exp_date else None


def _read_cookie(token: str) -> tuple[str, datetime]:
    """(email, expiry) that a sign-in cookie written by this app claims, or _UnusableCookie."""
    try:
        claims = jwt.decode(token, cookie_key(), algorithms=["HS256"])
        email, expires = claims["username"], datetime.fromtimestamp(float(claims["exp_date"]), UTC)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError, OverflowError, OSError):
        raise _UnusableCookie from None
    if not isinstance(email, str) or expires <= datetime.now(UTC):
        raise _UnusableCookie
    return email, expires


def current_user() -> users.User | None:
    """The signed-in account, re-checked against the database on every run; None for guests."""
    state = st.session_state
    token = st.context.cookies.get(COOKIE_NAME)
    if not isinstance(token, str):  # no cookie (AppTest's cookies are a mock that answers anything)
        token = None
    if state.get("authentication_status") and state.get("session_expires_at"):
        email, expires = state.get("username") or "", state["session_expires_at"]
    elif not token:
        _show_notice()
        return None
    elif token == state.get(_REFUSED_COOKIE):  # until the browser has really dropped it
        _show_notice()
        _authenticator().cookie_controller.delete_cookie()  # a no-op once the cookie is gone
        return None
    elif state.get("logout"):  # signed out in the previous run, which rerun at once: delete the cookie in this one
        _authenticator().cookie_controller.delete_cookie()
        return None
    else:
        try:
            email, expires = _read_cookie(token)
        except _UnusableCookie:
            return _refuse_cookie(token)
    user = sessions.session_user(engine(), email, expires)
    if user is None:  # signed out elsewhere, password changed, suspended, or a revoked cookie
        return _refuse_cookie(token)
    state.update(authentication_status=True, username=user.email, email=user.email, name=user.display_name)
    state.update(roles=[user.role], session_expires_at=expires, user_id=user.user_id)
    return user


def _refuse_cookie(token: str | None) -> None:
    """Sign this browser out cleanly: a notice shown, local state cleared, the cookie deleted."""
    st.session_state[_REFUSED_COOKIE] = token or "signed in during this browser session"
    _show_notice()
    if st.session_state.get("authentication_status"):
        _end_local_session()  # its sign-out deletes the cookie
    else:
        _authenticator().cookie_controller.delete_cookie()


def _show_notice() -> None:
    if st.session_state.get(_REFUSED_COOKIE):
        st.info(SIGNED_OUT_NOTICE, icon=":material/logout:")


def sign_in(email: str, password: str) -> users.User:
    """Check the password (throttled, in the database) and start a session with a 7-day cookie."""
    user = sessions.authenticate(engine(), email, password)
    st.session_state.update(
        authentication_status=True,
        username=user.email,
        email=user.email,
        name=user.display_name,
        roles=[user.role],
        logout=None,
    )
    _authenticator().cookie_controller.set_cookie()
    st.session_state["session_expires_at"] = _cookie_expiry()
    st.session_state["user_id"] = user.user_id
    st.session_state.pop(_REFUSED_COOKIE, None)
    return user


def sign_out(*, everywhere: bool = False) -> None:
    user_id, expires = st.session_state.get("user_id"), st.session_state.get("session_expires_at")
    if user_id is not None:
        if everywhere:
            sessions.sign_out_everywhere(engine(), user_id)
        elif expires is not None:
            sessions.sign_out_session(engine(), user_id, expires)
    _end_local_session()


def _end_local_session() -> None:
    if st.session_state.get("authentication_status"):
        _authenticator().logout(location="unrendered")  # clears the state and deletes the cookie
    for key in _SESSION_KEYS:
        st.session_state.pop(key, None)


def app_base_url() -> str:
    """scheme://host[:port] of the app as the browser sees it, for links in emails."""
    parts = urlsplit(st.context.url or get_settings().public_url)
    return f"{parts.scheme}://{parts.netloc}"


def switch_profile(profile_id: int) -> None:
    """Make `profile_id` the active profile from the next run on (the switcher exists already)."""
    st.session_state["switch_to_profile"] = profile_id


def active_profile(user: users.User) -> viewing_profiles.Profile:
    """The viewing profile chosen in the sidebar switcher (the first one by default)."""
    profiles = viewing_profiles.list_profiles(engine(), user.user_id)
    ids = [p.profile_id for p in profiles]
    if "switch_to_profile" in st.session_state:  # asked for by a page in an earlier run
        st.session_state["profile_id"] = st.session_state.pop("switch_to_profile")
    if st.session_state.get("profile_id") not in ids:
        st.session_state["profile_id"] = ids[0]
    st.sidebar.selectbox(
        "Watching as",
        ids,
        key="profile_id",
        format_func=lambda pid: next(
            f"{p.name} (Kids)" if p.is_kids else p.name for p in profiles if p.profile_id == pid
        ),
    )
    return next(p for p in profiles if p.profile_id == st.session_state["profile_id"])
