"""The signed-in member's account: details, password, sign out."""

import streamlit as st

from backend import users
from pages.common import accounts_changed, engine, sign_out, through_app

through_app()

user: users.User = st.session_state["current_user"]
st.title("Account")
st.write(f"**{user.display_name}** · {user.email} · {user.role}")

with st.form("change_password", clear_on_submit=True):
    st.subheader("Change password")
    st.caption(f"{users.PASSWORD_POLICY} Every other session is signed out.")
    current = st.text_input("Current password", type="password", max_chars=200)
    new = st.text_input("New password", type="password", max_chars=200)
    if st.form_submit_button("Change password"):
        try:
            users.change_password(engine(), user.user_id, current, new)
        except users.AccountError as error:
            st.error(str(error))
        else:
            accounts_changed()
            sign_out()
            st.success("Password changed. Sign in again with the new password.")

left, right = st.columns(2)
if left.button("Sign out", type="primary"):
    sign_out()
    st.rerun()
if right.button("Sign out of all devices"):
    sign_out(everywhere=True)
    st.rerun()
