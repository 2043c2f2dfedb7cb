"""The simulated business's state: per account and per subscription, with the events and payments written so
far, and the frames the seeder copies into the database at the end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from backend.billing import charge_keys
from seed.business_records import (
    CARD_BRAND,
    CARD_LAST4,
    FAILURE_REASONS,
    NO_PLAN,
    Business,
    Log,
    PlanBook,
    add_months,
    capacity,
    cents_text,
)


class Ledger:
    """State per account (arrays of length n) and per subscription (arrays with room to grow), the helpers
    that write events and payments, and the final frames. `seed.business.Simulation` moves it forward."""

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
                **{column: values.to_numpy()[plan] for column, values in self.plans.terms.items()},
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
        attempt = log["attempt"].to_numpy()
        kind = np.select([attempt > 1, first & had_trial, first], ["retry", "conversion", "checkout"], "renewal")
        # The one key scheme (backend.billing.charge_keys): what the charge pays for, and which attempt it is.
        named = charge_keys.charge_keys(
            sub_id.to_numpy(),
            log["period_start"].to_numpy(),
            np.where(attempt > 1, np.char.add("retry", (attempt - 1).astype(str)), kind),
        )
        seeded_form = np.char.add("seed-", sub_id.to_numpy().astype(str))
        keys = np.where(kind == "checkout", charge_keys.checkout_keys(seeded_form), named)
        return pd.DataFrame(
            {
                "user_id": log["user_id"],
                "subscription_id": sub_id,
                "plan_id": self.plans.plan_id[log["plan"]],
                "amount": cents_text(log["amount"].to_numpy()),
                "status": np.where(log["ok"], "succeeded", "failed"),
                "idempotency_key": keys,
                "failure_reason": log["reason"].mask(log["reason"] == ""),
                "period_start": log["period_start"],
                "period_end": log["period_end"],
                "attempted_at": log["at"],
                "kind": kind,
                "card_brand": CARD_BRAND,
                "card_last4": CARD_LAST4,
            }
        )
