"""Playback: access checks, stream leases, progress reports, next episode, Continue Watching.

Positions are in seconds of the title's (or episode's) real running time. The generated sample clip
stands in for the whole running time at a fixed speed-up (backend/media.py), so progress %, completion
at `lifecycle.COMPLETED_AT`, resume and the watched seconds that feed watch hours all agree with the
seeded history and the analytics.

A play session is a *stream lease* (one per device) plus one `playback_events` row. Starting takes the
lease under the account's lock and refuses beyond the plan's `max_streams` live leases; the player's
reports (every few seconds, on pause and at the end) are the heartbeats. A lease whose heartbeats stop
for `LEASE_TTL` no longer counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text

from backend import activity, discovery, lifecycle, media, subscriptions
from backend.catalogue import PREMIUM_FROM_RELEASE_YEAR
from backend.discovery import Episode
from backend.users import Profile, clock

LEASE_TTL = timedelta(seconds=90)  # a stream whose player has not reported for this long has stopped
REPORT_EVERY_SECONDS = 5  # the player reports this often while playing (and on pause and at the end)
PAUSED_HEARTBEAT_SECONDS = 30  # and this often while paused, so an open, paused player keeps its screen
FILM_FALLBACK_MINUTES = 90  # a film without a known running time
DEVICE_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Device:
    """A live stream on the account, as shown when the plan's screens are all in use."""

    lease_id: int
    device_label: str
    profile_name: str
    title: str
    started_at: datetime
    heartbeat_at: datetime


@dataclass
class PlaybackRefused(Exception):
    """Why a play was refused and what would allow it (`remedy`, a page of the app: `remedy_page`)."""

    reason: str  # guest | no_subscription | subscription_ended | plan | maturity | unavailable | streams | stopped
    message: str
    remedy: str
    remedy_page: str | None = None
    devices: tuple[Device, ...] = field(default=())

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class WatchTitle:
    title_id: int
    show_id: str
    title: str
    kind: str
    description: str
    release_year: int | None
    maturity_rating: str | None
    audience: str
    access_level: str
    duration_minutes: int | None
    seasons: int | None

    @property
    def is_series(self) -> bool:
        return self.kind == "tv_show"


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


@dataclass(frozen=True)
class Report:
    """The outcome of a player report: `state` is playing, completed (this item reached COMPLETED_AT) or
    stopped (the lease was ended from another device or expired); `next_episode` follows a finished episode."""

    state: str
    position_seconds: int
    next_episode: Episode | None = None


# --- the catalogue side --------------------------------------------------------------------------


def find_title(engine: Engine, show_id: str) -> WatchTitle | None:
    """An active title by its show id (e.g. 's123'); None if there is none."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text("""
            SELECT title_id, show_id, title, kind, description, release_year, maturity_rating, audience,
                   access_level, duration_minutes, seasons
            FROM titles WHERE show_id = :s AND is_active"""),
                {"s": (show_id or "")[:40]},
            )
            .mappings()
            .first()
        )
    return WatchTitle(**row) if row else None


def episodes(engine: Engine, title_id: int) -> list[Episode]:
    """The series' active episodes in order."""
    return [episode for season in discovery.episodes(engine, title_id).values() for episode in season]


def next_episode(engine: Engine, title_id: int, episode_id: int) -> Episode | None:
    with engine.connect() as conn:
        return _next_episode(conn, title_id, episode_id)


def _next_episode(conn: Connection, title_id: int, episode_id: int | None) -> Episode | None:
    if episode_id is None:
        return None
    row = conn.execute(
        text("""
        SELECT n.episode_id, n.season_number, n.episode_number, n.name, n.duration_minutes
        FROM episodes e JOIN episodes n ON n.title_id = e.title_id AND n.is_active
             AND (n.season_number, n.episode_number) > (e.season_number, e.episode_number)
        WHERE e.episode_id = :e AND e.title_id = :t
        ORDER BY n.season_number, n.episode_number LIMIT 1"""),
        {"e": episode_id, "t": title_id},
    ).first()
    return Episode(*row) if row else None


def duration_seconds(title: WatchTitle, episode: Episode | None) -> int:
    """The real running time of what plays: the episode's for a series, the film's otherwise."""
    minutes = episode.duration_minutes if episode is not None else title.duration_minutes
    return 60 * (minutes or FILM_FALLBACK_MINUTES)


def resume_point(
    engine: Engine, user_id: int, profile_id: int, title: WatchTitle, episode_id: int | None = None
) -> tuple[Episode | None, int]:
    """What to play and from where: the asked-for episode (or, for a series, the one in progress, the next
    one after a finished episode, else the first) and the saved position, or 0 if none or finished."""
    with engine.connect() as conn:
        saved = conn.execute(
            text("""
            SELECT episode_id, position_seconds, duration_seconds, completed FROM viewing_progress
            WHERE user_id = :u AND profile_id = :p AND title_id = :t"""),
            {"u": user_id, "p": profile_id, "t": title.title_id},
        ).first()
        episode = None
        if title.is_series:
            wanted = episode_id if episode_id is not None else (saved.episode_id if saved else None)
            episode = _episode(conn, title.title_id, wanted) if wanted is not None else None
            if episode_id is None and episode is not None and saved.completed:
                episode = _next_episode(conn, title.title_id, episode.episode_id) or episode
            episode = episode or _first_episode(conn, title.title_id)
    if saved is None or saved.completed or (episode and saved.episode_id != episode.episode_id):
        return episode, 0
    length = duration_seconds(title, episode)
    position = min(saved.position_seconds, length)
    return episode, 0 if position >= lifecycle.COMPLETED_AT * length else position


def _episode(conn: Connection, title_id: int, episode_id: int) -> Episode | None:
    row = conn.execute(
        text("""
        SELECT episode_id, season_number, episode_number, name, duration_minutes FROM episodes
        WHERE episode_id = :e AND title_id = :t AND is_active"""),
        {"e": episode_id, "t": title_id},
    ).first()
    return Episode(*row) if row else None


def _first_episode(conn: Connection, title_id: int) -> Episode | None:
    row = conn.execute(
        text("""
        SELECT episode_id, season_number, episode_number, name, duration_minutes FROM episodes
        WHERE title_id = :t AND is_active ORDER BY season_number, episode_number LIMIT 1"""),
        {"t": title_id},
    ).first()
    return Episode(*row) if row else None


# --- access --------------------------------------------------------------------------------------


def check_access(
    engine: Engine, user_id: int, profile: Profile, title: WatchTitle, now: datetime | None = None
) -> subscriptions.Entitlement:
    """The member's entitlement if this profile may play the title now; else PlaybackRefused saying why."""
    entitlement = subscriptions.entitlement(engine, user_id, clock(now))
    if not entitlement.allowed:
        ended = subscriptions.current(engine, user_id) is not None
        raise PlaybackRefused(
            "subscription_ended" if ended else "no_subscription",
            entitlement.reason,
            "Resubscribe" if ended else "Start a subscription",
            "plans",
        )
    if title.access_level == "premium" and entitlement.access_level != "premium":
        raise PlaybackRefused(
            "plan",
            f"“{title.title}” is a premium title: your {entitlement.plan_name} plan includes titles released "
            f"before {PREMIUM_FROM_RELEASE_YEAR}.",
            f"Upgrade to {_premium_plan_names(engine)}",
            "subscription",
        )
    check_trailer(profile, title)
    return entitlement


def check_trailer(profile: Profile, title: WatchTitle) -> None:
    """The profile's maturity cap allows the title (its trailer too); else PlaybackRefused."""
    allowed = discovery.allowed_audiences(profile)  # the same rule as what the profile may browse
    if allowed is not None and title.audience not in allowed:
        rating = title.maturity_rating or "unrated"
        raise PlaybackRefused(
            "maturity",
            f"“{title.title}” ({rating}) is not available on the {profile.name} profile.",
            "Switch to an adult profile",
            "profiles",
        )


def _premium_plan_names(engine: Engine) -> str:
    with engine.connect() as conn:
        names = (
            conn.execute(
                text("""SELECT name FROM plans WHERE is_active AND access_level = 'premium'
                                     AND billing_period = 'month' ORDER BY price""")
            )
            .scalars()
            .all()
        )
    return " or ".join(names) if names else "a plan with every title"


# --- streams -------------------------------------------------------------------------------------


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
        subscriptions.lock_account(conn, user_id)
        _expire_leases(conn, user_id, now)
        _replace_device_lease(conn, user_id, device_id, now)
        watching = _devices(conn, user_id)
        if len(watching) >= entitlement.max_streams:
            screens = entitlement.max_streams
            raise PlaybackRefused(
                "streams",
                f"Your {entitlement.plan_name} plan plays on {screens} screen{'s' * (screens > 1)} at "
                "once, and all are in use.",
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
    if activity.partition_name(now.date().replace(day=1)) in _known_partitions:
        return
    with engine.begin() as conn:
        if activity.partition_name(now.date().replace(day=1)) not in activity.existing_partitions(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('playback_events partitions'))"))
            activity.ensure_month_partitions(conn, now.date(), now.date())
    _known_partitions.add(activity.partition_name(now.date().replace(day=1)))


_known_partitions: set[str] = set()


def _episode_id(episode: Episode | None) -> int | None:
    return None if episode is None else episode.episode_id


def _expire_leases(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        text("""UPDATE stream_leases SET ended_at = :now, end_reason = 'expired'
                         WHERE user_id = :u AND ended_at IS NULL AND heartbeat_at < :stale"""),
        {"u": user_id, "now": now, "stale": now - LEASE_TTL},
    )


def _devices(conn: Connection, user_id: int) -> list[Device]:
    rows = conn.execute(
        text("""
        SELECT l.lease_id, l.device_label, p.name, t.title, l.started_at, l.heartbeat_at
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


# --- progress ------------------------------------------------------------------------------------


def report(
    engine: Engine,
    user_id: int,
    lease_id: int,
    position_seconds: float,
    now: datetime | None = None,
    *,
    ended: bool = False,
) -> Report:
    """Record where the player is (seconds of real running time): the lease's heartbeat, the play session's
    event (end position, watched seconds, completed) and the profile's progress. Watched seconds grow by the
    distance played, at most what the clip could have played since the last report (seeks earn nothing)."""
    now = clock(now)
    with engine.begin() as conn:
        lease = (
            conn.execute(
                text("""
            SELECT profile_id, title_id, episode_id, event_id, event_started_at, duration_seconds,
                   last_position_seconds, heartbeat_at, reported_at, ended_at
            FROM stream_leases WHERE user_id = :u AND lease_id = :l FOR UPDATE"""),
                {"u": user_id, "l": lease_id},
            )
            .mappings()
            .first()
        )
        if lease is None or lease["ended_at"] is not None or lease["heartbeat_at"] < now - LEASE_TTL:
            if lease is not None and lease["ended_at"] is None:
                _expire_leases(conn, user_id, now)
            return Report("stopped", lease["last_position_seconds"] if lease else 0)
        length = lease["duration_seconds"]
        position = length if ended else max(0, min(int(position_seconds), length))
        credited = _credited(
            position - lease["last_position_seconds"], (now - lease["reported_at"]).total_seconds(), length
        )
        completed = ended or position >= lifecycle.COMPLETED_AT * length
        conn.execute(
            text("""UPDATE stream_leases SET heartbeat_at = :now, reported_at = :now,
                                    last_position_seconds = :pos WHERE user_id = :u AND lease_id = :l"""),
            {"u": user_id, "l": lease_id, "now": now, "pos": position},
        )
        conn.execute(
            text("""
            UPDATE playback_events SET ended_at = :now, end_position_seconds = :pos,
                   watched_seconds = watched_seconds + :credited, completed = completed OR :done
            WHERE user_id = :u AND event_id = :ev AND started_at = :at"""),
            {
                "u": user_id,
                "ev": lease["event_id"],
                "at": lease["event_started_at"],
                "now": now,
                "pos": position,
                "credited": credited,
                "done": completed,
            },
        )
        following = _next_episode(conn, lease["title_id"], lease["episode_id"]) if completed else None
        _save_progress(conn, user_id, lease, position, completed, following, now)
    return Report("completed" if completed else "playing", position, following)


def _credited(distance: int, elapsed_seconds: float, length: int) -> int:
    """Seconds of running time to count as watched for a move of `distance` in `elapsed_seconds` of wall time:
    the clip plays the running time at `length / media.CLIP_SECONDS` x, with some slack for timer jitter."""
    speed = length / media.CLIP_SECONDS
    return max(0, min(distance, math.ceil((max(elapsed_seconds, 0) + 1) * speed * 1.25)))


def _save_progress(
    conn: Connection, user_id: int, lease, position: int, completed: bool, following: Episode | None, now: datetime
) -> None:
    """The profile's latest position; a finished episode moves a series on to the start of the next one."""
    if following is not None:
        episode_id, position, length, completed = following.episode_id, 0, following.duration_minutes * 60, False
    else:
        episode_id, length = lease["episode_id"], lease["duration_seconds"]
    conn.execute(
        text("""
        INSERT INTO viewing_progress AS v (user_id, profile_id, title_id, episode_id, position_seconds,
                                           duration_seconds, completed, updated_at, hidden_at)
        VALUES (:u, :p, :t, :e, :pos, :len, :done, :now, NULL)
        ON CONFLICT (user_id, profile_id, title_id) DO UPDATE SET
            episode_id = EXCLUDED.episode_id, position_seconds = EXCLUDED.position_seconds,
            duration_seconds = EXCLUDED.duration_seconds, completed = EXCLUDED.completed,
            updated_at = EXCLUDED.updated_at, hidden_at = EXCLUDED.hidden_at"""),
        {
            "u": user_id,
            "p": lease["profile_id"],
            "t": lease["title_id"],
            "e": episode_id,
            "pos": position,
            "len": length,
            "done": completed,
            "now": now,
        },
    )


# --- Continue Watching -----------------------------------------------------------------------------

_CONTINUE_WATCHING = text("""
    SELECT t.title_id, t.show_id, t.title, t.kind, t.release_year, t.audience, t.access_level,
           coalesce(nx.episode_id, p.episode_id) AS episode_id,
           coalesce(nx.season_number, e.season_number) AS season_number,
           coalesce(nx.episode_number, e.episode_number) AS episode_number,
           CASE WHEN nx.episode_id IS NULL THEN p.position_seconds ELSE 0 END AS position_seconds,
           coalesce(nx.duration_minutes * 60, p.duration_seconds) AS duration_seconds,
           p.updated_at
    FROM viewing_progress p
    JOIN titles t ON t.title_id = p.title_id AND t.is_active
    LEFT JOIN episodes e ON e.episode_id = p.episode_id
    LEFT JOIN LATERAL (
        SELECT n.episode_id, n.season_number, n.episode_number, n.duration_minutes FROM episodes n
        WHERE p.completed AND n.title_id = p.title_id AND n.is_active
          AND (n.season_number, n.episode_number) > (e.season_number, e.episode_number)
        ORDER BY n.season_number, n.episode_number LIMIT 1) nx ON TRUE
    WHERE p.user_id = :u AND p.profile_id = :p AND p.hidden_at IS NULL
      AND (NOT p.completed OR nx.episode_id IS NOT NULL)
    ORDER BY p.updated_at DESC, t.title_id
    LIMIT :limit""")


def continue_watching(engine: Engine, user_id: int, profile_id: int, limit: int = 20) -> list[dict]:
    """Titles the profile started and has not finished (newest first), with where to resume.

    Each row: title_id, show_id, title, kind, release_year, audience, access_level, episode_id,
    season_number, episode_number (None for films), position_seconds, duration_seconds, progress (0..1),
    updated_at. A series whose last watched episode was finished resumes at the start of the next one.
    """
    with engine.connect() as conn:
        rows = conn.execute(_CONTINUE_WATCHING, {"u": user_id, "p": profile_id, "limit": limit}).mappings().all()
    return [dict(r) | {"progress": _fraction(r["position_seconds"], r["duration_seconds"])} for r in rows]


def remove_from_continue_watching(
    engine: Engine, user_id: int, profile_id: int, title_id: int, now: datetime | None = None
) -> bool:
    """Hide the title from the profile's Continue Watching (its progress is kept; playing it again brings
    it back). Returns whether there was such a row."""
    with engine.begin() as conn:
        found = conn.execute(
            text("""
            UPDATE viewing_progress SET hidden_at = :now
            WHERE user_id = :u AND profile_id = :p AND title_id = :t"""),
            {"u": user_id, "p": profile_id, "t": title_id, "now": clock(now)},
        ).rowcount
    return bool(found)


def _fraction(position: int | None, duration: int | None) -> float:
    if not duration:
        return 0.0
    return max(0.0, min(1.0, (position or 0) / duration))
