"""The subscription business, simulated for every account at once, one billing step per round.

Each round moves every live subscription one step: the end of its trial, or one paid period with
what may happen inside it (an upgrade, a scheduled downgrade, a cancellation, some undone) and the
renewal at its end (paid, or failed and retried inside the grace period). Ended subscribers may
come back later. The rules are `backend.billing.lifecycle`'s: trials are free, upgrades count at once and
are charged from the next renewal, downgrades and cancellations take effect at the period end, a
failed renewal is retried on RETRY_AFTER_DAYS and ends as involuntary churn after GRACE_DAYS.
Churn depends on plan, tenure and engagement (light viewers churn more).
"""

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

    @classmethod
    def from_frame(cls, plans: pd.DataFrame) -> PlanBook:
        plans = plans.sort_values(["billing_period", "price", "plan_id"]).reset_index(drop=True)
        annual = (plans["billing_period"] == "year").to_numpy()
        price_cents = np.array([int(p * 100) for p in plans["price"]], dtype=np.int64)
        mrr = [
            int(lifecycle.monthly_recurring(p, b) * 100)
            for p, b in zip(plans["price"], plans["billing_period"], strict=True)
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


class Simulation:
    """State per account (arrays of length n) and per subscription (arrays with room to grow)."""

    def __init__(
        self,
        rng: np.random.Generator,
        plans: PlanBook,
        user_ids: np.ndarray,
        created: np.ndarray,
        engagement: np.ndarray,
        end: int,
        first_subscription_id: int,
    ):
        self.rng, self.plans, self.end = rng, plans, end
        self.user_ids, self.engagement = user_ids, engagement
        n = user_ids.size
        self.events, self.payments = Log(), Log()
        room = capacity(n)
        self.first_id = first_subscription_id
        self.sub = {
            name: np.zeros(room, dtype=np.int64)
            for name in (
                "account",
                "plan",
                "started_at",
                "trial_end",
                "period_start",
                "period_end",
                "canceled_at",
                "grace_until",
                "ended_at",
                "anchor",
                "settled_at",
            )
        }
        self.sub_status = np.full(room, "", dtype=object)
        self.sub_reason = np.full(room, None, dtype=object)
        self.sub_cancel = np.zeros(room, dtype=bool)
        self.sub_scheduled = np.full(room, NO_PLAN, dtype=np.int64)
        self.count = 0
        # per account
        self.latest = np.full(n, -1, dtype=np.int64)  # each account's latest subscription (index in self.sub)
        self.paid_before = np.zeros(n, dtype=bool)
        self.period_number = np.zeros(n, dtype=np.int64)
        self.created = created
        self._ended_accounts: list[int] = []  # ended since the last round, for the comeback draw
        self._ended_reasons: list[str] = []

    # --- helpers -----------------------------------------------------------------------------

    def _new_subscriptions(self, accounts: np.ndarray, plan: np.ndarray, at: np.ndarray) -> np.ndarray:
        index = np.arange(self.count, self.count + accounts.size)
        self.count += accounts.size
        self.sub["account"][index], self.sub["plan"][index], self.sub["started_at"][index] = accounts, plan, at
        self.latest[accounts] = index
        return index

    def _event(
        self, subs: np.ndarray, kind: str, at: np.ndarray, plan: np.ndarray, mrr: np.ndarray, reason: str | None = None
    ) -> None:
        if subs.size:
            self.events.add(
                account=self.sub["account"][subs], sub=subs, kind=kind, at=at, plan=plan, mrr=mrr, reason=reason or ""
            )

    def _payment(
        self,
        subs: np.ndarray,
        at: np.ndarray,
        amount: np.ndarray,
        ok: np.ndarray,
        period_start: np.ndarray,
        period_end: np.ndarray,
        attempt: np.ndarray,
    ) -> None:
        if subs.size:
            reasons = FAILURE_REASONS[self.rng.integers(0, FAILURE_REASONS.size, subs.size)]
            self.payments.add(
                account=self.sub["account"][subs],
                sub=subs,
                plan=self.sub["plan"][subs],
                at=at,
                amount=amount,
                ok=ok,
                reason=np.where(ok, "", reasons),
                period_start=period_start,
                period_end=period_end,
                number=self.period_number[self.sub["account"][subs]],
                attempt=attempt,
            )

    def _period_end(self, subs: np.ndarray, number: np.ndarray) -> np.ndarray:
        months = np.where(self.plans.annual[self.sub["plan"][subs]], 12, 1) * number
        return add_months(self.sub["anchor"][subs], months)

    def _mrr(self, subs: np.ndarray) -> np.ndarray:
        return self.plans.mrr_cents[self.sub["plan"][subs]]

    def _uniform_between(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return low + (self.rng.random(low.size) * (high - low)).astype(np.int64)

    # --- the story -------------------------------------------------------------------------------

    def run(self) -> None:
        paying = self._end_trials(self._start_trials())
        for _round in range(1000):
            ended, reasons = self._take_ended()
            back_at = self._comeback_times(ended, reasons)
            returning = (back_at >= 0) & (back_at < self.end)
            paying = np.r_[self._paid_period(paying), self._resubscribe(ended[returning], back_at[returning])]
            if paying.size == 0 and not self._ended_accounts:
                break

    def _take_ended(self) -> tuple[np.ndarray, np.ndarray]:
        accounts = np.array(self._ended_accounts, dtype=np.int64)
        reasons = np.array(self._ended_reasons, dtype=object)
        self._ended_accounts, self._ended_reasons = [], []
        return accounts, reasons

    def _start_trials(self) -> np.ndarray:
        n = self.user_ids.size
        starts = self.created + self.rng.integers(60, 3600, n)
        takers = np.flatnonzero((self.rng.random(n) < 0.93) & (starts < self.end))
        plan = self.rng.choice(self.plans.plan_id.size, size=takers.size, p=self.plans.choice_weights)
        subs = self._new_subscriptions(takers, plan, starts[takers])
        trial_end = starts[takers] + lifecycle.trial_days() * DAY
        self.sub["trial_end"][subs], self.sub["period_start"][subs] = trial_end, starts[takers]
        self.sub["period_end"][subs] = trial_end
        self.sub_status[subs] = "trialing"
        self._event(subs, "trial_started", starts[takers], self.plans.plan_id[plan], 0)
        return subs

    def _end_trials(self, subs: np.ndarray) -> np.ndarray:
        """Trials that end inside the window convert (engagement helps) or expire; returns the paying ones."""
        subs = subs[self.sub["trial_end"][subs] < self.end]
        accounts = self.sub["account"][subs]
        at = self.sub["trial_end"][subs]
        p_convert = 1 / (1 + np.exp(-(0.9 + 1.5 * np.log(self.engagement[accounts]))))
        converts = self.rng.random(subs.size) < p_convert
        paid, lapsed = subs[converts], subs[~converts]
        # Converted: the first paid period starts when the trial ends and is charged then.
        self.sub["anchor"][paid] = at[converts]
        self.period_number[self.sub["account"][paid]] = 1
        self._open_period(paid, at[converts])
        self._payment(
            paid,
            at[converts],
            self.plans.price_cents[self.sub["plan"][paid]],
            True,
            self.sub["period_start"][paid],
            self.sub["period_end"][paid],
            1,
        )
        self.paid_before[self.sub["account"][paid]] = True
        self._event(paid, "trial_converted", at[converts], self.plans.plan_id[self.sub["plan"][paid]], self._mrr(paid))
        # Not converted: most said so during the trial; the trial then simply ends.
        said = lapsed[self.rng.random(lapsed.size) < 0.7]
        when = self._uniform_between(self.sub["started_at"][said], self.sub["trial_end"][said])
        self.sub["canceled_at"][said] = when
        self.sub_cancel[said] = True
        self._event(said, "cancel_scheduled", when, self.plans.plan_id[self.sub["plan"][said]], 0)
        self._end(lapsed, self.sub["trial_end"][lapsed], "trial_expired", "trial_not_converted", "expired")
        return paid

    def _open_period(self, subs: np.ndarray, period_start: np.ndarray) -> None:
        self.sub_status[subs] = "active"
        self.sub["period_start"][subs] = period_start
        self.sub["period_end"][subs] = self._period_end(subs, self.period_number[self.sub["account"][subs]])

    def _end(self, subs: np.ndarray, at: np.ndarray, kind: str, reason: str, status: str) -> None:
        self._event(subs, kind, at, self.plans.plan_id[self.sub["plan"][subs]], 0, reason)
        self.sub["ended_at"][subs] = at
        self.sub_status[subs] = status
        self.sub_reason[subs] = reason
        self.sub_scheduled[subs] = NO_PLAN
        accounts = self.sub["account"][subs]
        self._ended_accounts.extend(accounts.tolist())
        self._ended_reasons.extend([reason] * accounts.size)

    def _churn_hazard(self, subs: np.ndarray) -> np.ndarray:
        """Monthly probability of cancelling: cheaper plans, new and light-viewing members churn more."""
        plan = self.sub["plan"][subs]
        accounts = self.sub["account"][subs]
        ladder_size = max(self.plans.ladder.size - 1, 1)
        ladder_share = np.maximum(self.plans.tier[plan], 0) / ladder_size
        base = np.where(self.plans.annual[plan], 0.02, 0.065 - 0.03 * ladder_share)
        number = self.period_number[accounts]
        tenure = np.select([number <= 1, number == 2, number <= 5], [1.6, 1.25, 1.0], 0.8)
        hazard = base * tenure * self.engagement[accounts] ** -0.8
        months = np.where(self.plans.annual[plan], 12, 1)
        return np.clip(1 - (1 - np.clip(hazard, 0, 0.6)) ** months, 0, 0.9)

    def _paid_period(self, subs: np.ndarray) -> np.ndarray:
        """One paid period for each subscription: what happens inside it, then its renewal."""
        if subs.size == 0:
            return subs
        start, end = self.sub["period_start"][subs], self.sub["period_end"][subs]
        action_at = self._uniform_between(np.maximum(start, self.sub["settled_at"][subs]), end)
        inside = action_at < self.end
        draw = self.rng.random(subs.size)
        plan = self.sub["plan"][subs]
        monthly = ~self.plans.annual[plan]
        top, bottom = self.plans.tier[plan] == self.plans.ladder.size - 1, self.plans.tier[plan] <= 0
        hazard = self._churn_hazard(subs)
        cancels = inside & (draw < hazard)
        upgrades = inside & monthly & ~top & (draw >= hazard) & (draw < hazard + 0.03)
        downgrades = inside & monthly & ~bottom & (draw >= hazard + 0.03) & (draw < hazard + 0.05)
        self._upgrade(subs[upgrades], action_at[upgrades])
        self._schedule_downgrade(subs[downgrades], action_at[downgrades], end[downgrades])
        still_canceled = self._cancel(subs[cancels], action_at[cancels], end[cancels])
        # Renewals that fall inside the window.
        due = subs[(end < self.end)]
        quitting = np.isin(due, still_canceled)
        self._end(due[quitting], self.sub["period_end"][due[quitting]], "churned", "voluntary", "canceled")
        return self._renew(due[~quitting])

    def _upgrade(self, subs: np.ndarray, at: np.ndarray) -> None:
        tier = self.plans.tier[self.sub["plan"][subs]]
        higher = tier + 1 + (self.rng.random(subs.size) * (self.plans.ladder.size - 1 - tier)).astype(np.int64)
        self.sub["plan"][subs] = self.plans.ladder[higher]
        self._event(subs, "upgraded", at, self.plans.plan_id[self.sub["plan"][subs]], self._mrr(subs))

    def _schedule_downgrade(self, subs: np.ndarray, at: np.ndarray, period_end: np.ndarray) -> None:
        tier = self.plans.tier[self.sub["plan"][subs]]
        lower = (self.rng.random(subs.size) * tier).astype(np.int64)
        self.sub_scheduled[subs] = self.plans.ladder[lower]
        self._event(subs, "downgrade_scheduled", at, self.plans.plan_id[self.sub["plan"][subs]], self._mrr(subs))
        undo = self.rng.random(subs.size) < 0.15
        undo_at = self._uniform_between(at[undo], period_end[undo])
        undone = subs[undo][undo_at < self.end]
        self.sub_scheduled[undone] = NO_PLAN
        self._event(
            undone,
            "downgrade_undone",
            undo_at[undo_at < self.end],
            self.plans.plan_id[self.sub["plan"][undone]],
            self._mrr(undone),
        )

    def _cancel(self, subs: np.ndarray, at: np.ndarray, period_end: np.ndarray) -> np.ndarray:
        """Cancellations at period end (some taken back); returns the subscriptions still cancelling."""
        self.sub_cancel[subs], self.sub["canceled_at"][subs] = True, at
        self._event(subs, "cancel_scheduled", at, self.plans.plan_id[self.sub["plan"][subs]], self._mrr(subs))
        undo = self.rng.random(subs.size) < 0.12
        undo_at = self._uniform_between(at[undo], period_end[undo])
        undone = subs[undo][undo_at < self.end]
        self.sub_cancel[undone], self.sub["canceled_at"][undone] = False, 0
        self._event(
            undone,
            "cancel_undone",
            undo_at[undo_at < self.end],
            self.plans.plan_id[self.sub["plan"][undone]],
            self._mrr(undone),
        )
        return np.setdiff1d(subs, undone)

    def _renew(self, subs: np.ndarray) -> np.ndarray:
        """Charge each due renewal; failures are retried in the grace period. Returns the subscriptions
        that go on into a new paid period (it starts on the renewal date, also after a late payment)."""
        due = self.sub["period_end"][subs].copy()
        downgrading = self.sub_scheduled[subs] != NO_PLAN
        moving = subs[downgrading]
        self.sub["plan"][moving] = self.sub_scheduled[moving]
        self.sub_scheduled[subs] = NO_PLAN
        self._event(
            moving, "downgraded", due[downgrading], self.plans.plan_id[self.sub["plan"][moving]], self._mrr(moving)
        )
        self.period_number[self.sub["account"][subs]] += 1
        next_end = self._period_end(subs, self.period_number[self.sub["account"][subs]])
        ok = self.rng.random(subs.size) >= 0.07
        self._payment(subs, due, self.plans.price_cents[self.sub["plan"][subs]], ok, due, next_end, 1)
        renewed = subs[ok]  # after a downgrade too, as the billing job logs it
        self._event(renewed, "renewed", due[ok], self.plans.plan_id[self.sub["plan"][renewed]], self._mrr(renewed))
        failed = subs[~ok]
        self._event(failed, "payment_failed", due[~ok], self.plans.plan_id[self.sub["plan"][failed]], self._mrr(failed))
        recovered, in_grace = self._retry(failed, due[~ok], next_end[~ok])
        going_on = np.r_[subs[ok], recovered]
        self._open_period(going_on, self.sub["period_end"][going_on])
        # Still in grace when the window ends: the period being charged for is the current one.
        self.sub["period_start"][in_grace] = self.sub["period_end"][in_grace]
        self.sub["period_end"][in_grace] = self._period_end(in_grace, self.period_number[self.sub["account"][in_grace]])
        return going_on

    def _retry(self, subs: np.ndarray, due: np.ndarray, next_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Retries after RETRY_AFTER_DAYS; the first success recovers; the grace end without one churns."""
        self.sub_status[subs] = "past_due"
        self.sub["grace_until"][subs] = due + lifecycle.GRACE_DAYS * DAY
        pending = np.ones(subs.size, dtype=bool)
        recovered = np.zeros(subs.size, dtype=bool)
        recovered_at = np.zeros(subs.size, dtype=np.int64)
        amount = self.plans.price_cents[self.sub["plan"][subs]]
        for attempt, days in enumerate(lifecycle.RETRY_AFTER_DAYS, start=2):
            at = due + days * DAY
            trying = pending & (at < self.end)
            ok = trying & (self.rng.random(subs.size) < 0.45)
            self._payment(subs[trying], at[trying], amount[trying], ok[trying], due[trying], next_end[trying], attempt)
            self._event(
                subs[ok],
                "payment_recovered",
                at[ok],
                self.plans.plan_id[self.sub["plan"][subs[ok]]],
                self._mrr(subs[ok]),
            )
            recovered |= ok
            recovered_at[ok] = at[ok]
            pending &= ~ok
        grace_end = due + lifecycle.GRACE_DAYS * DAY
        lost = pending & (grace_end < self.end)
        self._end(subs[lost], grace_end[lost], "churned", "involuntary", "expired")
        back = subs[recovered]
        self.sub["grace_until"][back] = 0
        self.sub["settled_at"][back] = recovered_at[recovered]
        return back, subs[pending & ~lost]

    def _comeback_times(self, accounts: np.ndarray, reasons: np.ndarray) -> np.ndarray:
        """Some former members come back (any gap); -1 for those who do not."""
        if accounts.size == 0:
            return np.array([], dtype=np.int64)
        chance = np.select([reasons == "voluntary", reasons == "involuntary"], [0.22, 0.30], 0.08)
        ended_at = self.sub["ended_at"][self.latest[accounts]]
        gap = ((3 + self.rng.exponential(45, accounts.size)) * DAY).astype(np.int64)
        return np.where(self.rng.random(accounts.size) < chance, ended_at + gap, -1)

    def _resubscribe(self, accounts: np.ndarray, at: np.ndarray) -> np.ndarray:
        room = self.sub["account"].size - self.count
        accounts, at = accounts[:room], at[:room]
        previous = self.sub["plan"][self.latest[accounts]]
        fresh = self.rng.choice(self.plans.plan_id.size, size=accounts.size, p=self.plans.choice_weights)
        plan = np.where(self.rng.random(accounts.size) < 0.7, previous, fresh)
        subs = self._new_subscriptions(accounts, plan, at)
        self.sub["anchor"][subs] = at
        self.period_number[accounts] = 1
        self._open_period(subs, at)
        self._payment(
            subs,
            at,
            self.plans.price_cents[plan],
            True,
            self.sub["period_start"][subs],
            self.sub["period_end"][subs],
            1,
        )
        before = self.paid_before[accounts]
        self._event(subs[before], "reactivated", at[before], self.plans.plan_id[plan[before]], self._mrr(subs[before]))
        self._event(
            subs[~before], "subscribed", at[~before], self.plans.plan_id[plan[~before]], self._mrr(subs[~before])
        )
        self.paid_before[accounts] = True
        return subs

    # --- results ---------------------------------------------------------------------------------

    def business(self) -> Business:
        """The subscriptions' final states, and the events and payments in time order (the database numbers them)."""
        return Business(self._subscriptions(), self._events(), self._payments())

    def _subscriptions(self) -> pd.DataFrame:
        i = np.arange(self.count)
        plan = self.sub["plan"][i]
        scheduled = self.sub_scheduled[i]
        return pd.DataFrame(
            {
                "user_id": self.user_ids[self.sub["account"][i]],
                "subscription_id": self.first_id + i,
                "plan_id": self.plans.plan_id[plan],
                "status": self.sub_status[i],
                "price": cents_text(self.plans.price_cents[plan]),
                "billing_period": np.where(self.plans.annual[plan], "year", "month"),
                "started_at": self.sub["started_at"][i],
                "trial_end": self.sub["trial_end"][i],
                "current_period_start": self.sub["period_start"][i],
                "current_period_end": self.sub["period_end"][i],
                "cancel_at_period_end": self.sub_cancel[i],
                "canceled_at": self.sub["canceled_at"][i],
                "grace_until": self.sub["grace_until"][i],
                "ended_at": self.sub["ended_at"][i],
                "end_reason": self.sub_reason[i],
                "scheduled_plan_id": pd.Series(self.plans.plan_id[scheduled], dtype="Int64").where(
                    scheduled != NO_PLAN
                ),
                "billing_anchor": self.sub["anchor"][i],
            }
        )

    def _events(self) -> pd.DataFrame:
        log = self.events.frame()
        log["order"] = np.arange(len(log))
        log["user_id"] = self.user_ids[log["account"]]
        log = log.sort_values(["user_id", "at", "order"], kind="stable").reset_index(drop=True)
        return pd.DataFrame(
            {
                "user_id": log["user_id"],
                "subscription_id": self.first_id + log["sub"],
                "kind": log["kind"],
                "occurred_at": log["at"],
                "plan_id": log["plan"],
                "mrr": cents_text(log["mrr"].to_numpy()),
                "reason": log["reason"].mask(log["reason"] == ""),
            }
        )

    def _payments(self) -> pd.DataFrame:
        log = self.payments.frame()
        log["user_id"] = self.user_ids[log["account"]]
        log = log.sort_values(["user_id", "at", "attempt"], kind="stable").reset_index(drop=True)
        sub_id = self.first_id + log["sub"]
        had_trial = self.sub["trial_end"][log["sub"].to_numpy()] > 0
        first = log["number"].to_numpy() == 1
        kind = np.select(
            [log["attempt"].to_numpy() > 1, first & had_trial, first], ["retry", "conversion", "checkout"], "renewal"
        )
        return pd.DataFrame(
            {
                "user_id": log["user_id"],
                "subscription_id": sub_id,
                "plan_id": self.plans.plan_id[log["plan"]],
                "amount": cents_text(log["amount"].to_numpy()),
                "status": np.where(log["ok"], "succeeded", "failed"),
                "idempotency_key": "seed-"
                + sub_id.astype(str)
                + "-"
                + log["number"].astype(str)
                + "-"
                + log["attempt"].astype(str),
                "failure_reason": log["reason"].mask(log["reason"] == ""),
                "period_start": log["period_start"],
                "period_end": log["period_end"],
                "attempted_at": log["at"],
                "kind": kind,
                "card_brand": CARD_BRAND,
                "card_last4": CARD_LAST4,
            }
        )


def cents_text(cents: np.ndarray) -> np.ndarray:
    """Exact decimal text for integer cents (money never passes through a float)."""
    cents = np.asarray(cents, dtype=np.int64)
    return np.char.add(np.char.add((cents // 100).astype(str), "."), np.char.zfill((cents % 100).astype(str), 2))


def simulate(
    rng: np.random.Generator,
    plans: PlanBook,
    user_ids: np.ndarray,
    created: np.ndarray,
    engagement: np.ndarray,
    end: int,
    first_subscription_id: int,
) -> Business:
    """Run the accounts' history up to `end`; subscriptions are numbered from the reserved `first_subscription_id`."""
    simulation = Simulation(rng, plans, user_ids, created, engagement, end, first_subscription_id)
    simulation.run()
    return simulation.business()


def capacity(accounts: int) -> int:
    """How many subscription ids a run for this many accounts may use."""
    return 3 * accounts + 16
