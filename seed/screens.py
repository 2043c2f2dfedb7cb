"""Seeded viewing that a real account could have made: one stream at a time per profile, and never more
streams at once on an account than its plan's screens (`plans.max_devices_allowed`).

Each drawn session reserves [start, reserved_end): an upper bound of how long it can last, known before
what it plays is worked out (binge length x the title's longest episode, the last one cut by the drawn
outcome). Sessions are then kept or dropped on their reservations, in time order, conservatively: a
session is kept only if every earlier drawn session (kept or not) of its profile has ended, and if fewer
than the plan's screens of the account's earlier drawn sessions are still running. What is kept can then
never overlap on a profile nor exceed the screens, whatever it turns out to play (it ends by its
reservation). Vectorised: a sort, a running maximum and a binary search, no loop over sessions.
"""

from __future__ import annotations

import numpy as np


def _keys(groups: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group rank, start key, end key) of rows sorted by group: int64 keys rank * span + time that sort by
    group, then time."""
    rank = np.unique(groups, return_inverse=True)[1].astype(np.int64)
    low = min(start.min(), end.min())
    span = int(max(start.max(), end.max()) - low) + 1
    return rank, rank * span + (start - low), rank * span + (end - low)


def free_profile(profile: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Keep a session only if every earlier session of its profile has ended by its start."""
    keep = np.zeros(start.size, dtype=bool)
    if start.size == 0:
        return keep
    order = np.lexsort((np.arange(start.size), start, profile))
    _, s, e = _keys(profile[order], start[order], end[order])
    ended_by = np.r_[np.iinfo(np.int64).min, np.maximum.accumulate(e)[:-1]]  # latest end of the earlier ones
    keep[order] = s >= ended_by
    return keep


def within_screens(account: np.ndarray, start: np.ndarray, end: np.ndarray, screens: np.ndarray) -> np.ndarray:
    """Keep a session only if fewer than `screens` (its plan's, at its start) of the account's earlier
    sessions are still running at its start."""
    keep = np.zeros(start.size, dtype=bool)
    if start.size == 0:
        return keep
    order = np.lexsort((np.arange(start.size), start, account))
    rank, s, e = _keys(account[order], start[order], end[order])
    e = np.sort(e)
    first_of_account = np.searchsorted(rank, rank, side="left")  # rank is sorted: the group's first row
    earlier = np.arange(order.size) - first_of_account
    ended = np.searchsorted(e, s, side="right") - first_of_account  # earlier sessions over by this start
    keep[order] = earlier - ended < screens[order]
    return keep


def feasible(
    account: np.ndarray, profile: np.ndarray, start: np.ndarray, end: np.ndarray, screens: np.ndarray
) -> np.ndarray:
    """The sessions to keep: free on their profile, then within the account's screens."""
    keep = free_profile(profile, start, end)
    rows = np.flatnonzero(keep)
    keep[rows] = within_screens(account[rows], start[rows], end[rows], screens[rows])
    return keep
