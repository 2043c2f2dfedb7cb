"""What every page shares: the process-wide database engine."""

import streamlit as st

import database


@st.cache_resource(show_spinner=False)
def engine():
    """One pooled engine per server process; migrations run on first use."""
    return database.get_engine()
