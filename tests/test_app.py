"""The Streamlit app, run headless with AppTest against a real (test) database: the guest's Browse page."""

import pytest
from streamlit.testing.v1 import AppTest

import database
from backend.catalogue import search
from backend.catalogue.rules import MAX_SEARCH_LENGTH
from etl import load_catalogue as etl
from tests.conftest import QUIRKS_CSV

APP = str(database.PROJECT_ROOT / "app.py")
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def app(db_url):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    return at


def caption_texts(at) -> list[str]:
    return [c.value for c in at.caption]


def card_titles(at) -> list[str]:
    return [el.proto.label for el in at.main.get("page_link")]


def test_empty_catalogue_says_how_to_load_it(app):
    assert not app.exception
    assert "netflix_titles.csv" in app.info[0].value
    assert "NETFLIX_CSV" in app.info[0].value


@pytest.fixture
def loaded_app(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    return at


def test_catalogue_counts_and_cards(loaded_app):
    assert not loaded_app.exception
    assert "9 titles · 6 films · 3 series" in caption_texts(loaded_app)
    assert "9 matching titles · showing 1–9" in caption_texts(loaded_app)
    titles = card_titles(loaded_app)
    assert len(titles) == 9
    assert titles[0] == "Little Sprouts"  # newest date_added first


def test_search_by_cast_member(loaded_app):
    loaded_app.text_input[0].input("ada quill").run()
    assert set(card_titles(loaded_app)[:2]) == {"The Paper Lantern", "Kitchen Wars"}  # cast of one, director of other


def test_search_without_matches_says_so(loaded_app):
    loaded_app.text_input[0].input("%_zzqx_%").run()
    assert "No title, cast member or director matches" in loaded_app.warning[0].value
    assert not card_titles(loaded_app)


def test_ten_thousand_character_search_is_cut_not_fatal(loaded_app, engine):
    long_query = "Paper Lantern" + " x" * 5_000
    loaded_app.text_input[0].set_value(long_query).run()
    assert not loaded_app.exception
    assert f"first {MAX_SEARCH_LENGTH} characters" in loaded_app.warning[0].value
    # Only the first MAX_SEARCH_LENGTH characters are searched for.
    assert search.browse(engine, search.Filters("Paper Lantern" + " " * 10_000)).total == 1
    assert search.browse(engine, search.Filters("q" * (MAX_SEARCH_LENGTH + 1) + "Paper Lantern")).total == 0
