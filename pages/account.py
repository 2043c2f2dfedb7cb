"""The signed-in member's account: profile details, picture, email, password, notification settings, sign out."""

from datetime import UTC, datetime

import streamlit as st

from backend.accounts import details, links, passwords, sessions, users
from backend.notify import preferences
from ui.refusals import attempt
from ui.session import app_base_url, engine, sign_in, sign_out, through_app
from ui.text import md

through_app()

user: users.User = st.session_state["current_user"]
st.title("Account")
current = details.details(engine(), user.user_id)

left, right = st.columns([1, 3])
with left:
    picture = details.avatar(engine(), user.user_id) if current.has_avatar else None
    if picture:
        st.image(picture, width=140)
    else:
        st.markdown("## :material/account_circle:")
    upload = st.file_uploader(
        "Picture (PNG, JPEG or WebP, at most 1 MB)", type=["png", "jpg", "jpeg", "webp"], key="avatar_upload"
    )
    if upload is not None and st.button("Use this picture"):
        done, _ = attempt(lambda: details.set_avatar(engine(), user.user_id, upload.getvalue()))
        if done:
            st.rerun()

with right, st.form("details"):
    st.subheader("Profile")
    name = st.text_input("Name", value=current.display_name, max_chars=users.MAX_NAME_LENGTH)
    bio = st.text_area("Bio", value=current.bio, max_chars=details.MAX_BIO_LENGTH)
    phone = st.text_input(
        "Phone",
        value=current.phone_e164 or "",
        max_chars=40,
        help="With its country code, e.g. +44 20 7946 0958. Stored as +442079460958.",
    )
    if st.form_submit_button("Save profile", type="primary"):
        done, saved = attempt(lambda: details.update_details(engine(), user.user_id, name=name, bio=bio, phone=phone))
        if done:
            current = saved
            st.success("Profile saved.")
st.caption(f"Signed in as {md(current.email)} · {user.role}")
if current.bio:
    st.text(current.bio)  # shown as typed, never as markup

with st.form("change_email", clear_on_submit=True):
    st.subheader("Change email")
    new_email = st.text_input("New email address", max_chars=users.MAX_EMAIL_LENGTH)
    password = st.text_input("Your password", type="password", max_chars=200)
    if st.form_submit_button("Send a confirmation link"):
        done, _ = attempt(
            lambda: links.request_email_change(engine(), user.user_id, new_email, password, app_base_url())
        )
        if done:
            st.info("We sent a link to the new address. The change happens when it is opened (within 24 hours).")

with st.form("change_password", clear_on_submit=True):
    st.subheader("Change password")
    st.caption(f"{passwords.PASSWORD_POLICY} Your other sessions are signed out.")
    current_password = st.text_input("Current password", type="password", max_chars=200)
    new_password = st.text_input("New password", type="password", max_chars=200)
    if st.form_submit_button("Change password"):
        done, _ = attempt(lambda: sessions.change_password(engine(), user.user_id, current_password, new_password))
        if done:
            sign_in(user.email, new_password)  # a fresh cookie for this session; older ones stop working
            st.success("Password changed. Your other sessions are signed out.")

saved_choices = preferences.preferences(engine(), user.user_id)
genres = preferences.genre_names(engine())
with st.form("notification_settings"):
    st.subheader("Notifications")
    st.caption(
        "Receipts, failed payments and the end of a subscription always reach you, in the app and by email. "
        "These notes are up to you."
    )
    reminders = st.checkbox(
        "Reminders 3 days before a renewal, the end of a free trial, or the end of a cancelled subscription",
        value=saved_choices.reminders,
    )
    new_titles = st.checkbox("A weekly note of new titles in my genres", value=saved_choices.new_titles)
    followed = st.multiselect(
        "My genres for the new-titles note",
        list(genres),
        default=[g for g in saved_choices.genre_ids if g in genres],
        format_func=genres.get,
        max_selections=preferences.MAX_GENRES,
        placeholder="None chosen: the 3 genres I watch most",
    )
    by_email = st.checkbox("Send these notes by email too", value=saved_choices.email)
    if st.form_submit_button("Save notification settings"):
        done, _ = attempt(
            lambda: preferences.save(
                engine(),
                user.user_id,
                reminders=reminders,
                new_titles=new_titles,
                email=by_email,
                genre_ids=followed,
                now=datetime.now(UTC),
            )
        )
        if done:
            st.success("Notification settings saved.")

out, everywhere = st.columns(2)
if out.button("Sign out", type="primary"):
    sign_out()
    st.rerun()
if everywhere.button("Sign out of all devices"):
    sign_out(everywhere=True)
    st.rerun()
