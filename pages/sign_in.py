"""Sign in by email and password (throttled in the database)."""

import streamlit as st

from ui.refusals import attempt
from ui.session import sign_in, through_app
from ui.text import md

through_app()

_, middle, _ = st.columns([1, 2, 1])
with middle:
    st.title("Sign in")
    st.markdown("##### Unlimited films and series. Pick up where you left off.")
    with st.form("sign_in", clear_on_submit=False):
        email = st.text_input("Email", max_chars=254, autocomplete="email")
        password = st.text_input("Password", type="password", max_chars=200, autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        done, user = attempt(lambda: sign_in(email, password))
        if done:
            st.success(f"Welcome back, {md(user.display_name)}.")
    st.page_link("pages/forgot_password.py", label="Forgot your password?", icon=":material/help:")
    st.page_link("pages/register.py", label="New here? Create an account", icon=":material/person_add:")
