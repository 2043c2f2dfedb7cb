"""Browse on real PostgreSQL: typo-tolerant trigram search over titles and people, ranking, wildcards and
over-long input, every filter, sort, pages, the maturity cap, title details and episodes."""

from __future__ import annotations

import pytest

import database
from backend.accounts.profiles import Profile
from backend.catalogue import cards as title_cards
from backend.catalogue import search
from backend.catalogue import titles as catalogue_titles
from backend.catalogue.rules import MAX_SEARCH_LENGTH
from backend.catalogue.search import Filters
from etl.load_catalogue import load_catalogue
from tests.discovery_fixtures import DISCOVERY_CSV

KIDS = Profile(1, "Kids", True, "older_kids")
ADULT = Profile(2, "Dana", False, None)


@pytest.fixture(scope="module")
def engine(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, DISCOVERY_CSV)
    yield engine
    database.dispose_engines()


def titles(engine, allowed=None, page_size=50, **filters) -> list[str]:
    return [c.title for c in search.browse(engine, Filters(**filters), allowed=allowed, page_size=page_size).cards]


def test_exact_title_first_then_prefix_then_substring(engine):
    assert titles(engine, query="stranger lanterns")[:2] == ["Stranger Lanterns", "Beyond Stranger Lanterns"]
    found = titles(engine, query="Stranger")
    assert found[0] == "The Stranger" or found[0] == "Stranger Lanterns"
    assert found.index("Stranger Lanterns") < found.index("Beyond Stranger Lanterns")  # prefix before substring


def test_typos_still_find_the_title(engine):
    assert titles(engine, query="strangr lantrns")[0] == "Stranger Lanterns"
    assert titles(engine, query="kota workshp") == ["Kota Workshop"]
    assert "Crown Hollow" in titles(engine, query="crwn hollw")


def test_search_covers_cast_and_directors_with_typos(engine):
    assert set(titles(engine, query="wren ryland")) == {"Stranger Lanterns", "Night Terrors"}
    assert set(titles(engine, query="Ada Quill")) == {"The Stranger", "Blood Harvest"}
    assert set(titles(engine, query="wren rylnd")) >= {"Stranger Lanterns", "Night Terrors"}


def test_like_wildcards_are_literal(engine):
    assert titles(engine, query="%") == []
    assert titles(engine, query="100%") == ["100% Homemade"]
    assert titles(engine, query="_") == [] and titles(engine, query="__") == []  # "_" is not "any character"
    assert titles(engine, query="under_")[0] == "Under_score Story"  # before the near match "Tess Underwood"


def test_short_queries_match_title_starts_only(engine):
    assert set(titles(engine, query="da")) == {"Dark Signals"}
    assert "Dragon Academy" in titles(engine, query="d")
    assert "Little Dragon Tales" in titles(engine, query="dr")  # a word of the title starts with it


def test_ten_thousand_characters_are_cut_with_a_note(engine):
    results = search.browse(engine, Filters(query="Kota Workshop" + " x" * 5_000))
    assert results.truncated and len(results.query) <= MAX_SEARCH_LENGTH
    assert str(MAX_SEARCH_LENGTH) in results.notes[0]
    assert search.browse(engine, Filters(query="kota\x00workshop")).total == 1  # a NUL is not an error


def test_filters(engine):
    assert set(titles(engine, kinds=("tv_show",))) == {
        "Stranger Lanterns",
        "Beyond Stranger Lanterns",
        "Dragon Academy",
        "Kota Workshop",
    }
    assert set(titles(engine, genres=("Horror Movies",))) == {"Night Terrors", "Blood Harvest", "Dark Signals"}
    assert set(titles(engine, countries=("India", "Indonesia"))) == {"Kota Workshop", "100% Homemade"}
    assert set(titles(engine, year_from=2020, year_to=2020)) == {"Strange Weather Again", "100% Homemade"}
    assert set(titles(engine, audiences=("kids",))) == {"Kids Paradise", "Galaxy Kids"}
    assert set(titles(engine, access_levels=("premium",))) == {
        "Strange Weather Again",
        "100% Homemade",
        "Kids Paradise",
        "Kota Workshop",
        "Galaxy Kids",
    }
    assert set(titles(engine, person="Oli Park")) == {"Little Dragon Tales", "Dragon Academy", "Galaxy Kids"}
    assert titles(engine, query="dragon", kinds=("movie",)) == ["Little Dragon Tales"]


def test_sorts_and_pages(engine):
    assert titles(engine, sort="title")[:3] == ["100% Homemade", "Beyond Stranger Lanterns", "Blood Harvest"]
    years = [c.release_year for c in search.browse(engine, Filters(sort="release_asc"), page_size=50).cards]
    assert years == sorted(years)
    assert titles(engine, sort="newest")[0] == "Galaxy Kids"  # added December 2021
    first = search.browse(engine, Filters(sort="title"), page_size=5)
    second = search.browse(engine, Filters(sort="title"), page=2, page_size=5)
    assert (first.total, first.pages, len(first.cards)) == (16, 4, 5)
    assert not {c.show_id for c in first.cards} & {c.show_id for c in second.cards}
    past_the_end = search.browse(engine, Filters(sort="title"), page=99, page_size=5)
    assert past_the_end.page == 1 and past_the_end.cards == first.cards


def test_kids_profile_sees_only_kids_titles(engine):
    allowed = title_cards.allowed_audiences(KIDS)
    assert allowed == ("kids", "older_kids")
    assert title_cards.allowed_audiences(ADULT) is None
    assert title_cards.allowed_audiences(Profile(3, "Teen", False, "teens")) == ("kids", "older_kids", "teens")
    assert (
        title_cards.allowed_audiences(Profile(4, "Adult", False, "adults")) == title_cards.AUDIENCE_ORDER
    )  # no unrated
    seen = search.browse(engine, Filters(), allowed=allowed, page_size=50).cards
    assert {c.audience for c in seen} <= {"kids", "older_kids"} and len(seen) == 5
    assert titles(engine, allowed, query="night terrors") == []
    assert titles(engine, allowed, query="wren ryland") == []


def test_title_details_and_episodes(engine):
    details, exists = catalogue_titles.find_title(engine, "d1")
    assert exists and details.card.title == "Stranger Lanterns"
    assert details.cast[:2] == ("Wren Ryland", "Dax Harlow") and details.directors == ()
    assert details.card.genres == ("TV Horror", "TV Sci-Fi & Fantasy")
    assert not title_cards.visible_to(details.card, ("kids", "older_kids"))
    seasons = catalogue_titles.episodes(engine, details.card.title_id)
    assert sorted(seasons) == [1, 2, 3] and all(6 <= len(eps) <= 12 for eps in seasons.values())
    assert catalogue_titles.find_title(engine, "nope") == (None, False)
    assert catalogue_titles.find_title(engine, "x" * 10_000) == (None, False)


def test_facets(engine):
    facets = search.facets(engine)
    assert "Horror Movies" in facets.genres and facets.genres == sorted(facets.genres)
    assert facets.countries[0] == "United States"
    assert (facets.year_min, facets.year_max) == (2013, 2021)
