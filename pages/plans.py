"""The plans, side by side; public."""

import streamlit as st

from backend import plans
from backend.catalogue import PREMIUM_FROM_RELEASE_YEAR
from pages.common import engine, through_app

through_app()

st.title("Plans")
available = plans.active_plans(engine())
if not available:
    st.info("No plans are on sale yet.")
    st.stop()
for column, plan in zip(st.columns(min(len(available), 4)), available, strict=False):
    with column.container(border=True):
        st.subheader(plan.name)
        st.markdown(f"**{plan.price_label}**")
        st.text(f"{plan.resolution} · {plan.max_streams} screen{'s' if plan.max_streams > 1 else ''} at once")
        newest = f"Titles released before {PREMIUM_FROM_RELEASE_YEAR}"
        st.text("Every title, the newest included" if plan.access_level == "premium" else newest)
        if plan.description:
            st.text(plan.description)
