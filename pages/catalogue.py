"""The catalogue: how many titles there are, and a searchable, paged table of them."""

import math

import streamlit as st

import database
from backend import catalogue
from pages.common import engine, through_app

through_app()

PAGE_SIZE = 50


@st.cache_data(ttl=60, show_spinner=False)
def counts() -> dict[str, int]:
    return catalogue.catalogue_counts(engine())


@st.cache_data(ttl=60, show_spinner=False)
def matches(query: str) -> int:
    return catalogue.count_titles(engine(), query)


@st.cache_data(ttl=60, show_spinner=False)
def page_of_titles(query: str, page: int):
    return catalogue.search_titles(engine(), query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)


st.title("Browse")
totals = counts()
if not totals["titles"]:
    st.info(catalogue.how_to_load_the_catalogue(database.DATA_DIR) + " Then run `make run` again.")
    st.stop()

st.caption(f"{totals['titles']:,} titles · {totals['movies']:,} movies · {totals['tv_shows']:,} TV shows")
query = st.text_input(
    "Search titles, cast or directors", max_chars=catalogue.MAX_SEARCH_LENGTH, placeholder="e.g. Kota Factory"
)
found = matches(query)
if not found:
    st.warning(f"No title, cast member or director matches “{query}”.")
    st.stop()

pages = math.ceil(found / PAGE_SIZE)
page = st.number_input("Page", min_value=1, max_value=pages, value=1, step=1) if pages > 1 else 1
first = (page - 1) * PAGE_SIZE + 1
st.caption(f"{found:,} matching titles · showing {first:,}–{min(page * PAGE_SIZE, found):,}")
st.dataframe(
    page_of_titles(query, page),
    hide_index=True,
    width="stretch",
    column_config={
        "show_id": st.column_config.TextColumn("ID", width="small"),
        "title": st.column_config.TextColumn("Title", width="large"),
        "type": st.column_config.TextColumn("Type"),
        "rating": st.column_config.TextColumn("Rating"),
        "duration": st.column_config.TextColumn("Duration"),
        "genres": st.column_config.TextColumn("Genres", width="large"),
        "release_year": st.column_config.NumberColumn("Year", format="%d"),
        "date_added": st.column_config.DateColumn("Added"),
        "access_level": st.column_config.TextColumn("Access"),
    },
)
