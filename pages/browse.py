"""Browse: typo-tolerant search over titles, cast and directors; filters, sort and pages of title cards.

Deep links: `?q=` (search), `?person=` (a cast member or director, from a title page), `?genre=`, and
`?title=s123` (opens that title)."""

import streamlit as st

from backend.catalogue import cards as title_cards
from backend.catalogue import rules as catalogue_rules
from backend.catalogue import search
from ui.discovery import card_grid, md, open_deep_link, viewer
from ui.session import engine, through_app

through_app()
open_deep_link()

PAGE_SIZE = 24
COLUMNS = 6


@st.cache_data(ttl=300, show_spinner=False)
def facets() -> search.Facets:
    return search.facets(engine())


@st.cache_data(ttl=60, show_spinner=False)
def counts() -> dict[str, int]:
    return catalogue_rules.catalogue_counts(engine())


def from_link(key: str, param: str, convert=lambda v: v) -> None:
    """A query parameter seeds its widget once (the widget owns the value after that)."""
    value = st.query_params.get(param)
    if value and st.session_state.get(f"_link_{param}") != value:
        st.session_state[key] = convert(value)
        st.session_state[f"_link_{param}"] = value


who = viewer()
st.title("Browse")
totals = counts()
if not totals["titles"]:
    st.info(catalogue_rules.how_to_load_the_catalogue() + " Then run `make run` again.")
    st.stop()
st.caption(f"{totals['titles']:,} titles · {totals['movies']:,} films · {totals['tv_shows']:,} series")
if who.allowed is not None:
    st.info(
        f"Showing titles for the {md(who.profile.name)} profile: "
        f"{md(', '.join(title_cards.AUDIENCE_LABELS[a] for a in who.allowed))}.",
        icon=":material/child_care:",
    )

options = facets()
from_link("browse_query", "q")
from_link("browse_genres", "genre", lambda g: [g] if g in options.genres else [])
person = st.query_params.get("person")
if person:
    left, right = st.columns([5, 1])
    left.markdown(f"Titles with **{md(person)}**")
    if right.button("Show all titles", icon=":material/close:"):
        del st.query_params["person"]
        st.rerun()

query = st.text_input("Search titles, cast or directors", key="browse_query", placeholder="e.g. Kota Factory")
with st.expander("Filters and sort", expanded=False, icon=":material/tune:"):
    a, b, c = st.columns(3)
    kinds = a.pills(
        "Type",
        list(title_cards.KIND_LABELS),
        selection_mode="multi",
        format_func=title_cards.KIND_LABELS.get,
        key="browse_kinds",
    )
    genres = b.multiselect("Genre", options.genres, key="browse_genres")
    countries = c.multiselect("Country", options.countries, key="browse_countries")
    a, b, c = st.columns(3)
    years = a.slider(
        "Release year", options.year_min, options.year_max, (options.year_min, options.year_max), key="browse_years"
    )
    audiences = b.multiselect(
        "Maturity",
        list(who.allowed or title_cards.AUDIENCE_LABELS),
        format_func=title_cards.AUDIENCE_LABELS.get,
        key="browse_audiences",
    )
    access = c.pills(
        "Access level",
        list(title_cards.ACCESS_LABELS),
        selection_mode="multi",
        format_func=title_cards.ACCESS_LABELS.get,
        key="browse_access",
    )
    sort = st.selectbox("Sort by", list(search.SORTS), format_func=search.SORT_LABELS.get, key="browse_sort")

filters = search.Filters(
    query=query,
    kinds=tuple(kinds or ()),
    genres=tuple(genres),
    countries=tuple(countries),
    year_from=years[0] if years[0] > options.year_min else None,
    year_to=years[1] if years[1] < options.year_max else None,
    audiences=tuple(audiences),
    access_levels=tuple(access or ()),
    person=person or None,
    sort=sort,
)
if st.session_state.get("browse_filters") != filters:  # new search or filters: back to page 1
    st.session_state["browse_filters"] = filters
    st.session_state["browse_page"] = 1

results = search.browse(
    engine(), filters, allowed=who.allowed, page=st.session_state["browse_page"], page_size=PAGE_SIZE
)
for note in results.notes:
    st.warning(note)
if not results.total:
    st.warning(
        f"No title, cast member or director matches “{md(results.query)}”."
        if results.query
        else "No titles match these filters."
    )
    st.stop()

first = (results.page - 1) * PAGE_SIZE + 1
st.caption(f"{results.total:,} matching titles · showing {first:,}–{first + len(results.cards) - 1:,}")
card_grid(results.cards, who, columns=COLUMNS)

if results.pages > 1:
    prev, label, nxt = st.columns([1, 2, 1])
    if prev.button("Previous", icon=":material/chevron_left:", disabled=results.page <= 1, width="stretch"):
        st.session_state["browse_page"] = results.page - 1
        st.rerun()
    label.caption(f"Page {results.page:,} of {results.pages:,}")
    if nxt.button("Next", icon=":material/chevron_right:", disabled=results.page >= results.pages, width="stretch"):
        st.session_state["browse_page"] = results.page + 1
        st.rerun()
