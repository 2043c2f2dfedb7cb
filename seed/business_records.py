"""The seeder's business records: the plans as arrays, the columns a simulation appends to, and money as
integer cents (never a float) turned into exact decimal text."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backend.billing import lifecycle

DAY = 86_400
NO_PLAN = -1
FAILURE_REASONS = np.array(["declined", "insufficient_funds"])  # the gateway's failure codes
CARD_BRAND, CARD_LAST4 = "Visa", "4242"  # seeded members pay with the simulated gateway's test card


@dataclass
class PlanBook:
    """The active plans as arrays, indexed 0..n-1; monthly plans ordered by price are the upgrade ladder."""

    plan_id: np.ndarray
    price_cents: np.ndarray
    mrr_cents: np.ndarray
    annual: np.ndarray
    tier: np.ndarray  # position on the monthly ladder (annual plans: -1)
    ladder: np.ndarray  # plan indexes of the monthly plans, cheapest first
    access_level: np.ndarray
    choice_weights: np.ndarray
    terms: pd.DataFrame  # per plan index: what a subscription keeps of its plan (backend.billing.state.PLAN_TERMS)

    @classmethod
    def from_frame(cls, plans: pd.DataFrame) -> PlanBook:
        plans = plans.sort_values(["billing_period", "price", "plan_id"]).reset_index(drop=True)
        annual = (plans["billing_period"] == "year").to_numpy()
        price_cents = np.array([int(p * 100) for p in plans["price"]], dtype=np.int64)
        mrr = [
            int(lifecycle.monthly_recurring(p, v) * 100)
            for p, v in zip(plans["price"], plans["validity_days"], strict=True)
        ]
        ladder = np.flatnonzero(~annual)
        if ladder.size == 0:
            raise ValueError("the seeder needs at least one active monthly plan")
        tier = np.full(len(plans), -1)
        tier[ladder] = np.arange(ladder.size)
        # Most choose the middle of the ladder; annual plans are a small share.
        weights = np.where(annual, 0.05, 1.0)
        if ladder.size >= 3:
            weights[ladder] = np.r_[0.30, np.full(ladder.size - 2, 0.45 / (ladder.size - 2)), 0.20]
        return cls(
            plans["plan_id"].to_numpy(np.int64),
            price_cents,
            np.array(mrr, dtype=np.int64),
            annual,
            tier,
            ladder,
            plans["access_level"].to_numpy(),
            weights / weights.sum(),
            plans[["billing_period", "validity_days", "access_level", "max_devices_allowed", "resolution"]],
        )


@dataclass
class Log:
    """Columns appended round by round, concatenated at the end."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **columns) -> None:
        n = max(np.size(v) for v in columns.values())
        for name, values in columns.items():
            self.parts.setdefault(name, []).append(
                np.broadcast_to(values, n).copy() if np.ndim(values) == 0 else np.asarray(values)
            )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: np.concatenate(chunks) for name, chunks in self.parts.items()})


@dataclass
class Business:
    subscriptions: pd.DataFrame
    events: pd.DataFrame
    payments: pd.DataFrame


def add_months(instants: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Vectorised `lifecycle.period_end`: instants (Unix s) plus whole months, clipped to the month's end."""
    stamp = instants.astype("datetime64[s]")
    day = stamp.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    day_of_month = (day - month).astype(np.int64)
    target = month + months.astype("timedelta64[M]")
    days_in_target = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    new_day = target.astype("datetime64[D]") + np.minimum(day_of_month, days_in_target - 1)
    return new_day.astype("datetime64[s]").astype(np.int64) + (stamp - day.astype("datetime64[s]")).astype(np.int64)


def cents_text(cents: np.ndarray) -> np.ndarray:
    """Exact decimal text for integer cents (money never passes through a float)."""
    cents = np.asarray(cents, dtype=np.int64)
    return np.char.add(np.char.add((cents // 100).astype(str), "."), np.char.zfill((cents % 100).astype(str), 2))


def capacity(accounts: int) -> int:
    """How many subscription ids a run for this many accounts may use."""
    return 3 * accounts + 16
