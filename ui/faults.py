"""What a page shows when something fails that is not a refusal: a database that cannot be reached (a notice,
and the app retries by itself until it is back) or an unexpected error (logged with an id that the page shows).
Tracebacks are never shown to users (`client.showErrorDetails = "none"` in .streamlit/config.toml)."""

from __future__ import annotations

import logging
import uuid

import streamlit as st

import database
from ui.session import engine

log = logging.getLogger("reelhouse.app")
RETRY_SECONDS = 3
OUTAGE_NOTICE = "The service is unavailable, retrying… Nothing you did was lost; this page reloads by itself."


def run_page(page: st.Page) -> None:
    """Run the page chosen by st.navigation, showing a fault the way `show` does."""
    try:
        page.run()
    except Exception as fault:
        show(fault)


def show(fault: Exception) -> None:
    """Show `fault` to the user without its details, log it, and end the run."""
    if database.is_database_down(fault):
        log.warning("database unavailable: %s", type(fault).__name__)
        st.warning(OUTAGE_NOTICE, icon=":material/cloud_off:")
        _retry_when_back()
    else:
        error_id = uuid.uuid4().hex[:12]
        log.error("unexpected error %s", error_id, exc_info=fault)
        st.error(
            f"Something went wrong on our side (error id {error_id}). Please try again; "
            "if it keeps happening, tell us this id.",
            icon=":material/error:",
        )
    st.stop()


@st.fragment(run_every=RETRY_SECONDS)
def _retry_when_back() -> None:
    """Every few seconds: once the database answers again, run the whole app again."""
    if database_answers():
        st.rerun(scope="app")


def database_answers() -> bool:
    """Whether the database answers now (an embedded server that was stopped is started again first)."""
    database.revive_embedded_server()
    try:
        return database.answers(engine())
    except Exception as fault:  # the check never fails the page: it only decides whether to rerun
        log.warning("database check failed: %s", type(fault).__name__)
        return False
