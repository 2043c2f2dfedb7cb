"""A visitor opens the app in a real browser, sees the catalogue as title cards and searches it."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from etl import load_catalogue as etl
from tests.conftest import QUIRKS_CSV
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def catalogue(module_db_url):
    engine = create_engine(module_db_url, poolclass=NullPool)
    etl.load_catalogue(engine, QUIRKS_CSV)
    engine.dispose()


def test_browse_page_shows_counts_and_title_cards(page, app_server):
    page.goto(app_server)
    wait_for_app(page)
    expect(page.get_by_text("9 titles · 6 films · 3 series")).to_be_visible()
    expect(page.get_by_role("heading", name="Browse")).to_be_visible()
    expect(page.get_by_text("9 matching titles · showing 1–9")).to_be_visible()
    expect(page.locator("[data-testid='stMain'] [data-testid='stImage']")).to_have_count(9)  # generated posters


def test_search_narrows_the_cards(page, app_server):
    page.goto(app_server)
    wait_for_app(page)
    search = page.get_by_role("textbox", name="Search titles, cast or directors")
    search.fill("Ada Quill")
    search.press("Enter")
    # The cards of the unfiltered page stay on it until the search's run replaces them: wait for its count first.
    expect(page.get_by_text("2 matching titles · showing 1–2")).to_be_visible()
    wait_for_app(page)
    expect(page.get_by_role("link", name="The Paper Lantern")).to_have_count(1)
    expect(page.get_by_role("link", name="Kitchen Wars")).to_have_count(1)
    expect(page.locator("[data-testid='stMain'] [data-testid='stImage']")).to_have_count(2)
    search.fill("zzqx nothing at all")
    search.press("Enter")
    expect(page.get_by_text("No title, cast member or director matches")).to_be_visible()
