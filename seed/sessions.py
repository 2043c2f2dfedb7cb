"""Viewing sessions: the catalogue as arrays, who watches what and when (in local time, within the plan's
screens), and how far each session gets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from backend.catalogue.rules import KIDS_AUDIENCES
from backend.watching import rules as watching_rules
from seed import rhythms, screens
from seed.business_records import DAY
from seed.population import DEVICE_WEIGHTS, DEVICES
from seed.rhythms import EVENING, WEEKDAY

FAVOURITE_GENRE_SHARE = 0.55
MAX_BINGE = 6
ABANDON_SECONDS = 300  # an early abandon stops within this many seconds
EPISODE_PAUSE = 20  # seconds between two episodes of one session


@dataclass
class Catalogue:
    """Titles as arrays, each title's episodes in viewing order, and sampling pools."""

    title_id: np.ndarray
    is_series: np.ndarray
    runtime: np.ndarray  # films: seconds; series: 0 (episodes have their own)
    premium: np.ndarray
    kids: np.ndarray
    genre: np.ndarray  # the title's first genre, as an index into genre_ids
    genre_ids: np.ndarray
    popularity: np.ndarray
    episode_start: np.ndarray  # offset of the title's first episode in episode_id/episode_runtime
    episode_count: np.ndarray
    episode_id: np.ndarray
    episode_runtime: np.ndarray
    longest: np.ndarray  # per title: the film's runtime, or its longest episode (seconds)
    _pools: dict

    @classmethod
    def from_frames(cls, rng: np.random.Generator, titles: pd.DataFrame, episodes: pd.DataFrame) -> Catalogue:
        titles = titles.sort_values("title_id").reset_index(drop=True)
        n = len(titles)
        if n == 0:
            raise ValueError("the catalogue is empty: load it first (python -m etl.load_catalogue)")
        genre_codes, genre_ids = pd.factorize(titles["genre_id"].fillna(-1).astype(np.int64), sort=True)
        # Skewed popularity: a Zipf-like law over a random order, newer titles trending.
        rank = rng.permutation(n)
        recent = titles["release_year"].fillna(0).to_numpy() >= 2019
        popularity = (1.0 / (rank + 10.0) ** 1.1) * np.where(recent, 2.0, 1.0)
        episodes = episodes.merge(titles[["title_id"]].reset_index(), on="title_id")
        episodes = episodes.sort_values(["index", "season_number", "episode_number"]).reset_index(drop=True)
        counts = np.bincount(episodes["index"].to_numpy(), minlength=n)
        start = np.r_[0, np.cumsum(counts)[:-1]]
        is_series = (titles["kind"] == "tv_show").to_numpy() & (counts > 0)
        runtime = titles["duration_minutes"].fillna(90).to_numpy(np.int64) * 60
        episode_runtime = episodes["duration_minutes"].to_numpy(np.int64) * 60
        longest_episode = np.zeros(n, dtype=np.int64)
        np.maximum.at(longest_episode, episodes["index"].to_numpy(), episode_runtime)
        return cls(
            titles["title_id"].to_numpy(np.int64),
            is_series,
            np.where(is_series, 0, runtime),
            (titles["access_level"] == "premium").to_numpy(),
            titles["audience"].isin(KIDS_AUDIENCES).to_numpy(),
            genre_codes,
            np.asarray(genre_ids),
            popularity,
            start,
            counts,
            episodes["episode_id"].to_numpy(np.int64),
            episode_runtime,
            np.where(is_series, longest_episode, runtime),
            {},
        )

    def pool(self, premium_allowed: bool, kids_only: bool, genre: int) -> tuple[np.ndarray, np.ndarray]:
        """(title indexes, cumulative weights) of the titles this access, maturity and genre (-1: any) allow."""
        key = (premium_allowed, kids_only, genre)
        if key not in self._pools:
            allowed = (premium_allowed | ~self.premium) & (~kids_only | self.kids)
            if genre >= 0:
                allowed &= self.genre == genre
            members = np.flatnonzero(allowed)
            self._pools[key] = (members, np.cumsum(self.popularity[members]))
        return self._pools[key]

    def sample(self, rng: np.random.Generator, premium: np.ndarray, kids: np.ndarray, genre: np.ndarray) -> np.ndarray:
        """A title index per row, drawn from its row's pool (falling back to any genre when empty)."""
        chosen = np.full(premium.size, -1, dtype=np.int64)
        keys = pd.MultiIndex.from_arrays([premium, kids, genre])
        for (p, k, g), rows in pd.Series(np.arange(premium.size)).groupby(keys).groups.items():
            members, cumulative = self.pool(bool(p), bool(k), int(g))
            if members.size == 0:
                members, cumulative = self.pool(bool(p), bool(k), -1)
            if members.size == 0:
                continue
            draws = rng.random(len(rows)) * cumulative[-1]
            picks = np.searchsorted(cumulative, draws, side="right").clip(0, members.size - 1)
            chosen[np.asarray(rows)] = members[picks]
        return chosen


@dataclass(frozen=True)
class Clock:
    """Where the viewing happens in time: each account's zone and hemisphere, and every zone's UTC offset
    for each day of the window (rhythms.utc_offsets)."""

    zone: pd.Series  # by user_id: index into rhythms.ZONE_NAMES
    southern: pd.Series  # by user_id
    offsets: np.ndarray  # [zone, day - first_day]
    first_day: int  # Unix day of offsets[:, 0]

    def offset(self, zone: np.ndarray, day: np.ndarray) -> np.ndarray:
        column = np.clip(day - self.first_day, 0, self.offsets.shape[1] - 1)
        return self.offsets[zone, column]


def _local_evening_starts(rng, clock: Clock, users: np.ndarray, instants: np.ndarray) -> np.ndarray:
    """Move each instant to an hour drawn from the evening curve on its local day, thinned by the local
    weekday and the season of the member's hemisphere; dropped ones are -1. Returned in UTC."""
    zone = clock.zone.reindex(users).fillna(0).to_numpy(np.int64)
    local_day = (instants + clock.offset(zone, instants // DAY)) // DAY
    local_seconds = rng.choice(24, size=users.size, p=EVENING / EVENING.sum()) * 3600 + rng.integers(
        0, 3600, users.size
    )
    start = local_day * DAY + local_seconds - clock.offset(zone, local_day)
    southern = clock.southern.reindex(users).fillna(False).to_numpy(bool)
    season = rhythms.seasonal(local_day, southern) / (1 + rhythms.HOLIDAY_PEAK)
    keep = rng.random(users.size) < WEEKDAY[rhythms.weekday(local_day)] / WEEKDAY.max() * season
    return np.where(keep, start, -1)


def draw_sessions(
    rng, catalogue: Catalogue, segments: pd.DataFrame, profiles: pd.DataFrame, engagement, clock: Clock, rate: float
) -> pd.DataFrame:
    """Sessions (sittings of one film or a run of episodes) of the accounts in `segments`, `rate` drawn per
    household and day at engagement 1 before the local weekday and season thin them, each with what it will
    play and how far (binge, outcome) and a reservation no longer than it can last; kept only where the
    profile is free and a screen of the plan is (seed.screens)."""
    household = profiles.groupby("user_id").size()
    users = segments["user_id"].to_numpy()
    size = household.reindex(users).fillna(1).to_numpy()
    intensity = rate * np.asarray(pd.Series(engagement).reindex(users).fillna(1.0)) * (1 + 0.35 * (size - 1))
    length = (segments["end"] - segments["start"]).to_numpy()
    seg_index = np.repeat(np.arange(len(segments)), rng.poisson(intensity * length / DAY))
    seg_start, seg_end = segments["start"].to_numpy()[seg_index], segments["end"].to_numpy()[seg_index]
    instants = seg_start + (rng.random(seg_index.size) * length[seg_index]).astype(np.int64)
    start = _local_evening_starts(rng, clock, users[seg_index], instants)
    inside = (start >= seg_start) & (start < seg_end)
    seg_index, start = seg_index[inside], start[inside]
    user = users[seg_index]
    # Profile: the account holder watches most; others share the rest.
    by_user = profiles.sort_values(["user_id", "slot"])
    first_row = by_user.groupby("user_id").cumcount() == 0
    offsets = pd.Series(np.flatnonzero(first_row.to_numpy()), index=by_user["user_id"][first_row].to_numpy())
    household_size = household.reindex(user).to_numpy()
    slot = np.minimum((household_size * rng.random(user.size) ** 1.8).astype(np.int64), household_size - 1)
    row = offsets.reindex(user).to_numpy() + slot
    profile_id = by_user["profile_id"].to_numpy()[row]
    kids = by_user["is_kids"].to_numpy(bool)[row]
    favourite = by_user["favourite_genre"].to_numpy()[row]
    genre = np.where(rng.random(user.size) < FAVOURITE_GENRE_SHARE, favourite, -1)
    premium = segments["premium"].to_numpy(bool)[seg_index]
    title = catalogue.sample(rng, premium, kids, genre)
    n = user.size
    series = catalogue.is_series[np.maximum(title, 0)]
    binge = np.where(series, np.minimum(rng.geometric(0.45, n), MAX_BINGE), 1)
    outcome = rng.random(n)  # < 0.55 finishes, < 0.85 stops part-way, else abandons early
    part_way = rng.uniform(0.15, 0.85, n)
    longest = catalogue.longest[np.maximum(title, 0)]
    last = np.select([outcome < 0.55, outcome < 0.85], [longest, np.ceil(part_way * longest)], ABANDON_SECONDS)
    reserved_end = start + (binge - 1) * (longest + EPISODE_PAUSE) + np.minimum(last, longest).astype(np.int64)
    keep = (title >= 0) & (reserved_end <= segments["end"].to_numpy()[seg_index])
    screens_at_start = segments["max_streams"].to_numpy(np.int64)[seg_index]
    keep[keep] = screens.feasible(user[keep], profile_id[keep], start[keep], reserved_end[keep], screens_at_start[keep])
    device = DEVICES[rng.choice(DEVICES.size, size=n, p=DEVICE_WEIGHTS)]
    sessions = pd.DataFrame(
        {
            "user_id": user,
            "profile_id": profile_id,
            "title": title,
            "start": start,
            "premium": premium,
            "kids": kids,
            "segment_end": segments["end"].to_numpy()[seg_index],
            "device": device,
            "genre": genre,
            "binge": binge,
            "outcome": outcome,
            "part_way": part_way,
            "reserved_end": reserved_end,
        }
    )[keep]
    sessions = sessions.sort_values(["user_id", "profile_id", "title", "start"], kind="stable").reset_index(drop=True)
    sessions["chain"] = sessions.groupby(["profile_id", "title"], sort=False).ngroup()
    return sessions


def watch_sessions(rng, catalogue: Catalogue, sessions: pd.DataFrame) -> dict[str, np.ndarray]:
    """Playback events: films resume where they were left; series go on episode after episode."""
    n = len(sessions)
    title = sessions["title"].to_numpy()
    series = catalogue.is_series[title]
    occurrence = sessions.groupby(["profile_id", "title"], sort=False).cumcount().to_numpy()
    binge, outcome, part_way = (sessions[c].to_numpy() for c in ("binge", "outcome", "part_way"))
    cursor = np.zeros(n, dtype=np.int64)  # episode index (films: 0)
    resume = np.zeros(n, dtype=np.int64)  # position to resume from in that episode
    # Sequential per (profile, title): each occurrence starts where the previous one left off.
    last_episode = np.zeros(n, dtype=np.int64)
    last_position = np.zeros(n, dtype=np.int64)
    last_done = np.zeros(n, dtype=bool)
    start = sessions["start"].to_numpy()
    for k in range(int(occurrence.max(initial=-1)) + 1):
        rows = np.flatnonzero(occurrence == k)
        if k > 0:
            prev = rows - 1
            finished = last_done[prev]
            cursor[rows] = np.where(finished, last_episode[prev] + series[rows], last_episode[prev])
            cursor[rows] = np.where(~series[rows] & finished, 0, cursor[rows])  # a film seen to the end: a re-watch
            resume[rows] = np.where(finished, 0, last_position[prev])
        final_episode = cursor[rows] + binge[rows] - 1
        runtime = runtime_seconds(catalogue, title[rows], final_episode)
        start_at = np.where(binge[rows] == 1, resume[rows], 0)
        watched_to = np.select(
            [outcome[rows] < 0.55, outcome[rows] < 0.85],
            [runtime * rng.uniform(0.92, 1.0, rows.size), runtime * part_way[rows]],
            start_at + rng.integers(20, ABANDON_SECONDS, rows.size),
        ).astype(np.int64)
        watched_to = np.clip(np.maximum(watched_to, start_at + 1), 1, runtime)
        last_episode[rows] = final_episode
        last_position[rows] = watched_to
        last_done[rows] = watched_to >= watching_rules.COMPLETED_AT * runtime
    # One event per episode watched in a session: all but the last run to the end.
    episodes = np.repeat(np.arange(n), binge)
    step = np.arange(episodes.size) - np.repeat(np.cumsum(binge) - binge, binge)
    ep_index = cursor[episodes] + step
    in_show = ~series[episodes] | (ep_index < catalogue.episode_count[title[episodes]])
    episodes, step, ep_index = episodes[in_show], step[in_show], ep_index[in_show]
    is_last = step == binge[episodes] - 1
    runtime = runtime_seconds(catalogue, title[episodes], ep_index)
    start_pos = np.where(step == 0, resume[episodes], 0)
    start_pos = np.minimum(start_pos, runtime - 1)
    end_pos = np.where(is_last, np.clip(last_position[episodes], start_pos + 1, runtime), runtime)
    watched = end_pos - start_pos
    # Episodes of one session follow each other with a short pause (all inside the session's reservation).
    offset = pd.Series(watched + EPISODE_PAUSE).groupby(episodes).cumsum().to_numpy() - (watched + EPISODE_PAUSE)
    started = start[episodes] + offset
    episode_id = np.where(
        series[episodes],
        catalogue.episode_id[
            np.minimum(catalogue.episode_start[title[episodes]] + ep_index, catalogue.episode_id.size - 1)
        ],
        0,
    )
    return {
        "user_id": sessions["user_id"].to_numpy()[episodes],
        "profile_id": sessions["profile_id"].to_numpy()[episodes],
        "title_id": catalogue.title_id[title[episodes]],
        "episode_id": episode_id,
        "is_film": ~series[episodes],
        "device": sessions["device"].to_numpy()[episodes],
        "started_at": started,
        "ended_at": started + watched,
        "start_position_seconds": start_pos,
        "end_position_seconds": end_pos,
        "watched_seconds": watched,
        "duration_seconds": runtime,
        "completed": end_pos >= watching_rules.COMPLETED_AT * runtime,
        "segment_end": sessions["segment_end"].to_numpy()[episodes],
        "chain": sessions["chain"].to_numpy()[episodes],
    }


def runtime_seconds(catalogue: Catalogue, title: np.ndarray, episode_index: np.ndarray) -> np.ndarray:
    series = catalogue.is_series[title]
    last = np.maximum(catalogue.episode_count[title] - 1, 0)
    position = catalogue.episode_start[title] + np.minimum(episode_index, last)
    position = np.minimum(position, max(catalogue.episode_runtime.size - 1, 0))
    episode_runtime = catalogue.episode_runtime[position] if catalogue.episode_runtime.size else 0
    return np.where(series, episode_runtime, catalogue.runtime[title]).astype(np.int64)
