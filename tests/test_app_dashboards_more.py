"""The Churn, Engagement, Content and Acquisition dashboards under AppTest on a small seeded half-year:
staff see every chart explained with its CSV download, the figures are the backend's, the widgets work,
and anyone else is refused on the server."""

import pytest
from streamlit.testing.v1 import AppTest

import database
from backend.accounts import users
from backend.analytics import churn_metrics
from tests.conftest import app_as, demo_staff
from ui.dashboards import format_value

CHURN, ENGAGEMENT = "pages/dashboards/churn.py", "pages/dashboards/engagement.py"
CONTENT, ACQUISITION = "pages/dashboards/content.py", "pages/dashboards/acquisition.py"
PAGES = [CHURN, ENGAGEMENT, CONTENT, ACQUISITION]
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


SEEDED = {"subscribers": 300, "seed": 5}


@pytest.fixture
def engine(seeded_half_year_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_half_year_url)
    return database.get_engine(seeded_half_year_url)


def explained(at) -> int:
    return sum(c.value.startswith("How this is computed") for c in at.caption)


@pytest.mark.parametrize(
    ("page", "title", "charts"),
    [
        (CHURN, "Churn & retention", 8),
        (ENGAGEMENT, "Engagement", 10),
        (CONTENT, "Content", 7),
        (ACQUISITION, "Acquisition", 4),
    ],
)
def test_each_page_draws_its_charts_each_explained_with_a_download(engine, page, title, charts):
    at = app_as(demo_staff(engine, "analyst")).switch_page(page).run()
    assert not at.exception
    assert at.title[0].value == title
    assert len(at.get("plotly_chart")) == charts
    assert explained(at) >= charts and len(at.get("download_button")) >= charts


def test_churn_page_shows_the_models_test_figures_and_mrr_at_risk(engine):
    admin = demo_staff(engine, "admin")
    at = app_as(admin).switch_page(CHURN).run()
    run = churn_metrics.model_run(engine, acting_user_id=admin.user_id)
    _, totals = churn_metrics.at_risk(engine, acting_user_id=admin.user_id)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["ROC-AUC (test month)"] == format_value(run["roc_auc"], "ratio")
    assert metrics["PR-AUC (test month)"] == format_value(run["pr_auc"], "ratio")
    assert metrics["MRR at risk"] == format_value(totals["mrr_at_risk"], "money") != "$0.00"
    assert any("Kaplan-Meier estimate (statsmodels)" in c.value for c in at.caption)
    assert len(at.dataframe) == 2  # the at-risk list, and the pending cancellations apart
    at.radio(key="survival_group").set_value("cohort").run()
    assert not at.exception


def test_engagement_widgets_switch_unit_and_week(engine):
    at = app_as(demo_staff(engine, "admin")).switch_page(ENGAGEMENT).run()
    at.radio(key="engagement_unit").set_value("profile").run()
    assert not at.exception and "profiles" in at.get("plotly_chart")[0].proto.spec
    weeks = at.selectbox(key="top10_week").options
    at.selectbox(key="top10_week").select(weeks[-1]).run()
    assert not at.exception


def test_a_subscriber_never_gets_the_pages(engine):
    member = users.register(engine, "member@example.com", "Mia Member", "correct horse 42")
    for page in PAGES:
        with pytest.raises(Exception, match="dashboards"):
            app_as(member).switch_page(page)


@pytest.mark.parametrize("page", PAGES)
def test_the_page_itself_refuses_anyone_but_staff_on_the_server(engine, page):
    member = users.register(engine, f"direct{len(page)}@example.com", "Mo Member", "correct horse 42")
    at = AppTest.from_file(str(database.PROJECT_ROOT / page), default_timeout=30)
    at.session_state["authenticator"] = object()  # as if app.py had run
    at.session_state["user_id"] = member.user_id
    at.run()
    assert not at.exception
    assert "do not have access" in at.error[0].value
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe
