"""Admin: the audit log. Who did what and when, with the state before and after; filterable."""

import json
from datetime import UTC, datetime, timedelta

import streamlit as st

from backend.admin import audit_log
from backend.core import audit
from ui.admin import acting_user_id
from ui.refusals import allowed
from ui.session import engine, through_app

through_app()


def as_json(value) -> str:
    """Before/after as compact JSON, nulls shown (a missing side, e.g. before a creation, is blank)."""
    return "" if value is None else json.dumps(value, ensure_ascii=False)


st.title("Audit log")
known = allowed(lambda: audit_log.actions(engine(), acting_user_id=acting_user_id()))
with st.container(border=True):
    left, middle, right = st.columns(3)
    actor = left.text_input("Actor email contains", max_chars=254)
    action = middle.selectbox("Action", ("", *known), format_func=lambda a: a or "any action")
    target_type = right.selectbox("Target", ("", *audit.TARGET_TYPES), format_func=lambda t: t or "any target")
    left, middle, right = st.columns(3)
    target_key = left.text_input("Target id", help="A plan or user id, a show id (s123), or a job name.", max_chars=100)
    today = datetime.now(UTC).date()
    days = middle.date_input("Days (UTC)", value=(today - timedelta(days=30), today), max_value=today)
    limit = right.number_input("Rows", min_value=10, max_value=audit_log.MAX_ENTRIES, value=200, step=10)

since, until = (days[0], days[-1]) if days else (None, None)  # one day picked so far: that day
rows = audit_log.entries(
    engine(),
    acting_user_id=acting_user_id(),
    actor_email=actor,
    action=action,
    target_type=target_type,
    target_key=target_key,
    since=since,
    until=until,
    limit=int(limit),
)
st.caption(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}, newest first.")
if rows:
    st.dataframe(
        [
            {
                "when (UTC)": r["occurred_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "who": r["actor_email"],
                "action": r["action"],
                "target": f"{r['target_type']} {r['target_key']}",
                "before": as_json(r["before"]),
                "after": as_json(r["after"]),
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "before": st.column_config.TextColumn("before", width="large"),
            "after": st.column_config.TextColumn("after", width="large"),
        },
    )
