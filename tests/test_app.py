"""The Streamlit app, run headless with AppTest against a real (test) database."""

import pytest
from streamlit.testing.v1 import AppTest

import database
from backend import catalogue
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


def test_catalogue_counts_and_table(loaded_app):
    assert not loaded_app.exception
    assert "9 titles · 6 movies · 3 TV shows" in caption_texts(loaded_app)
    table = loaded_app.dataframe[0].value
    assert len(table) == 9
    assert table.iloc[0]["title"] == "Little Sprouts"  # newest date_added first


def test_search_by_cast_member(loaded_app):
    loaded_app.text_input[0].input("ada quill").run()
    titles = set(loaded_app.dataframe[0].value["title"])
    assert titles == {"The Paper Lantern", "Kitchen Wars"}  # cast of one, director of the other


def test_search_without_matches_says_so(loaded_app):
    loaded_app.text_input[0].input("%_nothing_%").run()
    assert "No title, cast member or director matches" in loaded_app.warning[0].value
    assert not loaded_app.dataframe


def test_ten_thousand_character_search_is_cut_not_fatal(loaded_app, engine):
    long_query = "Paper Lantern" + " x" * 5_000
    loaded_app.text_input[0].set_value(long_query).run()
    assert not loaded_app.exception
    assert "No title, cast member or director matches" in loaded_app.warning[0].value
    # Only the first MAX_SEARCH_LENGTH characters are searched for.
    assert catalogue.count_titles(engine, "Paper Lantern" + " " * 10_000) == 1
    assert catalogue.count_titles(engine, "x" * (catalogue.MAX_SEARCH_LENGTH + 1) + "Paper Lantern") == 0
