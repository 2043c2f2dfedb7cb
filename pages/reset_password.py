"""Choose a new password from an emailed link (?token=...)."""

import streamlit as st

from backend.accounts import errors as account_errors
from backend.accounts import links, passwords
from ui.refusals import attempt
from ui.session import engine, sign_out, through_app

through_app()

st.title("Choose a new password")
token = st.query_params.get("token", "")
if not token:
    st.error(links.INVALID_LINK)
    st.stop()
st.caption(passwords.PASSWORD_POLICY)
with st.form("reset_password"):
    new = st.text_input("New password", type="password", max_chars=200, autocomplete="new-password")
    again = st.text_input("Repeat the new password", type="password", max_chars=200, autocomplete="new-password")
    submitted = st.form_submit_button("Save password", type="primary")
if submitted:

    def reset() -> None:
        if new != again:
            raise account_errors.AccountError("The two passwords differ.")
        links.reset_password(engine(), token, new)

    done, _ = attempt(reset)
    if done:
        sign_out()
        st.success("Your password is changed and every session was signed out. Sign in with the new password.")
