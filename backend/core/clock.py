"""The one clock: every function that depends on time takes `now`, defaulting to this."""

from __future__ import annotations

from datetime import UTC, datetime


def clock(now: datetime | None = None) -> datetime:
    """`now` when given (tests replay time), else the current UTC time."""
    return now or datetime.now(UTC)
