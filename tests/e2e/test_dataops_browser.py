"""Catalogue loads on the Data operations page in headless Chromium: every upload is previewed first, an admin
applies it; a re-numbered copy is refused until an admin accepts it, and then every title keeps its meaning; an
analyst on a phone previews it but cannot apply what needs an admin."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backend.accounts import users
from backend.billing import plans
from tests import catalogue_files as files
from tests.e2e.conftest import ARTIFACTS, wait_for_app
from tests.e2e.test_accounts_browser import PASSWORD, open_app
from tests.e2e.test_admin_browser import SCREENSHOTS, go, staff_sign_in

pytestmark = pytest.mark.browser
ADMIN, ANALYST = "loads.admin@example.com", "loads.analyst@example.com"


@pytest.fixture(scope="module")
def db(module_db_url):
    engine = create_engine(module_db_url, poolclass=NullPool)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
    users.register(engine, ADMIN, "Lou Admin", PASSWORD, role="admin")
    users.register(engine, ANALYST, "Ana Lyst", PASSWORD, role="analyst")
    yield engine
    engine.dispose()
    engine.dispose()


def signed_in(browser, app_server, email: str, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(30_000)
    open_app(page, app_server)
    staff_sign_in(page, app_server, email)
    return context, page


def preview(page, app_server, path, *, accept_renumbering: bool = False) -> None:
    go(page, app_server, "data-ops")
    page.get_by_text("Upload a CSV").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    expect(page.get_by_text(path.name)).to_be_visible()
    if accept_renumbering:
        page.get_by_text("Accept re-numbered ids").click()
    page.get_by_role("button", name="Preview the catalogue load").click()
    wait_for_app(page)
    expect(page.get_by_text(f"Dry run of {path.name} (10 rows, in ")).to_be_visible()


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"dataops-{name}.png"), full_page=True)


def show_ids(db) -> dict[int, str]:
    with db.connect() as conn:
        return dict(conn.execute(text("SELECT title_id, show_id FROM titles")).all())


def test_uploads_are_previewed_then_applied_and_a_renumbered_copy_needs_an_admin(browser, app_server, db, tmp_path):
    first = files.write(tmp_path / "first.csv", files.TITLES)
    copy = files.write(tmp_path / "renumbered.csv", files.renumbered(files.TITLES))
    context, page = signed_in(browser, app_server, ADMIN, {"width": 1400, "height": 1000})
    try:
        preview(page, app_server, first)
        expect(page.get_by_text("A real run would go ahead.")).to_be_visible()
        assert show_ids(db) == {}  # a preview changes nothing
        shot(page, "preview")
        page.get_by_role("button", name="Apply this load").click()
        expect(page.get_by_text("Catalogue loaded from first.csv in ").first).to_be_visible()
        before = show_ids(db)
        assert len(before) == 10

        preview(page, app_server, copy)
        expect(page.get_by_text("“Accept re-numbered ids”").first).to_be_visible()
        expect(page.get_by_role("button", name="Apply this load")).to_have_count(0)
        shot(page, "refused")

        preview(page, app_server, copy, accept_renumbering=True)
        page.get_by_role("button", name="Apply this load").click()
        expect(page.get_by_text("10 re-identified").first).to_be_visible()
        after = show_ids(db)
        assert after.keys() == before.keys() and all(after[i] != before[i] for i in before)
        shot(page, "applied")
    finally:
        context.close()

    context, phone = signed_in(browser, app_server, ANALYST, {"width": 390, "height": 844})
    try:
        preview(phone, app_server, first, accept_renumbering=True)
        expect(phone.get_by_text("Only an admin can apply a load that overwrites admin edits")).to_be_visible()
        expect(phone.get_by_role("button", name="Apply this load")).to_have_count(0)
        shot(phone, "analyst-phone")
    finally:
        context.close()
