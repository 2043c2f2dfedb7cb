"""What the admin and data-operations pages share (not a page itself): the acting account, the
server-side role check at the top of each page, and one-shot messages kept across a rerun."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from ui import refusals
from ui.text import md

T = TypeVar("T")
FLASH_KEY = "admin_flash"


def acting_user_id() -> int | None:
    return st.session_state.get("user_id")


def flash(message: str) -> None:
    """Show `message` as a success after the rerun that follows a change."""
    st.session_state[FLASH_KEY] = message


def attempt(action: Callable[[], object], success: str) -> None:
    """Run an admin change: its refusal shown as an error (nothing changed), or `success` after a rerun."""
    done, _ = refusals.attempt(action)
    if done:
        flash(success)
        st.rerun()


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(md(message))
