"""Browse, title, Home and My List pages through AppTest on a real (test) database: guests and members,
search and its limits, deep links, My List and ratings from the title page, escaped reviews, and a Kids
profile that never sees adult titles."""

from __future__ import annotations

import pytest

from backend.watching import library, recommend
from etl.load_catalogue import load_catalogue
from tests.conftest import app_as
from tests.discovery_fixtures import DISCOVERY_CSV, member, title_id
from ui.discovery import md

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
KIDS_TITLES = {
    md(t) for t in ("Kids Paradise", "Little Dragon Tales", "Dragon Academy", "Galaxy Kids", "Under_score Story")
}


@pytest.fixture
def loaded(engine):
    load_catalogue(engine, DISCOVERY_CSV)
    recommend.forget_models()
    yield engine
    recommend.forget_models()


def links(at) -> list[str]:
    """Labels of the page links drawn in the main area (title cards, people, genres)."""
    return [el.proto.label for el in at.main.get("page_link")]


def open_title(at, show_id: str):
    at.query_params["title"] = show_id
    return at.switch_page("pages/title.py").run()


def go(at, page: str):
    """Open a page from the menu (which carries no query parameters)."""
    for key in list(at.query_params):
        del at.query_params[key]
    return at.switch_page(page).run()


def texts(at, kind: str) -> list[str]:
    return [el.value for el in getattr(at, kind)]


def test_guest_browses_and_searches_with_typos(loaded):
    at = app_as(None)
    assert not at.exception
    assert "16 titles · 12 films · 4 series" in texts(at, "caption")
    assert "16 matching titles · showing 1–16" in texts(at, "caption")
    at.text_input(key="browse_query").input("strangr lantrns").run()
    assert links(at)[0] == "Stranger Lanterns"
    at.text_input(key="browse_query").input("%").run()
    assert "No title, cast member or director matches" in at.warning[0].value


def test_ten_thousand_character_search_says_it_was_cut(loaded):
    at = app_as(None)
    at.text_input(key="browse_query").set_value("Kota Workshop" + " x" * 5_000).run()
    assert not at.exception
    assert "cut to its first 200 characters" in at.warning[0].value


def test_filters_narrow_the_grid(loaded):
    at = app_as(None)
    at.multiselect(key="browse_genres").set_value(["Horror Movies"]).run()
    assert set(links(at)) == {"Night Terrors", "Blood Harvest", "Dark Signals"}
    at.selectbox(key="browse_sort").set_value("title").run()
    assert links(at) == ["Blood Harvest", "Dark Signals", "Night Terrors"]


def test_deep_link_opens_the_title_page_for_guests(loaded):
    at = open_title(app_as(None), "d1")
    assert not at.exception
    assert at.title[0].value == "Stranger Lanterns"
    buttons = [b.label for b in at.button]
    assert "Play trailer" in buttons and "Play" not in buttons and "Add to My List" not in buttons
    assert {"Wren Ryland", "Dax Harlow", "TV Horror"} <= set(links(at))
    assert "Beyond Stranger Lanterns" in links(at)  # more like this


def test_unknown_title_says_so(loaded):
    at = open_title(app_as(None), "nope<script>")
    assert "There is no title" in at.error[0].value and "\\<script\\>" in at.error[0].value


def test_member_adds_to_list_rates_and_sees_it_on_home(loaded):
    user, adult, _ = member(loaded)
    at = app_as(user)
    assert at.title[0].value.startswith("Home")
    at = open_title(at, "d3")
    next(b for b in at.button if b.label == "Add to My List").click().run()
    assert library.in_list(loaded, user.user_id, adult.profile_id, title_id(loaded, "d3"))
    assert "Added to My List." in texts(at, "success")
    at.segmented_control(key="rate_score").set_value(2)
    at.text_area(key="rate_review").input("*Loved* it <b>so</b> much :smile:")
    next(b for b in at.button if "rating" in b.label).click().run()
    rating = library.my_rating(loaded, user.user_id, adult.profile_id, title_id(loaded, "d3"))
    assert (rating.score, rating.review) == (2, "*Loved* it <b>so</b> much :smile:")
    shown = [m.value for m in at.markdown if "Loved" in m.value]
    assert shown == ["\\*Loved\\* it \\<b\\>so\\</b\\> much \\:smile:"]  # escaped, never markup
    go(at, "pages/home.py")
    assert "The Stranger" in links(at) and "My List" in [h.value for h in at.subheader]
    go(at, "pages/my_list.py")
    assert links(at) == ["The Stranger"]
    at.button(key="list_remove_d3").click().run()
    assert not library.in_list(loaded, user.user_id, adult.profile_id, title_id(loaded, "d3"))


def test_review_box_is_length_limited_and_a_rating_needs_a_choice(loaded):
    user, adult, _ = member(loaded)
    at = open_title(app_as(user), "d4")
    assert at.text_area(key="rate_review").max_chars == library.MAX_REVIEW_LENGTH  # the backend refuses more
    at.text_area(key="rate_review").input("No thumbs chosen")
    next(b for b in at.button if "rating" in b.label).click().run()
    assert "Choose thumbs down, thumbs up or love." in at.error[0].value
    assert at.text_area(key="rate_review").value == "No thumbs chosen"  # nothing typed is lost
    assert library.my_rating(loaded, user.user_id, adult.profile_id, title_id(loaded, "d4")) is None


def test_kids_profile_never_sees_adult_titles(loaded):
    user, _, kids = member(loaded)
    at = app_as(user)
    at.sidebar.selectbox(key="profile_id").set_value(kids.profile_id).run()
    go(at, "pages/browse.py")
    assert "Showing titles for the Kids profile" in at.info[0].value
    assert set(links(at)) == KIDS_TITLES
    at = open_title(at, "d9")
    assert "not available for the Kids profile" in at.warning[0].value
    assert "Night Terrors" not in [t.value for t in at.title]
    go(at, "pages/home.py")
    assert not at.exception
    assert links(at) and set(links(at)) <= KIDS_TITLES
