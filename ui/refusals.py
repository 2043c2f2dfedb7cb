"""How every page shows a backend refusal (backend.core.errors.Refusal): its message as plain text, in an
error box, with nothing changed. The one place pages map refusals; anything else is a fault, not shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from backend.core.errors import NotAuthorised, Refusal
from ui.text import md

T = TypeVar("T")


def show_refusal(error: Refusal, where: Any = None) -> None:
    """The refusal's message in an error box."""
    (where or st).error(md(error) if str(error) else "You do not have access to this.")


def attempt(action: Callable[[], T], *, where: Any = None) -> tuple[bool, T | None]:
    """Run a backend action: (True, its result), or (False, None) after showing why it was refused."""
    try:
        return True, action()
    except Refusal as error:
        show_refusal(error, where)
        return False, None


def allowed(check: Callable[[], T]) -> T:
    """Run a backend call that checks the role; when refused, show why and stop the page."""
    try:
        return check()
    except NotAuthorised as error:
        show_refusal(error)
        st.stop()
        raise  # unreachable: st.stop() ends the run
