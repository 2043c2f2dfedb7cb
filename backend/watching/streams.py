"""Play sessions: stream leases (one per device) and the plan's limit on screens, starting and stopping a play.

Positions are in seconds of the title's (or episode's) real running time. The generated sample clip
stands in for the whole running time at a fixed speed-up (backend.watching.media), so progress %, completion
at `watching_rules.COMPLETED_AT`, resume and the watched seconds that feed watch hours all agree with the
seeded history and the analytics.

A play session is a *stream lease* (one per device) plus one `playback_events` row. Starting takes the
lease under the account's lock and refuses beyond the plan's `max_devices_allowed` live leases (a paused
player keeps its screen); the player's reports (every few seconds, on pause and at the end) are the
heartbeats. A lease whose heartbeats stop for `LEASE_TTL` no longer counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text

from backend.accounts.profiles import Profile
from backend.billing import state as billing_state
from backend.catalogue.titles import Episode
from backend.core import locks
from backend.core.clock import clock
from backend.watching import partitions
from backend.watching.access import Device, PlaybackRefused, check_access
from backend.watching.playable import WatchTitle, duration_seconds

LEASE_TTL = timedelta(seconds=90)  # a stream whose player has not reported for this long has stopped
REPORT_EVERY_SECONDS = 5  # the player reports this often while playing (and on pause and at the end)
PAUSED_HEARTBEAT_SECONDS = 30  # and this often while paused, so an open, paused player keeps its screen
DEVICE_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Session:
    """A started play: its lease and event, what plays and where it starts (seconds of real running time)."""

    lease_id: int
    event_id: int
    event_started_at: datetime
    title_id: int
    episode_id: int | None
    position_seconds: int
    duration_seconds: int


def device_label(user_agent: str | None, device_id: str) -> str:
    """A readable name for a device: browser and system from its User-Agent, and a short id to tell two
    alike apart (e.g. 'Chrome on Linux · a1b2')."""
    agent = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in agent), "Browser")
    system = next((name for token, name in _SYSTEMS if token in agent), "")
    return f"{browser}{' on ' + system if system else ''} · {device_id[-4:]}"


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def valid_device_id(device_id: str) -> bool:
    return 8 <= len(device_id or "") <= 64 and set(device_id) <= DEVICE_ID_CHARS


def start(
    engine: Engine,
    user_id: int,
    profile: Profile,
    title: WatchTitle,
    episode: Episode | None,
    position_seconds: int,
    device_id: str,
    device_label: str,
    now: datetime | None = None,
) -> Session:
    """Check access and take a stream lease for this device (a live lease of the same device is replaced).
    Raises PlaybackRefused (reason 'streams', with the devices watching) beyond the plan's screens."""
    now = clock(now)
    if not valid_device_id(device_id):
        raise ValueError("device ids are 8-64 letters, digits, '-' or '_'")
    if title.is_series and episode is None:
        raise PlaybackRefused(
            "unavailable", f"“{title.title}” has no episodes to play yet.", "Browse other titles", "browse"
        )
    entitlement = check_access(engine, user_id, profile, title, now)
    length = duration_seconds(title, episode)
    position = max(0, min(int(position_seconds), length))
    _ensure_partition(engine, now)
    with engine.begin() as conn:
        billing_state.lock_account(conn, user_id)
        expire_leases(conn, user_id, now)
        _replace_device_lease(conn, user_id, device_id, now)
        watching = _devices(conn, user_id)
        if len(watching) >= entitlement.max_devices_allowed:
            screens = entitlement.max_devices_allowed
            plays = "Free titles play" if entitlement.state is None else f"Your {entitlement.plan_name} plan plays"
            raise PlaybackRefused(
                "streams",
                f"{plays} on {screens} screen{'s' * (screens > 1)} at once, and all are in use.",
                "End a stream on another device, or upgrade for more screens",
                "subscription",
                tuple(watching),
            )
        event_id = conn.execute(
            text("""
            INSERT INTO playback_events (user_id, profile_id, title_id, episode_id, device, started_at, ended_at,
                                         start_position_seconds, end_position_seconds, duration_seconds)
            VALUES (:u, :p, :t, :e, :label, :now, :now, :pos, :pos, :len) RETURNING event_id"""),
            {
                "u": user_id,
                "p": profile.profile_id,
                "t": title.title_id,
                "e": _episode_id(episode),
                "label": device_label[:120],
                "now": now,
                "pos": position,
                "len": length,
            },
        ).scalar_one()
        lease_id = conn.execute(
            text("""
            INSERT INTO stream_leases (user_id, profile_id, device_key, device_label, title_id, episode_id, event_id,
                                       event_started_at, duration_seconds, last_position_seconds, started_at,
                                       heartbeat_at, reported_at)
            VALUES (:u, :p, :d, :label, :t, :e, :ev, :now, :len, :pos, :now, :now, :now) RETURNING lease_id"""),
            {
                "u": user_id,
                "p": profile.profile_id,
                "d": device_id,
                "label": device_label[:120],
                "t": title.title_id,
                "e": _episode_id(episode),
                "ev": event_id,
                "now": now,
                "len": length,
                "pos": position,
            },
        ).scalar_one()
    return Session(lease_id, event_id, now, title.title_id, _episode_id(episode), position, length)


def _replace_device_lease(conn: Connection, user_id: int, device_id: str, now: datetime) -> None:
    """End the device's live lease; its play session is dropped if nothing was played in it (a reload
    straight after opening the page), so it counts as no play at all."""
    replaced = conn.execute(
        text("""
        UPDATE stream_leases SET ended_at = :now, end_reason = 'replaced'
        WHERE user_id = :u AND device_key = :d AND ended_at IS NULL RETURNING event_id, event_started_at"""),
        {"u": user_id, "d": device_id, "now": now},
    ).all()
    for event_id, started_at in replaced:
        conn.execute(
            text("""DELETE FROM playback_events WHERE user_id = :u AND event_id = :e AND started_at = :at
                             AND watched_seconds = 0 AND end_position_seconds = start_position_seconds"""),
            {"u": user_id, "e": event_id, "at": started_at},
        )


def _ensure_partition(engine: Engine, now: datetime) -> None:
    """This month's playback_events partition (rule 14); created once, by one process at a time."""
    if partitions.partition_name(now.date().replace(day=1)) in _known_partitions:
        return
    with engine.begin() as conn:
        if partitions.partition_name(now.date().replace(day=1)) not in partitions.existing_partitions(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.PLAYBACK_PARTITIONS})
            partitions.ensure_month_partitions(conn, now.date(), now.date())
    _known_partitions.add(partitions.partition_name(now.date().replace(day=1)))


_known_partitions: set[str] = set()


def _episode_id(episode: Episode | None) -> int | None:
    return None if episode is None else episode.episode_id


def expire_leases(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        text("""UPDATE stream_leases SET ended_at = :now, end_reason = 'expired'
                         WHERE user_id = :u AND ended_at IS NULL AND heartbeat_at < :stale"""),
        {"u": user_id, "now": now, "stale": now - LEASE_TTL},
    )


def _devices(conn: Connection, user_id: int) -> list[Device]:
    rows = conn.execute(
        text("""
        SELECT l.lease_id, l.device_label, p.name, t.title, l.started_at, l.heartbeat_at,
               CASE WHEN l.paused_at IS NULL THEN 'playing' ELSE 'paused' END
        FROM stream_leases l JOIN profiles p ON p.user_id = l.user_id AND p.profile_id = l.profile_id
        JOIN titles t ON t.title_id = l.title_id
        WHERE l.user_id = :u AND l.ended_at IS NULL ORDER BY l.started_at, l.lease_id"""),
        {"u": user_id},
    ).all()
    return [Device(*r) for r in rows]


def live_streams(engine: Engine, user_id: int, now: datetime | None = None) -> list[Device]:
    """The account's streams playing now (heartbeat within LEASE_TTL), oldest first."""
    now = clock(now)
    with engine.connect() as conn:
        return [d for d in _devices(conn, user_id) if d.heartbeat_at >= now - LEASE_TTL]


def end_stream(engine: Engine, user_id: int, lease_id: int, now: datetime | None = None) -> bool:
    """End one of the member's streams (the device's player stops at its next report). Returns whether a
    live stream of this account was ended."""
    with engine.begin() as conn:
        found = conn.execute(
            text("""UPDATE stream_leases SET ended_at = :now, end_reason = 'ended_by_member'
                                     WHERE user_id = :u AND lease_id = :l AND ended_at IS NULL"""),
            {"u": user_id, "l": lease_id, "now": clock(now)},
        ).rowcount
    return bool(found)


def stop(engine: Engine, user_id: int, lease_id: int, now: datetime | None = None) -> None:
    """The viewer left the player: free the screen at once."""
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE stream_leases SET ended_at = :now, end_reason = 'stopped'
                             WHERE user_id = :u AND lease_id = :l AND ended_at IS NULL"""),
            {"u": user_id, "l": lease_id, "now": clock(now)},
        )
