"""Admin: accounts. Search, one subscriber's subscription, billing and viewing; change role; suspend, restore."""

import streamlit as st

from backend.accounts import users
from backend.admin import accounts as account_admin
from backend.core.money import format_amount
from ui.admin import acting_user_id, attempt, show_flash
from ui.refusals import allowed
from ui.session import engine, through_app
from ui.text import md

through_app()

st.title("Users")
show_flash()
left, middle, right = st.columns([3, 1, 1])
query = left.text_input("Search accounts", placeholder="Email, name or user id", max_chars=account_admin.MAX_SEARCH)
role = middle.selectbox("Role", ("", *users.ROLES), format_func=lambda r: r or "any role")
suspended_only = right.checkbox("Suspended only")
found = allowed(
    lambda: account_admin.search_users(
        engine(), query, role=role, suspended_only=suspended_only, acting_user_id=acting_user_id()
    )
)
if not found:
    st.info("No accounts match.")
    st.stop()
st.dataframe(
    [
        {
            "user id": a.user_id,
            "email": a.email,
            "name": a.display_name,
            "role": a.role,
            "joined": f"{a.created_at:%Y-%m-%d}",
            "suspended": a.suspended_at is not None,
            "seeded": a.is_seeded,
        }
        for a in found
    ],
    hide_index=True,
    width="stretch",
)

labels = {a.user_id: f"{a.display_name} <{a.email}>" for a in found}
user_id = st.selectbox("Account", labels, format_func=labels.get, key="admin_user_id")
page = account_admin.account_page(engine(), user_id, acting_user_id=acting_user_id())
account = page["account"]


st.header(md(account["display_name"]), anchor=False)
state = f"suspended since {account['suspended_at']:%Y-%m-%d %H:%M} UTC" if account["suspended_at"] else "active"
st.markdown(
    f"**{md(account['email'])}** · {account['role']} · joined {account['created_at']:%Y-%m-%d} · {state}"
    + (" · seeded demo account" if account["is_seeded"] else "")
)

with st.container(border=True):
    left, right = st.columns(2)
    new_role = left.selectbox("Role", users.ROLES, index=users.ROLES.index(account["role"]), key=f"role_{user_id}")
    if left.button("Change role", key="change_role"):
        attempt(
            lambda: account_admin.change_role(engine(), user_id, new_role, acting_user_id=acting_user_id()),
            f"{account['email']} is now {new_role}.",
        )
    if account["suspended_at"] is None:
        right.caption("Suspending signs the account out everywhere at once; it cannot sign in until restored.")
        if right.button("Suspend account", key="suspend", type="primary"):
            attempt(
                lambda: account_admin.suspend(engine(), user_id, acting_user_id=acting_user_id()),
                f"{account['email']} is suspended and signed out everywhere.",
            )
    else:
        right.caption("Restoring lets the account sign in again (old sessions stay ended).")
        if right.button("Restore account", key="restore", type="primary"):
            attempt(
                lambda: account_admin.restore(engine(), user_id, acting_user_id=acting_user_id()),
                f"{account['email']} is restored and can sign in again.",
            )

st.subheader("Subscription")
sub = page["subscription"]
if sub is None:
    st.text("Never subscribed.")
else:
    ends = sub["ended_at"] or sub["current_period_end"]
    st.text(
        f"{sub['plan_name']} · {sub['status']} · {sub['currency']} {format_amount(sub['price'])}"
        f" / {sub['billing_period']}"
        f" · since {sub['started_at']:%Y-%m-%d} · {'ended' if sub['ended_at'] else 'period ends'} {ends:%Y-%m-%d}"
        + (" · cancels at period end" if sub["cancel_at_period_end"] else "")
    )

st.subheader("Billing history")
if page["billing"]:
    st.dataframe(
        [
            {
                "date": f"{b['attempted_at']:%Y-%m-%d %H:%M}",
                "kind": b["kind"],
                "plan": b["plan_name"],
                "amount": f"{b['currency']} {format_amount(b['amount'])}",
                "status": b["status"],
                "failure": b["failure_reason"] or "",
                "receipt": b["receipt"] or "",
            }
            for b in page["billing"]
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.text("No payments.")

st.subheader(f"Viewing history (latest {account_admin.VIEWING_HISTORY_ROWS})")
if page["viewing"]:
    st.dataframe(
        [
            {
                "started": f"{v['started_at']:%Y-%m-%d %H:%M}",
                "profile": v["profile"],
                "title": v["title"],
                "episode": f"S{v['season']}E{v['episode']}" if v["season"] else "",
                "minutes": float(v["minutes_watched"]),
                "completed": v["completed"],
                "device": v["device"] or "",
            }
            for v in page["viewing"]
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.text("Nothing watched yet.")
st.caption("Profiles: " + ", ".join(md(p["name"]) + (" (Kids)" if p["is_kids"] else "") for p in page["profiles"]))
