"""Account journeys in headless Chromium: the sign-in cookie, sign-out that really ends the session,
throttling, role checks and profiles."""

import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backend.accounts import sessions, users
from tests.e2e.conftest import wait_for_app
from tests.waiting import wait_until

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
    expect(page.locator("[data-testid='stSidebarNav']").get_by_text("Account", exact=True)).to_be_visible()


def signed_out(page) -> None:
    expect(page.locator("[data-testid='stSidebarNav']").get_by_text("Sign in")).to_be_visible()
    expect(page.get_by_label("Watching as")).to_have_count(0)


# The value of the page's cookie `name` (null if it has none). The app's cookies are written by script
# (a component), so the page sees them.
COOKIE_JS = "name => document.cookie.split('; ').find(c => c.startsWith(name + '='))?.slice(name.length + 1) ?? null"


def wait_for_cookie(page, name: str = "reelhouse_session", present: bool = True) -> None:
    """The sign-in cookie is written (or deleted) by a component in the browser just after the run; wait for it."""
    page.wait_for_function(f"name => ({COOKIE_JS})(name) {'!==' if present else '==='} null", arg=name)


def wait_for_new_cookie(page, old: str | None, name: str = "reelhouse_session") -> None:
    """Until the page's cookie `name` is there with another value than `old`."""
    page.wait_for_function(
        f"([name, old]) => {{ const value = ({COOKIE_JS})(name); return value !== null && value !== old; }}",
        arg=[name, old],
    )


def register(page, app_server, email: str, name: str = "Jane Doe") -> None:
    open_app(page, app_server, "register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    wait_for_cookie(page)
    signed_in(page)  # after the rerun the cookie component asks for


def session_cookie(page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == "reelhouse_session"), None)


def sign_in_with_form(page, app_server, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{app_server}/sign-in")
    wait_for_app(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_cookie(page)
    signed_in(page)


def sign_out_with_button(page, app_server) -> None:
    page.goto(f"{app_server}/account")
    wait_for_app(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    wait_for_app(page)
    signed_out(page)
    wait_for_cookie(page, present=False)


def test_register_sign_in_reload_sign_out_and_the_old_cookie_is_refused(new_device, page, app_server):
    email = fresh_email("jane")
    register(page, app_server, email, name="Jane <b>Doe</b>")
    page.goto(f"{app_server}/account")
    wait_for_app(page)
    expect(page.get_by_label("Name")).to_have_value("Jane <b>Doe</b>")  # kept as typed
    sign_out_with_button(page, app_server)

    sign_in_with_form(page, app_server, email)
    page.reload()
    wait_for_app(page)
    signed_in(page)
    saved_cookies = page.context.cookies()
    sign_out_with_button(page, app_server)
    page.reload()
    wait_for_app(page)
    signed_out(page)

    # A saved copy of the old cookie, replayed in a new browser, does not sign in.
    other = new_device()
    other.context.add_cookies(saved_cookies)
    open_app(other, app_server)
    wait_for_cookie(other, present=False)  # the app signs in from it, finds the session ended, deletes it
    wait_for_app(other)
    signed_out(other)


def test_changing_the_password_keeps_this_session_and_ends_the_others(new_device, page, app_server):
    email = fresh_email("rotate")
    register(page, app_server, email)
    other = new_device()
    open_app(other, app_server)
    sign_in_with_form(other, app_server, email)

    page.goto(f"{app_server}/account")
    wait_for_app(page)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("rotated pass 99")
    before = session_cookie(page)
    page.get_by_role("button", name="Change password").click()
    wait_for_app(page)
    wait_for_new_cookie(page, before)  # the fresh cookie is written by the browser just after the run
    page.reload()
    wait_for_app(page)
    signed_in(page)  # this session goes on with a fresh cookie

    other.reload()
    wait_for_app(other)
    signed_out(other)  # the other device is signed out


def test_five_wrong_passwords_lock_sign_in(page, app_server, module_db_url):
    email = fresh_email("locked")
    engine = create_engine(module_db_url, poolclass=NullPool)
    users.register(engine, email, "Lou", PASSWORD)

    def attempts_counted() -> int:
        with engine.connect() as conn:
            failures, locked = conn.execute(
                text("SELECT failures, locked_until IS NOT NULL FROM login_throttle WHERE email = :e"), {"e": email}
            ).first() or (0, False)
        return sessions.FAILURES_BEFORE_LOCK if locked else failures

    open_app(page, app_server, "sign-in")
    for attempt in range(1, sessions.FAILURES_BEFORE_LOCK + 1):
        page.get_by_label("Email").fill(email)
        page.get_by_role("textbox", name="Password").fill("wrong password 1")
        page.get_by_role("button", name="Sign in").click()
        # one click, one attempt: wait until the server has counted it
        wait_until(lambda: attempts_counted() >= attempt, f"attempt {attempt} counted")  # noqa: B023
        assert attempts_counted() == attempt
    engine.dispose()
    expect(page.get_by_text("Too many failed sign-ins for this email")).to_be_visible()
    page.reload()  # a fresh form, so the message below can only come from this attempt's run
    wait_for_app(page)
    expect(page.get_by_text("Too many failed sign-ins for this email")).to_have_count(0)
    page.get_by_label("Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)  # the right one is refused too while locked
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Too many failed sign-ins for this email")).to_be_visible()
    wait_for_app(page)
    assert session_cookie(page) is None  # a successful sign-in would have written the cookie by now
    signed_out(page)


def test_a_subscriber_typing_the_admin_url_sees_no_admin_data(page, app_server):
    register(page, app_server, fresh_email("sub"))
    page.goto(f"{app_server}/admin")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=re.compile(r"^Home · "))).to_be_visible()  # a member's default page
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


def tiny_png() -> bytes:
    """A real 8x8 PNG (made with Pillow), which the app decodes and the browser draws."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (229, 9, 20)).save(out, format="PNG")
    return out.getvalue()


def test_profile_edits_persist_after_reload(page, app_server, tmp_path):
    register(page, app_server, fresh_email("edit"))
    page.goto(f"{app_server}/account")
    wait_for_app(page)
    page.get_by_label("Name").fill("Jane Q. Public")
    page.get_by_label("Bio").fill("<b>not bold</b> Zoë 🎬")
    page.get_by_role("textbox", name="Phone").fill("+44 20 7946 0958")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    picture = tmp_path / "me.png"
    picture.write_bytes(tiny_png())
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(picture))
    page.get_by_role("button", name="Use this picture").click()
    wait_for_app(page)

    page.reload()
    wait_for_app(page)
    expect(page.get_by_label("Name")).to_have_value("Jane Q. Public")
    expect(page.get_by_role("textbox", name="Phone")).to_have_value("+442079460958")
    expect(page.get_by_test_id("stText").get_by_text("<b>not bold</b> Zoë 🎬", exact=True)).to_be_visible()
    expect(page.locator("b", has_text="not bold")).to_have_count(0)  # shown as typed, never as markup
    expect(page.locator("[data-testid='stImage'] img")).to_have_count(1)


def test_password_reset_through_the_emailed_link(page, app_server, module_db_url):
    email = fresh_email("forgetful")
    engine = create_engine(module_db_url, poolclass=NullPool)
    user = users.register(engine, email, "Fay", PASSWORD)
    open_app(page, app_server, "sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()  # the new page, not the old
    wait_for_app(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_text("If an account uses that address")).to_be_visible()

    from backend.notify import mail

    body = mail.outbox(engine, user.user_id)[0]["body"]
    engine.dispose()
    link = next(word for word in body.split() if "/reset-password?token=" in word)
    assert link.startswith(app_server)  # the link points back at the app the person used
    page.goto(link)
    wait_for_app(page)
    page.get_by_label("New password", exact=True).fill("fresh start 2026")
    page.get_by_label("Repeat the new password").fill("fresh start 2026")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()

    page.goto(f"{app_server}/sign-in")
    wait_for_app(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("textbox", name="Password").fill("fresh start 2026")
    page.get_by_role("button", name="Sign in").click()
    wait_for_cookie(page)
    signed_in(page)
