"""What the seeded members watch: playback sessions, latest progress, lists and ratings.

Viewing happens only while an account is entitled (trial, paid or past due in grace), on titles its
plan's access level and the profile's maturity allow, one stream at a time per profile and never more
at once than the plan's screens (seed.screens). Popularity is skewed (a few titles take many views;
newer titles trend), each profile has a favourite genre, sessions follow the evening and weekend rhythm
in the member's own time zone and the seasons (holiday peak, summer dip: seed.rhythms), series are
watched episode after episode (a session may binge several), and a title is resumed where it was left.
Watch time is calibrated to a published figure: about 2 hours a day per member household, Netflix's
own average in its letter to shareholders for Q3 2024 (TARGET_HOURS_PER_DAY). Heavier viewers (higher
engagement) watch more, and the business simulation makes them churn less, so watch time carries real
churn signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seed.business_records import DAY
from seed.sessions import Catalogue, Clock, draw_sessions, watch_sessions

ENDED_KINDS = ("churned", "trial_expired")
# Netflix, letter to shareholders for Q3 2024 (17 October 2024): members watch about two hours a day on
# average per paid membership (member household). Seeded households watch that much per entitled day.
TARGET_HOURS_PER_DAY = 2.0
CANDIDATE_SESSIONS_PER_DAY = 2.6  # per household at engagement 1, before the weekday and season thin them


@dataclass
class Viewing:
    playback: dict[str, np.ndarray]
    progress: pd.DataFrame
    lists: pd.DataFrame
    ratings: pd.DataFrame


def entitlement_segments(
    events: pd.DataFrame, plan_premium: dict[int, bool], end: int, plan_screens: dict[int, int] | None = None
) -> pd.DataFrame:
    """[start, end) stretches in which each user may watch, with whether premium titles are allowed and
    how many screens at once (`max_devices_allowed` of the plan; 1 when unknown).

    Built from the event log: after any event but an ending one the subscription is live (trial,
    active, past due in grace); consecutive stretches with the same access and screens are merged.
    """
    ev = events[["user_id", "occurred_at", "kind", "plan_id"]]
    following = ev["occurred_at"].shift(-1)
    same_user = ev["user_id"].shift(-1) == ev["user_id"]
    seg = pd.DataFrame(
        {
            "user_id": ev["user_id"].to_numpy(),
            "start": ev["occurred_at"].to_numpy(),
            "end": np.where(same_user, following, end).astype(np.int64),
            "premium": ev["plan_id"].map(plan_premium).to_numpy(bool),
            "max_streams": ev["plan_id"].map(plan_screens or {}).fillna(1).to_numpy(np.int64),
            "live": ~ev["kind"].isin(ENDED_KINDS).to_numpy(),
        }
    )
    seg = seg[seg["live"] & (seg["end"] > seg["start"])]
    # Merge stretches that touch and keep the same access.
    new_run = (
        (seg["user_id"] != seg["user_id"].shift())
        | (seg["start"] != seg["end"].shift())
        | (seg["premium"] != seg["premium"].shift())
        | (seg["max_streams"] != seg["max_streams"].shift())
    )
    run = new_run.cumsum()
    return (
        seg.groupby(run, sort=False)
        .agg(
            user_id=("user_id", "first"),
            start=("start", "first"),
            end=("end", "last"),
            premium=("premium", "first"),
            max_streams=("max_streams", "first"),
        )
        .reset_index(drop=True)
    )


def simulate_viewing(
    rng: np.random.Generator,
    catalogue: Catalogue,
    segments: pd.DataFrame,
    profiles: pd.DataFrame,
    engagement: dict[int, float] | pd.Series,
    review_pool: np.ndarray,
    window_end: int,
    clock: Clock,
) -> Viewing:
    """Viewing of the accounts in `segments` (one chunk of accounts) and their `profiles`, calibrated to
    TARGET_HOURS_PER_DAY per entitled household: sessions are drawn with some to spare, played, then whole
    (profile, title) runs of sessions are kept at random until the hours match (a run is dropped whole, so
    what is kept still resumes where it left off; dropping only frees screens)."""
    target = TARGET_HOURS_PER_DAY * 3600 * float((segments["end"] - segments["start"]).sum()) / DAY
    rate = CANDIDATE_SESSIONS_PER_DAY
    for _attempt in range(3):
        sessions = draw_sessions(rng, catalogue, segments, profiles, engagement, clock, rate)
        events = watch_sessions(rng, catalogue, sessions)
        realised = float(events["watched_seconds"].sum())
        if realised >= target:
            break
        rate *= 1.2 * target / max(realised, 1.0)  # this catalogue plays shorter: draw more, once or twice
    share = min(1.0, target / max(realised, 1.0))
    kept_chains = rng.random(int(sessions["chain"].to_numpy().max(initial=-1)) + 1) < share
    sessions = sessions[kept_chains[sessions["chain"].to_numpy()]]
    inside = (
        kept_chains[events["chain"]]
        & (events["ended_at"] <= events["segment_end"])
        & (events["ended_at"] <= window_end)
    )
    events = {name: values[inside] for name, values in events.items()}
    progress = _progress(events)
    lists = _lists(rng, catalogue, sessions)
    ratings = _ratings(rng, catalogue, progress, review_pool, window_end)
    return Viewing(events, progress, lists, ratings)


def _progress(events: dict[str, np.ndarray]) -> pd.DataFrame:
    """The latest position per profile and title: the last event's episode and end position."""
    frame = pd.DataFrame(
        {
            name: events[name]
            for name in (
                "user_id",
                "profile_id",
                "title_id",
                "episode_id",
                "is_film",
                "end_position_seconds",
                "duration_seconds",
                "completed",
                "ended_at",
            )
        }
    )
    latest = frame.sort_values(["user_id", "profile_id", "title_id", "ended_at"]).drop_duplicates(
        ["user_id", "profile_id", "title_id"], keep="last"
    )
    return pd.DataFrame(
        {
            "user_id": latest["user_id"],
            "profile_id": latest["profile_id"],
            "title_id": latest["title_id"],
            "episode_id": latest["episode_id"].astype("Int64").mask(latest["is_film"]),  # films: no episode
            "position_seconds": latest["end_position_seconds"],
            "duration_seconds": latest["duration_seconds"],
            "completed": latest["completed"],
            "updated_at": latest["ended_at"],
        }
    )


def _lists(rng, catalogue: Catalogue, sessions: pd.DataFrame) -> pd.DataFrame:
    """My List: some watched titles, and titles saved for later from the same choices."""
    saved = sessions[rng.random(len(sessions)) < 0.06]
    extra = sessions[rng.random(len(sessions)) < 0.05]
    later = catalogue.sample(
        rng, extra["premium"].to_numpy(bool), extra["kids"].to_numpy(bool), extra["genre"].to_numpy()
    )
    found = later >= 0
    rows = pd.concat(
        [
            pd.DataFrame(
                {
                    "user_id": saved["user_id"],
                    "profile_id": saved["profile_id"],
                    "title_id": catalogue.title_id[saved["title"]],
                    "added_at": saved["start"],
                }
            ),
            pd.DataFrame(
                {
                    "user_id": extra["user_id"].to_numpy()[found],
                    "profile_id": extra["profile_id"].to_numpy()[found],
                    "title_id": catalogue.title_id[later[found]],
                    "added_at": extra["start"].to_numpy()[found],
                }
            ),
        ]
    )
    return rows.sort_values("added_at").drop_duplicates(["user_id", "profile_id", "title_id"]).reset_index(drop=True)


def _ratings(
    rng, catalogue: Catalogue, progress: pd.DataFrame, review_pool: np.ndarray, window_end: int
) -> pd.DataFrame:
    """Thumbs down, up or love for some titles a profile finished; a few with a written review."""
    done = progress[progress["completed"].to_numpy(bool) & (rng.random(len(progress)) < 0.3)]
    score = rng.choice([-1, 1, 2], size=len(done), p=[0.12, 0.58, 0.30])
    review = np.where(rng.random(len(done)) < 0.12, review_pool[rng.integers(0, review_pool.size, len(done))], None)
    at = np.minimum(done["updated_at"].to_numpy() + rng.integers(30, 900, len(done)), window_end - 1)
    return pd.DataFrame(
        {
            "user_id": done["user_id"],
            "profile_id": done["profile_id"],
            "title_id": done["title_id"],
            "score": score,
            "review": review,
            "created_at": at,
            "updated_at": at,
        }
    )
