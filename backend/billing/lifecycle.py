"""The subscription rules that the app's billing, the seeder and the analytics share.

One place for them, so that a seeded year and a year lived through the app obey the same rules
(../shared/docs/metrics.md): trials are free and in no MRR; renewals fall on the billing anchor's
day of the month; a failed renewal is retried during a grace period and still counts as active
meanwhile; an annual plan's MRR is its price / 12, rounded to the cent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from dateutil.relativedelta import relativedelta

from backend.core.settings import get_settings

GRACE_DAYS = 7  # a past-due subscription keeps access (and counts in MRR) this long
RETRY_AFTER_DAYS = (1, 3, 5)  # retries of a failed renewal, days after the renewal date, inside the grace
MONTHS_PER_PERIOD = {"month": 1, "year": 12}
LIVE_STATES = ("trialing", "active", "past_due")  # a subscriber has at most one of these
PAYING_STATES = ("active", "past_due")  # in MRR (past_due only inside its grace period)
END_REASONS = ("voluntary", "involuntary", "trial_not_converted")
CENT = Decimal("0.01")


def trial_days() -> int:
    """Length of a first subscription's free trial (TRIAL_DAYS, default 7; 0 = no trials)."""
    return get_settings().trial_days


def period_end(anchor: datetime, periods: int, billing_period: str) -> datetime:
    """The end of paid period number `periods` (1 = the first) of a subscription anchored at `anchor`.

    Anchored, not chained: an anchor on the 31st renews on the last day of shorter months and
    returns to the 31st afterwards (Jan 31 -> Feb 28 -> Mar 31).
    """
    return anchor + relativedelta(months=MONTHS_PER_PERIOD[billing_period] * periods)


def monthly_recurring(price: Decimal, billing_period: str) -> Decimal:
    """MRR of one subscription: the price per month, an annual price / 12 rounded half-even to the cent."""
    return (Decimal(price) / MONTHS_PER_PERIOD[billing_period]).quantize(CENT, rounding=ROUND_HALF_EVEN)
