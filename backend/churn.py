"""Churn and retention: rollups and metrics (work in progress)."""

from __future__ import annotations

from sqlalchemy import Engine


def refresh(engine: Engine) -> list[str]:
    """Rebuild the churn and retention rollups; returns the tables written."""
    return []
