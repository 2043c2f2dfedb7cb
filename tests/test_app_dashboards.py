"""The Overview and Revenue dashboards under AppTest on a small seeded year: admins and analysts see them,
the numbers are the backend's, a filter changes them, and anyone else is refused on the server."""

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

import database
from backend.accounts import users
from backend.analytics import revenue_pages, selection
from tests.conftest import app_as, demo_staff
from ui.dashboards import format_value

OVERVIEW, REVENUE = "pages/dashboards/overview.py", "pages/dashboards/revenue.py"
TILES = [
    "MRR",
    "ARR",
    "Active subscribers",
    "ARPU",
    "Subscriber churn",
    "Gross revenue churn",
    "NRR",
    "LTV",
    "Quick ratio",
    "Trial conversion",
    "Cash collected",
]
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


SEEDED = {"subscribers": 150, "seed": 3}


@pytest.fixture
def engine(seeded_half_year_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_half_year_url)
    return database.get_engine(seeded_half_year_url)


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_admin_sees_the_overview_tiles_with_the_backends_numbers(engine):
    admin = demo_staff(engine, "admin")
    at = app_as(admin).switch_page(OVERVIEW).run()
    assert not at.exception
    assert list(tiles(at)) == TILES
    options = selection.filter_options(engine, acting_user_id=admin.user_id)
    kpis = revenue_pages.overview(engine, options.default_period(), acting_user_id=admin.user_id)["kpis"]
    assert tiles(at) == {r["metric"]: format_value(r["value"], r["kind"]) for _, r in kpis.iterrows()}
    assert tiles(at)["MRR"].startswith("$") and tiles(at)["MRR"] != "$0.00"
    assert len(at.get("plotly_chart")) == 3 and len(at.get("download_button")) == 4
    assert sum("How this is computed" in c.value for c in at.caption) == 4


def test_analyst_sees_the_revenue_charts_each_explained_with_a_download(engine):
    at = app_as(demo_staff(engine, "analyst")).switch_page(REVENUE).run()
    assert not at.exception
    assert at.title[0].value == "Revenue"
    assert len(at.get("plotly_chart")) == 4 and len(at.get("download_button")) == 4
    assert sum("How this is computed" in c.value for c in at.caption) == 4


def test_a_plan_filter_changes_the_numbers_and_is_kept_in_the_url_and_across_pages(engine):
    admin = demo_staff(engine, "admin")
    at = app_as(admin).switch_page(OVERVIEW).run()
    everything = tiles(at)["MRR"]
    at.multiselect(key="_dash_plans").select("Premium").run()
    assert not at.exception
    premium = tiles(at)["MRR"]
    assert premium != everything
    with engine.connect() as conn:
        premium_id = conn.execute(text("SELECT plan_id FROM plans WHERE name = 'Premium'")).scalar_one()
    assert at.query_params["plan"] in (str(premium_id), [str(premium_id)])
    at.switch_page(REVENUE).run()
    assert not at.exception and at.multiselect(key="_dash_plans").value == ["Premium"]
    at.switch_page(OVERVIEW).run()
    assert tiles(at)["MRR"] == premium


def test_the_months_range_and_country_filters(engine):
    admin = demo_staff(engine, "admin")
    at = app_as(admin).switch_page(OVERVIEW).run()
    labels = at.selectbox(key="_dash_to").options
    at.selectbox(key="_dash_to").select(labels[-3]).run()
    assert not at.exception and at.subheader[0].value.endswith(labels[-3][:4])
    country = at.multiselect(key="_dash_countries").options[0]
    before = tiles(at)["Active subscribers"]
    at.multiselect(key="_dash_countries").select(country).run()
    assert not at.exception and tiles(at)["Active subscribers"] != before


def test_a_subscriber_never_gets_the_pages(engine):
    member = users.register(engine, "member@example.com", "Mia Member", "correct horse 42")
    with pytest.raises(Exception, match="dashboards"):
        app_as(member).switch_page(OVERVIEW)


@pytest.mark.parametrize("page", [OVERVIEW, REVENUE])
def test_the_page_itself_refuses_anyone_but_staff_on_the_server(engine, page):
    """Even run directly (past the menu), a dashboard checks the role in the backend and shows no data."""
    member = users.register(engine, f"direct{len(page)}@example.com", "Mo Member", "correct horse 42")
    at = AppTest.from_file(str(database.PROJECT_ROOT / page), default_timeout=30)
    at.session_state["authenticator"] = object()  # as if app.py had run
    at.session_state["user_id"] = member.user_id
    at.run()
    assert not at.exception
    assert "do not have access" in at.error[0].value
    assert not at.metric and not at.get("plotly_chart") and not at.get("download_button")


def test_a_demoted_analyst_loses_the_page_at_the_next_run(engine):
    analyst = users.register(engine, "ana@example.com", "Ana Lyst", "correct horse 42", role="analyst")
    at = app_as(analyst).switch_page(OVERVIEW).run()
    assert at.metric
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET role = 'subscriber' WHERE user_id = :i"), {"i": analyst.user_id})
    at.run()
    assert not at.exception and not at.metric
