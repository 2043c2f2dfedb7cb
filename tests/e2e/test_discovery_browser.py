"""Discovery journeys in headless Chromium: a member searches with a typo, opens the title, adds it to My
List and rates it, and finds it on Home; a Kids profile sees no adult titles in Browse or on Home."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from backend.watching import library
from etl.load_catalogue import load_catalogue
from tests.discovery_fixtures import DISCOVERY_CSV, PASSWORD, member, title_id
from tests.e2e.conftest import ARTIFACTS, wait_for_app
from tests.e2e.test_accounts_browser import open_app, sign_in_with_form

pytestmark = pytest.mark.browser
ADULT_TITLES = ("Night Terrors", "Blood Harvest", "Stranger Lanterns", "Kota Workshop", "The Stranger")


@pytest.fixture(scope="module")
def db(module_db_url):
    engine = create_engine(module_db_url, poolclass=NullPool)
    load_catalogue(engine, DISCOVERY_CSV)
    yield engine
    engine.dispose()


def nav(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(name, exact=True).click()
    wait_for_app(page)


def search(page, query: str) -> None:
    box = page.get_by_role("textbox", name="Search titles, cast or directors")
    box.fill(query)
    box.press("Enter")
    wait_for_app(page)


def test_search_open_add_to_list_rate_and_see_it_on_home(page, app_server, db):
    user, adult, _ = member(db, "journey")
    open_app(page, app_server)
    sign_in_with_form(page, app_server, user.email, PASSWORD)
    expect(page.get_by_role("heading", name="Home · Dana")).to_be_visible()
    nav(page, "Browse")
    search(page, "strangr lantrns")
    main = page.locator("[data-testid='stMain']")
    main.get_by_role("link", name="Stranger Lanterns", exact=True).first.click()  # the best match comes first
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Stranger Lanterns")).to_be_visible()
    page.get_by_role("button", name="Add to My List").click()
    expect(page.get_by_text("Added to My List.")).to_be_visible()
    page.get_by_text("Love this!").click()
    page.get_by_role("textbox", name="Review (optional)").fill("Loved it *a lot* <b>really</b>")
    page.get_by_role("button", name="Save rating").click()
    expect(page.get_by_text("Thanks, your rating is saved.")).to_be_visible()
    review = page.get_by_role("paragraph").filter(has_text="Loved it *a lot* <b>really</b>")
    expect(review).to_be_visible()  # shown as typed, not as markup
    expect(review.locator("b, em")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "discovery-title.png"), full_page=True)
    rating = library.my_rating(db, user.user_id, adult.profile_id, title_id(db, "d1"))
    assert rating is not None and rating.score == 2
    nav(page, "Home")
    my_list = (
        page.locator("[data-testid='stVerticalBlock']").filter(has=page.get_by_role("heading", name="My List")).last
    )
    expect(my_list.get_by_role("link", name="Stranger Lanterns", exact=True)).to_be_visible()
    nav(page, "My List")
    expect(main.get_by_role("link", name="Stranger Lanterns", exact=True)).to_be_visible()


def test_kids_profile_sees_no_adult_titles(page, app_server, db):
    user, _, _ = member(db, "family")
    open_app(page, app_server)
    sign_in_with_form(page, app_server, user.email, PASSWORD)
    page.get_by_label("Watching as").click()
    page.get_by_role("option", name="Kids (Kids)").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Home · Kids")).to_be_visible()
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_role("link", name="Galaxy Kids", exact=True).first).to_be_visible()
    for name in ADULT_TITLES:
        expect(main.get_by_role("link", name=name, exact=True)).to_have_count(0)
    nav(page, "Browse")
    expect(page.get_by_text("Showing titles for the Kids profile")).to_be_visible()
    expect(page.get_by_text("5 matching titles")).to_be_visible()
    for name in ADULT_TITLES:
        expect(main.get_by_role("link", name=name, exact=True)).to_have_count(0)
    search(page, "wren ryland")
    expect(page.get_by_text("No title, cast member or director matches")).to_be_visible()
