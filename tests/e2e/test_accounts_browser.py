"""Account journeys in headless Chromium: the sign-in cookie, sign-out that really ends the session,
throttling, role checks and profiles."""

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from backend import users
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.browser
PASSWORD = "secret pass 12"


def fresh_email(tag: str) -> str:
    return f"{tag}-{time.monotonic_ns()}@example.com"


def open_app(page, app_server, path: str = "") -> None:
    page.goto(app_server)  # the app first: a server's very first request must not be a deep link
    wait_for_app(page)
    if path:
        page.goto(f"{app_server}/{path}")
        wait_for_app(page)


def signed_in(page) -> None:
    expect(page.get_by_label("Watching as")).to_be_visible()
    expect(page.locator("[data-testid='stSidebarNav']").get_by_text("Account")).to_be_visible()


def signed_out(page) -> None:
    expect(page.locator("[data-testid='stSidebarNav']").get_by_text("Sign in")).to_be_visible()
    expect(page.get_by_label("Watching as")).to_have_count(0)


def wait_for_cookie(page, name: str = "reelhouse_session", present: bool = True) -> None:
    """The sign-in cookie is written by a component in the browser just after the run; wait for it."""
    for _ in range(100):
        if (name in [c["name"] for c in page.context.cookies()]) == present:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"cookie {name} {'never appeared' if present else 'was never removed'}")


def register(page, app_server, email: str, name: str = "Jane Doe") -> None:
    open_app(page, app_server, "register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("You are signed in")).to_be_visible()
    wait_for_cookie(page)


def test_register_reload_sign_out_and_the_old_cookie_is_refused(browser, page, app_server):
    register(page, app_server, fresh_email("jane"), name="Jane <b>Doe</b>")
    page.reload()
    wait_for_app(page)
    signed_in(page)
    saved_cookies = page.context.cookies()

    page.goto(f"{app_server}/account")
    wait_for_app(page)
    expect(page.get_by_text("Jane <b>Doe</b>")).to_be_visible()  # shown escaped, as typed
    page.get_by_role("button", name="Sign out", exact=True).click()
    wait_for_app(page)
    signed_out(page)
    wait_for_cookie(page, present=False)
    page.reload()
    wait_for_app(page)
    signed_out(page)

    # A saved copy of the old cookie, replayed in a new browser, does not sign in.
    replay = browser.new_context()
    replay.add_cookies(saved_cookies)
    other = replay.new_page()
    open_app(other, app_server)
    other.wait_for_timeout(1500)
    wait_for_app(other)
    signed_out(other)
    replay.close()


def test_five_wrong_passwords_lock_sign_in(page, app_server, module_db_url):
    email = fresh_email("locked")
    engine = create_engine(module_db_url, poolclass=NullPool)
    users.register(engine, email, "Lou", PASSWORD)
    engine.dispose()
    open_app(page, app_server, "sign-in")
    for _ in range(users.FAILURES_BEFORE_LOCK):
        page.get_by_label("Email").fill(email)
        page.get_by_role("textbox", name="Password").fill("wrong password 1")
        page.get_by_role("button", name="Sign in").click()
        wait_for_app(page)
    expect(page.get_by_text("Too many failed sign-ins for this email")).to_be_visible()
    page.get_by_role("textbox", name="Password").fill(PASSWORD)  # the right one is refused too while locked
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)
    expect(page.get_by_text("Too many failed sign-ins for this email")).to_be_visible()
    signed_out(page)


def test_a_subscriber_typing_the_admin_url_sees_no_admin_data(page, app_server):
    register(page, app_server, fresh_email("sub"))
    page.goto(f"{app_server}/admin")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Browse")).to_be_visible()
    expect(page.get_by_text("Accounts overview")).to_have_count(0)


def test_a_kids_profile_is_created_and_switched_to(page, app_server):
    register(page, app_server, fresh_email("family"))
    page.goto(f"{app_server}/profiles")
    wait_for_app(page)
    page.get_by_label("Profile name").fill("Little ones")
    page.get_by_text("Kids profile").click()
    page.get_by_role("button", name="Add profile").click()
    wait_for_app(page)
    expect(page.get_by_text("Little ones · Kids")).to_be_visible()
    expect(page.get_by_label("Watching as")).to_have_value("Little ones (Kids)")
    page.reload()
    wait_for_app(page)
    expect(page.get_by_text("Little ones · Kids")).to_be_visible()
