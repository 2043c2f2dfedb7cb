"""Create an account; it is signed in straight away."""

import streamlit as st

from backend.accounts import errors as account_errors
from backend.accounts import passwords, users
from ui.refusals import attempt
from ui.session import engine, sign_in, through_app
from ui.text import md

through_app()

_, middle, _ = st.columns([1, 2, 1])
middle.title("Create your account")
middle.markdown("##### Films, series and documentaries from around the world, on every screen.")
middle.caption(f"Password: {passwords.PASSWORD_POLICY}")
with middle.form("register"):
    name = st.text_input("Name", max_chars=users.MAX_NAME_LENGTH, autocomplete="name")
    email = st.text_input("Email", max_chars=users.MAX_EMAIL_LENGTH, autocomplete="email")
    password = st.text_input("Password", type="password", max_chars=200, autocomplete="new-password")
    again = st.text_input("Repeat the password", type="password", max_chars=200, autocomplete="new-password")
    submitted = st.form_submit_button("Create account", type="primary", width="stretch")
if submitted:

    def create_and_sign_in() -> users.User:
        if password != again:
            raise account_errors.AccountError("The two passwords differ.")
        created = users.register(engine(), email, name, password)
        sign_in(email, password)
        return created

    done, user = attempt(create_and_sign_in, where=middle)
    if done and user is not None:
        middle.success(f"Welcome to Reelhouse, {md(user.display_name)}! You are signed in.")
