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

import numpy as np

from backend.billing import lifecycle
from seed.business_ledger import Ledger
from seed.business_records import DAY, NO_PLAN, Business, PlanBook


class Simulation(Ledger):
    """One billing step per round for every live subscription, until the simulated year ends."""

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
        hazard = base * tenure * self.engagement[accounts] ** -1.3
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
