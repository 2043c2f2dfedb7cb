"""Home for a signed-in member's profile: rows of titles, each with the reason it is there."""

import streamlit as st

from backend.watching import home
from backend.watching import progress as watch_progress
from ui.discovery import card_grid, md, open_deep_link, viewer
from ui.session import engine, through_app

through_app()
open_deep_link()

COLUMNS = 8

who = viewer()
st.title(f"Home · {md(who.profile.name)}")
flash = st.session_state.pop("home_flash", None)
if flash:
    st.success(flash)


def remove_button(card) -> None:
    if st.button(
        "Remove",
        key=f"cw_remove_{card.show_id}",
        icon=":material/close:",
        help="Remove from Continue Watching (your progress is kept)",
    ):
        watch_progress.remove_from_continue_watching(engine(), who.user.user_id, who.profile.profile_id, card.title_id)
        st.session_state["home_flash"] = f"Removed “{md(card.title)}” from Continue Watching."
        st.rerun()


rows = home.home_rows(engine(), who.user.user_id, who.profile, length=COLUMNS)
for row in rows:
    st.subheader(md(row.title), anchor=False)
    st.caption(md(row.caption))
    card_grid(
        row.cards,
        who,
        columns=10 if row.ranked else COLUMNS,
        notes=row.notes,
        progress=row.progress,
        ranked=row.ranked,
        extra=remove_button if row.removable else None,
    )
