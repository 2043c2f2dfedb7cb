"""Admin overview of accounts. The role is checked in the backend on every run, not by the menu."""

import streamlit as st

from backend.accounts import users
from backend.core import errors as core_errors
from ui.session import engine, through_app

through_app()

st.title("Accounts overview")
try:
    counts = users.accounts_by_role(engine(), acting_user_id=st.session_state.get("user_id"))
except core_errors.NotAuthorised as error:
    st.error(str(error))
    st.stop()
st.dataframe(counts, hide_index=True)
