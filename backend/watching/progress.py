"""Progress: the player's reports, where to resume, completion at 90%, the next episode and Continue Watching."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, text

from backend.catalogue.titles import Episode
from backend.core.clock import clock
from backend.watching import media
from backend.watching import rules as watching_rules
from backend.watching.playable import WatchTitle, duration_seconds, episode_by_id, first_episode, next_episode_in
from backend.watching.streams import LEASE_TTL, expire_leases


@dataclass(frozen=True)
class Report:
    """The outcome of a player report: `state` is playing, paused (stored on the lease until the next report),
    completed (this item reached COMPLETED_AT) or stopped (the lease was ended from another device or
    expired); `next_episode` follows a finished episode."""

    state: str
    position_seconds: int
    next_episode: Episode | None = None


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
            episode = episode_by_id(conn, title.title_id, wanted) if wanted is not None else None
            if episode_id is None and episode is not None and saved is not None and saved.completed:
                episode = next_episode_in(conn, title.title_id, episode.episode_id) or episode
            episode = episode or first_episode(conn, title.title_id)
    if saved is None or saved.completed or (episode and saved.episode_id != episode.episode_id):
        return episode, 0
    length = duration_seconds(title, episode)
    position = min(saved.position_seconds, length)
    return episode, 0 if position >= watching_rules.COMPLETED_AT * length else position


def report(
    engine: Engine,
    user_id: int,
    lease_id: int,
    position_seconds: float,
    now: datetime | None = None,
    *,
    ended: bool = False,
    paused: bool = False,
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
                expire_leases(conn, user_id, now)
            return Report("stopped", lease["last_position_seconds"] if lease else 0)
        length = lease["duration_seconds"]
        position = length if ended else max(0, min(int(position_seconds), length))
        credited = _credited(
            position - lease["last_position_seconds"], (now - lease["reported_at"]).total_seconds(), length
        )
        completed = ended or position >= watching_rules.COMPLETED_AT * length
        paused = paused and not completed
        conn.execute(
            text("""UPDATE stream_leases SET heartbeat_at = :now, reported_at = :now, last_position_seconds = :pos,
                           paused_at = CASE WHEN :paused THEN coalesce(paused_at, :now) END
                    WHERE user_id = :u AND lease_id = :l"""),
            {"u": user_id, "l": lease_id, "now": now, "pos": position, "paused": paused},
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
        following = next_episode_in(conn, lease["title_id"], lease["episode_id"]) if completed else None
        _save_progress(conn, user_id, lease, position, completed, following, now)
    return Report("completed" if completed else "paused" if paused else "playing", position, following)


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
