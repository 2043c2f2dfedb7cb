"""Admin journeys in headless Chromium against `streamlit run`, the subscriber in a second browser context:
an admin creates a plan and a subscriber sees and buys it; an admin suspends a member who is signed in
elsewhere and that session ends on its next action; non-admins do not get the admin pages."""

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backend.accounts import users
from backend.admin import accounts as account_admin
from backend.billing import plans
from tests.e2e.conftest import ARTIFACTS, wait_for_app
from tests.e2e.test_accounts_browser import (
    PASSWORD,
    fresh_email,
    open_app,
    register,
    signed_out,
    wait_for_cookie,
)

pytestmark = pytest.mark.browser
ADMIN_EMAIL = "boss@example.com"
SCREENSHOTS = os.environ.get("ADMIN_SCREENSHOTS")  # set to keep screenshots of the admin pages for a look


@pytest.fixture(scope="module")
def db(module_db_url):
    engine = create_engine(module_db_url, poolclass=NullPool)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
    users.register(engine, ADMIN_EMAIL, "Bo Boss", PASSWORD, role="admin")
    yield engine
    engine.dispose()


@pytest.fixture
def admin_page(new_device, app_server, db):
    """A second browser context, signed in as the admin."""
    page = new_device(viewport={"width": 1400, "height": 1000})
    open_app(page, app_server)
    staff_sign_in(page, app_server, ADMIN_EMAIL)
    return page


def staff_sign_in(page, app_server, email: str) -> None:
    page.goto(f"{app_server}/sign-in")
    wait_for_app(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_cookie(page)
    expect(page.get_by_label("Watching as")).to_be_visible()


def go(page, app_server, path: str) -> None:
    page.goto(f"{app_server}/{path}")
    wait_for_app(page)


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        wait_for_app(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)


def test_an_admin_creates_a_plan_and_a_subscriber_sees_and_buys_it(page, admin_page, app_server, db):
    go(admin_page, app_server, "admin-plans")
    create = admin_page.locator("[data-testid='stForm']").first
    create.get_by_role("textbox", name="Name").fill("Family")
    create.get_by_role("textbox", name="Price (USD)").fill("0")
    create.get_by_role("spinbutton", name="Devices at once").fill("6")
    create.get_by_role("button", name="Create plan").click()
    expect(admin_page.get_by_text("The price must be above 0 and at most 1,000.00.")).to_be_visible()
    assert "Family" not in [p.name for p in plans.active_plans(db)]  # bad input changed nothing

    create.get_by_role("textbox", name="Price (USD)").fill("24.99")
    create.get_by_role("button", name="Create plan").click()
    expect(admin_page.get_by_text("Plan Family created. It is on sale now.")).to_be_visible()
    shot(admin_page, "plans")

    register(page, app_server, fresh_email("family"))
    go(page, app_server, "plans")
    expect(page.get_by_role("heading", name="Family")).to_be_visible()
    expect(page.get_by_text("USD 24.99 / month")).to_be_visible()
    expect(page.get_by_text("1080p · 6 screens at once")).to_be_visible()
    on_sale = plans.active_plans(db)
    page.get_by_role("button", name="Choose").nth([p.name for p in on_sale].index("Family")).click()
    wait_for_app(page)
    expect(page.get_by_text("Check out: Family")).to_be_visible()
    page.get_by_role("textbox", name="Card number").fill("4242 4242 4242 4242")
    page.get_by_role("textbox", name="CVC").fill("123")
    page.get_by_role("button", name="Start 7-day free trial").click()
    expect(page.get_by_text("Your free trial of Family has started.")).to_be_visible()
    with db.connect() as conn:
        bought = conn.execute(
            text("""SELECT p.name FROM subscriptions s JOIN plans p USING (plan_id)
                                      WHERE s.status = 'trialing' ORDER BY s.started_at DESC LIMIT 1""")
        ).scalar()
    assert bought == "Family"


def test_a_suspended_member_signed_in_elsewhere_is_signed_out_on_the_next_action(page, admin_page, app_server, db):
    email = fresh_email("rulebreaker")
    register(page, app_server, email)  # the member, signed in in their own browser

    go(admin_page, app_server, "admin-users")
    admin_page.get_by_label("Search accounts").fill(email)
    admin_page.get_by_label("Search accounts").press("Enter")
    wait_for_app(admin_page)
    shot(admin_page, "users-found")
    expect(admin_page.get_by_text(f"{email} · subscriber")).to_be_visible()
    admin_page.get_by_role("button", name="Suspend account").click()
    expect(admin_page.get_by_text(f"{email} is suspended and signed out everywhere.")).to_be_visible()
    expect(admin_page.get_by_role("button", name="Restore account")).to_be_visible()
    shot(admin_page, "users")

    page.locator("[data-testid='stSidebarNav']").get_by_text("Account").click()  # the member's next action
    wait_for_app(page)
    signed_out(page)
    expect(page.get_by_text("Your current password")).to_have_count(0)

    page.goto(f"{app_server}/sign-in")
    wait_for_app(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This account is suspended. Contact support.")).to_be_visible()
    signed_out(page)

    go(admin_page, app_server, "admin-audit")
    grid = admin_page.locator("[data-testid='stDataFrame'] [role='gridcell']")  # the canvas grid's text copy
    expect(grid.filter(has_text="user.suspend").first).to_be_attached()
    expect(grid.filter(has_text=ADMIN_EMAIL).first).to_be_attached()
    shot(admin_page, "audit")


def test_non_admins_do_not_get_the_admin_pages(page, app_server, db):
    register(page, app_server, fresh_email("curious"))
    for path in ("admin-plans", "admin-users", "admin-audit", "admin-content", "data-ops"):
        go(page, app_server, path)
        expect(page.get_by_role("button", name="Create plan")).to_have_count(0)
        expect(page.get_by_role("button", name="Suspend account")).to_have_count(0)
        expect(page.get_by_role("button", name="Preview the catalogue load")).to_have_count(0)


def test_a_member_made_analyst_gets_data_operations_but_not_plan_management(page, app_server, db):
    email = fresh_email("analyst")
    register(page, app_server, email)
    with db.connect() as conn:
        ids = dict(
            conn.execute(
                text("SELECT email, user_id FROM users WHERE email IN (:a, :b)"), {"a": email, "b": ADMIN_EMAIL}
            ).all()
        )
    account_admin.change_role(db, ids[email], "analyst", acting_user_id=ids[ADMIN_EMAIL])
    go(page, app_server, "data-ops")  # the role is read from the database on every run
    expect(page.get_by_role("button", name="Preview the catalogue load")).to_be_visible()
    shot(page, "data-ops")
    go(page, app_server, "admin-plans")
    expect(page.get_by_role("button", name="Create plan")).to_have_count(0)
