"""Ask for a password reset link. The answer is the same whether or not the address has an account."""

import streamlit as st

from backend.accounts import links, users
from ui.session import app_base_url, engine, through_app

through_app()

st.title("Reset your password")
with st.form("forgot_password"):
    email = st.text_input("Email", max_chars=users.MAX_EMAIL_LENGTH, autocomplete="email")
    submitted = st.form_submit_button("Email me a link", type="primary")
if submitted:
    links.request_password_reset(engine(), email, app_base_url())
    minutes = int(links.RESET_VALID.total_seconds() // 60)
    st.info(
        f"If an account uses that address, a link to choose a new password is on its way. "
        f"It works once, for {minutes} minutes."
    )
