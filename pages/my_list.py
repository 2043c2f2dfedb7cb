"""My List: the titles this profile saved for later, newest first, each removable."""

import streamlit as st

from backend.watching import library
from ui.discovery import BROWSE_PAGE, card_grid, md, viewer
from ui.session import engine, through_app

through_app()

who = viewer()
uid, pid = who.user.user_id, who.profile.profile_id
st.title("My List")
flash = st.session_state.pop("list_flash", None)
if flash:
    st.success(flash)


def remove_button(card) -> None:
    if st.button("Remove", key=f"list_remove_{card.show_id}", icon=":material/close:"):
        library.remove_from_list(engine(), uid, pid, card.show_id)
        st.session_state["list_flash"] = f"Removed “{md(card.title)}” from My List."
        st.rerun()


cards = library.my_list(engine(), uid, pid, allowed=who.allowed)
if not cards:
    st.info("Your list is empty. Add titles from their pages with **Add to My List**.")
    st.page_link(BROWSE_PAGE, label="Browse the catalogue", icon=":material/movie:")
    st.stop()
st.caption(f"{len(cards):,} titles saved by the {md(who.profile.name)} profile.")
card_grid(cards, who, columns=6, extra=remove_button)
