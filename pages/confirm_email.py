"""Confirm a new email address from an emailed link (?token=...)."""

import streamlit as st

from backend.accounts import errors as account_errors
from backend.accounts import links
from ui.session import engine, sign_out, through_app
from ui.text import md

through_app()

st.title("Confirm your new email address")
token = st.query_params.get("token", "")
outcomes = st.session_state.setdefault("confirmed_links", {})  # a link works once; reruns show its outcome
if token not in outcomes:
    try:
        user = links.confirm_email_change(engine(), token)
    except account_errors.AccountError as error:
        outcomes[token] = ("error", str(error))
    else:
        sign_out()
        outcomes[token] = ("success", f"Your account now uses {user.email}. Sign in with it.")
kind, message = outcomes[token]
st.error(md(message)) if kind == "error" else st.success(md(message))
