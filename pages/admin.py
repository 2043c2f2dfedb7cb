"""Admin overview of accounts. The role is checked in the backend on every run, not by the menu."""

import streamlit as st

from backend.accounts import users
from ui.refusals import allowed
from ui.session import engine, through_app

through_app()

st.title("Accounts overview")
counts = allowed(lambda: users.accounts_by_role(engine(), acting_user_id=st.session_state.get("user_id")))
st.dataframe(counts, hide_index=True)
