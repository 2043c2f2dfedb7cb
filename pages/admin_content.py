"""Admin: the catalogue. Find a title, edit it, take it out or bring it back; add a title."""

import streamlit as st

from backend.admin import checks as admin_checks
from backend.admin import content
from backend.admin.content import TitleInput
from backend.admin.plans import ACCESS_LEVELS
from ui.admin import acting_user_id, attempt, show_flash
from ui.refusals import allowed
from ui.session import engine, through_app

through_app()

st.title("Content")
allowed(lambda: admin_checks.require_admin(engine(), acting_user_id()))
genres = content.genre_names(engine())
show_flash()
st.caption(
    "Edits and (de)activations are kept when the catalogue ETL runs again, unless the run is asked to "
    "overwrite edits (Data operations). Titles are never deleted: viewing history points at them."
)
RATINGS = ("", *content.MATURITY_RATINGS)


def title_form(key: str, title: dict, submit: str, *, new: bool) -> TitleInput | None:
    """The title's fields, prefilled from `title`; the entered values when submitted."""
    with st.form(key):
        name = st.text_input("Title", value=title.get("title", ""), max_chars=content.MAX_TITLE, key=f"{key}_title")
        kind = st.selectbox(
            "Type",
            tuple(content.KINDS),
            format_func=content.KINDS.get,
            disabled=not new,
            index=tuple(content.KINDS).index(title.get("kind", "movie")),
            key=f"{key}_kind",
        )
        description = st.text_area(
            "Description",
            value=title.get("description", ""),
            max_chars=content.MAX_DESCRIPTION,
            key=f"{key}_description",
        )
        left, middle, right = st.columns(3)
        year = left.number_input("Release year", value=title.get("release_year") or 2025, step=1, key=f"{key}_year")
        rating = middle.selectbox(
            "Maturity rating",
            RATINGS,
            index=RATINGS.index(title.get("maturity_rating") or ""),
            format_func=lambda r: r or "Not rated",
            key=f"{key}_rating",
        )
        access = right.selectbox(
            "Access level",
            ACCESS_LEVELS,
            key=f"{key}_access",
            index=ACCESS_LEVELS.index(title.get("access_level", "basic")),
            help="basic: on every plan; premium: on premium plans only.",
        )
        left, right = st.columns(2)
        minutes = left.number_input(
            "Running time (minutes, films)", value=title.get("duration_minutes"), step=1, key=f"{key}_minutes"
        )
        seasons = right.number_input("Seasons (series)", value=title.get("seasons"), step=1, key=f"{key}_seasons")
        chosen = st.multiselect(
            "Genres",
            sorted({*genres, *title.get("genres", [])}),
            default=title.get("genres", []),
            accept_new_options=True,
            help="Pick genres, or type a new one and press Enter.",
            key=f"{key}_genres",
        )
        if not st.form_submit_button(submit, type="primary", key=f"{key}_submit"):
            return None
    return TitleInput(name, kind, description, year, rating, access, minutes, seasons, chosen)


find, add = st.tabs(["Find and edit", "Add a title"])
with find:
    left, right = st.columns([3, 1])
    query = left.text_input("Search titles", placeholder="Title or show id (s123)", max_chars=200)
    status = right.selectbox("Show", ("all", "active", "inactive", "edited"))
    found = allowed(lambda: content.find_titles(engine(), query, status=status, acting_user_id=acting_user_id()))
    if not found:
        st.info("No titles match.")
    else:
        st.dataframe(
            [
                {
                    "show id": t["show_id"],
                    "title": t["title"],
                    "type": content.KINDS[t["kind"]],
                    "year": t["release_year"],
                    "rating": t["maturity_rating"],
                    "access": t["access_level"],
                    "active": t["is_active"],
                    "edited": t["edited_at"] is not None,
                }
                for t in found
            ],
            hide_index=True,
            width="stretch",
        )
        labels = {t["title_id"]: f"{t['title']} ({t['show_id']})" for t in found}
        title_id = st.selectbox("Title to edit", labels, format_func=labels.get, key="edit_title_id")
        title = content.get_title(engine(), title_id, acting_user_id=acting_user_id())
        if title["edited_at"]:
            st.caption(f"Edited in the app on {title['edited_at']:%Y-%m-%d %H:%M} UTC: kept by ETL runs.")
        entered = title_form(f"edit_title_{title_id}", title, "Save title", new=False)
        if entered:
            attempt(
                lambda: content.update_title(engine(), title_id, entered, acting_user_id=acting_user_id()),
                f"{entered.title.strip()} saved.",
            )
        if title["is_active"]:
            if st.button("Deactivate title", key="deactivate_title"):
                attempt(
                    lambda: content.set_title_active(engine(), title_id, False, acting_user_id=acting_user_id()),
                    f"{title['title']} is out of the catalogue.",
                )
        elif st.button("Reactivate title", key="activate_title"):
            attempt(
                lambda: content.set_title_active(engine(), title_id, True, acting_user_id=acting_user_id()),
                f"{title['title']} is back in the catalogue.",
            )

with add:
    entered = title_form("add_title", {}, "Add title", new=True)
    if entered:
        attempt(
            lambda: content.create_title(engine(), entered, acting_user_id=acting_user_id()),
            f"{entered.title.strip()} added to the catalogue.",
        )
