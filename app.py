"""Streamlit entry point: `streamlit run app.py` (or `make run`).

Each run: one authenticator, the signed-in account re-checked against the database, and the
navigation built for that account's role. Pages only draw widgets and call `backend/`.
"""

import streamlit as st

from backend.core.settings import SettingsError, get_settings
from ui import faults
from ui.session import active_profile, billing_scheduler, current_user, start_authenticator


def page(path: str, title: str, icon: str, url_path: str, **options) -> st.Page:
    return st.Page(f"pages/{path}", title=title, icon=f":material/{icon}:", url_path=url_path, **options)


st.set_page_config(page_title="Reelhouse", page_icon="🎬", layout="wide")
st.logo("assets/wordmark.svg", size="large")
try:
    get_settings()
except SettingsError as refused:  # an operator's mistake: say which setting, and serve nothing else
    st.error(str(refused))
    st.stop()

try:  # the database is asked who is signed in: an outage or a fault is shown, never a traceback
    billing_scheduler()
    start_authenticator()
    user = current_user()
    if user is not None:
        active_profile(user)
except Exception as fault:
    faults.show(fault)
st.session_state["current_user"] = user

browse = page("browse.py", "Browse", "movie", "browse", default=user is None)
title = page("title.py", "Title", "movie_info", "title", visibility="hidden")  # ?title=s123, guests too
plans = page("plans.py", "Plans", "sell", "plans")
watch = page("watch.py", "Watch", "play_circle", "watch", visibility="hidden")  # opened from a title's Play
# Opened from emailed links, signed in or not; not in the menu.
from_links = [
    page("reset_password.py", "Reset password", "lock_reset", "reset-password", visibility="hidden"),
    page("confirm_email.py", "Confirm email", "mark_email_read", "confirm-email", visibility="hidden"),
]
if user is None:
    pages = {
        "": [
            browse,
            plans,
            title,
            page("sign_in.py", "Sign in", "login", "sign-in"),
            page("register.py", "Create account", "person_add", "register"),
            page("forgot_password.py", "Forgot password", "help", "forgot-password", visibility="hidden"),
            watch,
            *from_links,
        ]
    }
else:
    pages = {
        "": [
            page("home.py", "Home", "home", "home", default=True),
            browse,
            page("my_list.py", "My List", "bookmark", "my-list"),
            title,
            plans,
            page("subscription.py", "Subscription", "credit_card", "subscription"),
            page("profiles.py", "Profiles", "group", "profiles"),
            page("account.py", "Account", "settings", "account"),
            watch,
            *from_links,
        ]
    }
    if user.is_staff:  # every admin page also checks the role on the server (backend/admin.py, dataops.py)
        pages["Admin"] = [page("admin.py", "Accounts overview", "monitoring", "admin")]
        if user.role == "admin":
            pages["Admin"] += [
                page("admin_plans.py", "Manage plans", "sell", "admin-plans"),
                page("admin_content.py", "Manage catalogue", "video_library", "admin-content"),
                page("admin_users.py", "Manage users", "manage_accounts", "admin-users"),
                page("admin_audit.py", "Audit log", "history", "admin-audit"),
            ]
        pages["Admin"].append(page("data_ops.py", "Data operations", "database", "data-ops"))
    if user.role in ("admin", "analyst"):  # each dashboard also checks the role on the server
        pages["Analytics"] = [
            page("dashboards/overview.py", "Overview", "dashboard", "analytics-overview"),
            page("dashboards/revenue.py", "Revenue", "payments", "analytics-revenue"),
            page("dashboards/churn.py", "Churn & retention", "person_remove", "analytics-churn"),
            page("dashboards/engagement.py", "Engagement", "play_circle", "analytics-engagement"),
            page("dashboards/content.py", "Content", "video_library", "analytics-content"),
            page("dashboards/acquisition.py", "Acquisition", "campaign", "analytics-acquisition"),
        ]
faults.run_page(st.navigation(pages))
