"""Viewing profiles: up to five per account, Kids profiles see kids' titles only."""

import streamlit as st

from backend.accounts import profiles as viewing_profiles
from backend.accounts import users
from ui.refusals import attempt
from ui.session import engine, switch_profile, through_app

through_app()

user: users.User = st.session_state["current_user"]
st.title("Who's watching?")
profiles = viewing_profiles.list_profiles(engine(), user.user_id)
for column, profile in zip(st.columns(viewing_profiles.MAX_PROFILES), profiles, strict=False):
    column.markdown(f"## {':material/child_care:' if profile.is_kids else ':material/account_circle:'}")
    column.text(profile.name + (" · Kids" if profile.is_kids else ""))

if len(profiles) < viewing_profiles.MAX_PROFILES:
    with st.form("new_profile", clear_on_submit=True):
        st.subheader("Add a profile")
        name = st.text_input("Profile name", max_chars=30)
        is_kids = st.checkbox("Kids profile (only titles rated for kids and older kids)")
        if st.form_submit_button("Add profile"):
            done, created = attempt(
                lambda: viewing_profiles.create_profile(engine(), user.user_id, name, is_kids=is_kids)
            )
            if done:
                switch_profile(created.profile_id)
                st.rerun()
else:
    st.caption(f"An account has at most {viewing_profiles.MAX_PROFILES} profiles.")
