"""Faults a user can cause, in headless Chromium against `streamlit run`: sign-in cookies that cannot be used
sign that browser out cleanly (cookie deleted, a short notice, never a traceback), and Markdown or HTML typed
into names, emails and plan names is shown as typed to every role that sees it."""

import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backend.accounts import users
from backend.admin import plans as plan_admin
from backend.billing import plans
from backend.core import keys
from backend.core.settings import get_settings
from tests.e2e.conftest import wait_for_app
from tests.e2e.test_accounts_browser import (
    PASSWORD,
    fresh_email,
    open_app,
    register,
    session_cookie,
    sign_in_with_form,
    signed_in,
    signed_out,
    wait_for_cookie,
)
from tests.e2e.test_admin_browser import go, staff_sign_in

pytestmark = pytest.mark.browser
ADMIN_EMAIL = "markup-admin@example.com"
NOTICE = "You were signed out"
# Markdown links, images, emphasis, a colour directive, a bare URL and HTML: each must show as typed.
NAME_PAYLOAD = "**Bo** [p](https://evil.example/n) ![i](https://evil.example/n.png) <b>x</b>"  # at most 80
PLAN_PAYLOAD = "**Gold** :red[r] [p](http://evil.example/g) www.evil.example"  # at most 60


@pytest.fixture(scope="module")
def db(module_db_url):
    engine = create_engine(module_db_url, poolclass=NullPool)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
    users.register(engine, ADMIN_EMAIL, "Ada Admin", PASSWORD, role="admin")
    yield engine
    engine.dispose()


def heading_shown_as_typed(page, payload: str) -> None:
    """Until a heading's text is the payload as typed (ui.text.md puts invisible word joiners after a URL's
    scheme, so it is not linked: they are left out of the comparison)."""
    page.wait_for_function(
        """payload => [...document.querySelectorAll('h1, h2, h3, h4')]
               .some(h => h.textContent.replaceAll('\\u2060', '').trim() === payload)""",
        arg=payload,
    )


def no_markup_from(page, payload_host: str = "evil.example") -> None:
    """Nothing on the page links to, or loads from, the payload's host, and no tag typed into it was made."""
    expect(page.locator(f"a[href*='{payload_host}']")).to_have_count(0)
    expect(page.locator(f"img[src*='{payload_host}']")).to_have_count(0)
    expect(page.locator("strong", has_text=re.compile(r"^(Bo|Gold)$"))).to_have_count(0)
    expect(page.locator("b", has_text=re.compile(r"^x$"))).to_have_count(0)


def no_traceback(page) -> None:
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.get_by_text("LoginError")).to_have_count(0)


def cookie_for(app_server: str, value: str) -> dict:
    return {"name": "reelhouse_session", "value": value, "url": app_server}


def claims(email: str) -> dict:
    return {"username": email, "exp_date": (datetime.now(UTC) + timedelta(days=7)).timestamp()}


@pytest.mark.parametrize("kind", ["garbage", "alg_none", "forged_key", "expired", "no_username", "no_account"])
def test_an_unusable_cookie_signs_the_browser_out_cleanly(new_device, app_server, db, kind):
    app_key = keys.signing_key(get_settings().auth_cookie_key, "auth_cookie_key")  # the server's, from data/
    values = {
        "garbage": "not-a-token",
        "alg_none": jwt.encode(claims(ADMIN_EMAIL), None, algorithm="none"),
        "forged_key": jwt.encode(claims(ADMIN_EMAIL), "a key that is not the app's" * 2, algorithm="HS256"),
        "expired": jwt.encode({"username": ADMIN_EMAIL, "exp_date": 1.0}, app_key, algorithm="HS256"),
        "no_username": jwt.encode({"exp_date": claims(ADMIN_EMAIL)["exp_date"]}, app_key, algorithm="HS256"),
        "no_account": jwt.encode(claims("nobody@example.com"), app_key, algorithm="HS256"),
    }
    page = new_device()
    page.context.add_cookies([cookie_for(app_server, values[kind])])
    page.goto(app_server)
    wait_for_app(page)
    expect(page.get_by_text(NOTICE)).to_have_count(1)  # once the rerun is over (no stale copy left)
    signed_out(page)
    no_traceback(page)
    wait_for_cookie(page, present=False)  # deleted, so the next visit is a plain guest's
    page.reload()
    wait_for_app(page)
    signed_out(page)
    expect(page.get_by_text(NOTICE)).to_have_count(0)
    no_traceback(page)


def test_a_suspended_accounts_cookie_signs_out_cleanly_and_a_new_account_signs_in_from_its_cookie(
    new_device, page, app_server, db
):
    email = fresh_email("made-elsewhere")
    users.register(db, email, "Made Elsewhere", PASSWORD)  # as the API does: the app has not seen it
    open_app(page, app_server)
    sign_in_with_form(page, app_server, email)
    page.reload()  # a new browser session signs in from the cookie at once (no credential cache to wait for)
    wait_for_app(page)
    signed_in(page)
    saved = page.context.cookies()

    with db.begin() as conn:
        conn.execute(text("UPDATE users SET suspended_at = now() WHERE email = :e"), {"e": email})
    other = new_device()
    other.context.add_cookies(saved)
    other.goto(app_server)
    wait_for_app(other)
    expect(other.get_by_text(NOTICE)).to_have_count(1)
    signed_out(other)
    no_traceback(other)
    wait_for_cookie(other, present=False)
    other.reload()
    wait_for_app(other)
    signed_out(other)
    assert session_cookie(other) is None


def test_markup_in_names_emails_and_plan_names_is_shown_as_typed_to_each_role(new_device, page, app_server, db):
    admin = users.find_user_by_email(db, ADMIN_EMAIL)
    plan_admin.create_plan(db, plan_admin.PlanInput(name=PLAN_PAYLOAD, price="7.00"), acting_user_id=admin.user_id)
    email = fresh_email("a*b*c")
    register(page, app_server, email, name=NAME_PAYLOAD)  # the member
    no_markup_from(page)

    page.goto(f"{app_server}/account")  # the member's own name and email
    wait_for_app(page)
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()
    no_markup_from(page)
    page.goto(f"{app_server}/plans")  # the admin's plan name, as a member
    wait_for_app(page)
    heading_shown_as_typed(page, PLAN_PAYLOAD)
    no_markup_from(page)

    guest = new_device()
    open_app(guest, app_server, "plans")  # ... and as a guest
    heading_shown_as_typed(guest, PLAN_PAYLOAD)
    no_markup_from(guest)

    staff = new_device(viewport={"width": 1400, "height": 1000})
    open_app(staff, app_server)
    staff_sign_in(staff, app_server, ADMIN_EMAIL)
    go(staff, app_server, "admin-users")
    staff.get_by_label("Search accounts").fill(email)
    staff.get_by_label("Search accounts").press("Enter")
    wait_for_app(staff)
    heading_shown_as_typed(staff, NAME_PAYLOAD)  # the member's name, as the admin
    expect(staff.get_by_text(f"{email} · subscriber")).to_be_visible()
    no_markup_from(staff)

    phone = new_device(viewport={"width": 390, "height": 844}, is_mobile=True)
    open_app(phone, app_server, "plans")
    heading_shown_as_typed(phone, PLAN_PAYLOAD)
    no_markup_from(phone)
