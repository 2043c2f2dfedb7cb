"""The admin's analytics journey in headless Chromium against `streamlit run` on a seeded half-year: every
page of the Analytics section opens without an error, a plan filter changes the MRR tile, and a chart's
data downloads as a CSV with the figures the backend computes."""

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

import database
from backend.accounts import users
from backend.analytics import revenue_pages, selection
from etl.load_catalogue import load_catalogue
from seed import generate
from seed import options as seed_options
from tests.conftest import QUIRKS_CSV
from tests.e2e.conftest import wait_for_app
from tests.e2e.test_accounts_browser import open_app, wait_for_cookie

pytestmark = pytest.mark.browser


def analytics_pages() -> list[str]:
    """The url paths of every page registered under pages/dashboards/ in app.py (7B's included)."""
    source = (database.PROJECT_ROOT / "app.py").read_text()
    return re.findall(r'page\("dashboards/[a-z_]+\.py",\s*"[^"]+",\s*"[a-z_]+",\s*"([a-z0-9-]+)"', source)


@pytest.fixture(scope="module")
def seeded(module_db_url):
    engine = create_engine(module_db_url, poolclass=NullPool)
    load_catalogue(engine, QUIRKS_CSV)
    generate.seed(engine, seed_options.Options(subscribers=200, months=6, end=date(2026, 7, 1), seed=5))
    yield engine
    engine.dispose()


def go(page, app_server, path: str) -> None:
    page.goto(f"{app_server}/{path}")
    wait_for_app(page)


def sign_in_as_admin(page, app_server) -> None:
    go(page, app_server, "sign-in")
    page.get_by_label("Email").fill("demo.admin@example.com")
    page.get_by_role("textbox", name="Password").fill(seed_options.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_cookie(page)
    expect(page.get_by_label("Watching as")).to_be_visible()


def mrr_tile(page) -> str:
    tile = page.locator("[data-testid='stMetric']").filter(has_text=re.compile(r"^MRR")).first
    return tile.locator("[data-testid='stMetricValue']").inner_text()


def test_admin_opens_every_dashboard_filters_and_downloads(page, app_server, seeded):
    paths = analytics_pages()
    assert {"analytics-overview", "analytics-revenue"} <= set(paths)
    open_app(page, app_server)
    sign_in_as_admin(page, app_server)

    for path in paths:
        go(page, app_server, path)
        expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("How this is computed").first).to_be_visible()
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        expect(page.get_by_text("do not have access")).to_have_count(0)

    go(page, app_server, "analytics-overview")
    everything = mrr_tile(page)
    assert everything.startswith("$") and everything != "$0.00"
    page.locator("[data-testid='stMultiSelect']").filter(has_text="Plans").locator("input").click()
    page.get_by_role("option", name="Premium", exact=True).click()
    page.keyboard.press("Escape")
    wait_for_app(page)
    expect(page.locator("[data-testid='stMetric']").first.locator("[data-testid='stMetricValue']")).not_to_have_text(
        everything, timeout=20_000
    )
    premium = mrr_tile(page)
    assert premium != everything and "plan=" in page.url

    more = page.get_by_text(re.compile(r"^View \d+ more$"))  # the sidebar folds long menus
    if more.count():
        more.click()
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Revenue", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Revenue")).to_be_visible()
    plans_filter = page.locator("[data-testid='stMultiSelect']").filter(has_text="Plans")
    expect(plans_filter).to_contain_text("Premium")  # the filter follows to the next page
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").nth(2).click()  # Cash collected vs MRR
    download = download_info.value
    assert download.suggested_filename == "cash_vs_mrr.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert list(rows[0]) == ["month", "month_to_date", "cash_collected", "end_mrr"]
    admin = users.find_user_by_email(seeded, "demo.admin@example.com").user_id
    options = selection.filter_options(seeded, acting_user_id=admin)
    premium_id = next(pid for pid, name in options.plans.items() if name == "Premium")
    expected = revenue_pages.revenue_page(
        seeded, options.default_period(), selection.Filters((premium_id,)), acting_user_id=admin
    )["cash_vs_mrr"]
    assert [r["month"] for r in rows] == [m.strftime("%Y-%m") for m in expected["month"]]
    assert [r["end_mrr"] for r in rows] == [str(v) for v in expected["end_mrr"]]
    assert [r["cash_collected"] for r in rows] == [str(v) for v in expected["cash_collected"]]
    assert premium == f"${Decimal(rows[-1]['end_mrr']):,.2f}"  # the tile and the CSV agree
