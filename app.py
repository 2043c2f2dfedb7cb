"""Streamlit entry point: `streamlit run app.py` (or `make run`).

Builds the navigation on every run; pages only draw widgets and call `backend/`.
"""

import streamlit as st

st.set_page_config(page_title="Reelhouse", page_icon="🎬", layout="wide")

catalogue = st.Page("pages/catalogue.py", title="Catalogue", icon="🎞️", url_path="catalogue", default=True)
st.navigation([catalogue]).run()
