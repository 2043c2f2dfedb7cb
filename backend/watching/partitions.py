"""Viewing activity storage: monthly partitions of `playback_events` (scale-out rule 14).

Partitions are created ahead of the months that receive rows; rows that already sit in the DEFAULT
partition for such a month are moved into the new partition in the same transaction.
"""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, text


def partition_name(month: date) -> str:
    return f"playback_events_{month:%Y_%m}"


def existing_partitions(conn: Connection) -> set[str]:
    rows = conn.execute(
        text("""
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'playback_events'::regclass""")
    )
    return {row[0] for row in rows}


def ensure_month_partitions(conn: Connection, first: date, last: date) -> list[str]:
    """Create the monthly partitions covering first..last (UTC months); returns the ones created."""
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    have = existing_partitions(conn)
    created = []
    month = first.replace(day=1)
    while month <= last:
        name, following = partition_name(month), month + relativedelta(months=1)
        if name not in have:
            bounds = {"lo": month.isoformat(), "hi": following.isoformat()}
            conn.execute(text("LOCK TABLE playback_events IN ACCESS EXCLUSIVE MODE"))
            in_month = "started_at >= CAST(:lo AS timestamptz) AND started_at < CAST(:hi AS timestamptz)"
            conn.execute(
                text(f"""CREATE TEMP TABLE moving ON COMMIT DROP AS
                                  SELECT * FROM playback_events_default WHERE {in_month}"""),
                bounds,
            )
            conn.execute(text(f"DELETE FROM playback_events_default WHERE {in_month}"), bounds)
            conn.execute(
                text(f"""CREATE TABLE {name} PARTITION OF playback_events
                                  FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')""")
            )
            conn.execute(text("INSERT INTO playback_events SELECT * FROM moving"))
            conn.execute(text("DROP TABLE moving"))
            created.append(name)
        month = following
    return created
