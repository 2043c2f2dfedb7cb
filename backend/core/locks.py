"""Every PostgreSQL advisory-lock key the project takes, in one registry (tests/test_layers.py checks that
the keys are unique and that no advisory lock is taken with a key from elsewhere).

Each key serialises one kind of work across processes and machines: two kinds must never share a key, or
unrelated jobs would wait for each other (the seeder and the catalogue load once did).
"""

from __future__ import annotations

from typing import Final

MIGRATIONS: Final = 7_340_001  # schema migrations, one process at a time
SEEDER: Final = 7_340_002  # a whole seeding run
CATALOGUE_LOAD: Final = 7_340_003  # a catalogue ETL load
BILLING_RUN: Final = 7_340_006  # one billing run at a time (a session lock, tried and never waited for)
REVENUE_REFRESH: Final = 7_340_008  # the revenue rollups' refresh
TOP10_WEEK: Final = 7_340_506  # (re)computing a week's Top 10
ENGAGEMENT_REFRESH: Final = 7_340_709  # the engagement rollups' refresh
PLAYBACK_PARTITIONS: Final = 7_340_800  # creating a month partition of playback_events


def registry() -> dict[str, int]:
    """Every key by name."""
    return {name: value for name, value in globals().items() if name.isupper() and isinstance(value, int)}
