"""The subscription rules that the app's billing, the seeder and the analytics share.

One place for them, so that a seeded year and a year lived through the app obey the same rules
(../shared/docs/metrics.md): trials are free and in no MRR; renewals fall on the billing anchor's
day of the month; a failed renewal is retried during a grace period and still counts as active
meanwhile; an annual plan's MRR is its price / 12, rounded half-up to the cent. A plan's `validity_days`
drives its period (`billing_period_for`, `period_end`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from backend.core.money import to_cent
from backend.core.settings import get_settings

GRACE_DAYS = 7  # a past-due subscription keeps access (and counts in MRR) this long
RETRY_AFTER_DAYS = (1, 3, 5)  # retries of a failed renewal, days after the renewal date, inside the grace
MONTHS_PER_PERIOD = {"month": 1, "year": 12}
LIVE_STATES = ("trialing", "active", "past_due")  # a subscriber has at most one of these
PAYING_STATES = ("active", "past_due")  # in MRR (past_due only inside its grace period)
END_REASONS = ("voluntary", "involuntary", "trial_not_converted")
MONTH_DAYS = range(28, 32)  # a plan valid this many days bills by calendar month
YEAR_DAYS = (365, 366)  # and this many, by calendar year
DAYS_PER_MONTH = Decimal(365) / 12  # how a plan of N days is normalised to a month (MRR)


def trial_days() -> int:
    """Length of a first subscription's free trial (TRIAL_DAYS, default 7; 0 = no trials)."""
    return get_settings().trial_days


def billing_period_for(validity_days: int) -> str:
    """The unit a plan's `validity_days` bills by: 28-31 days is one calendar month ('month'), 365-366 one
    calendar year ('year'), anything else exactly that many days ('day'). The plans table checks the same."""
    if validity_days in MONTH_DAYS:
        return "month"
    if validity_days in YEAR_DAYS:
        return "year"
    return "day"


def period_label(validity_days: int) -> str:
    """'month', 'year' or 'N days': what one period of a plan valid this many days is called."""
    unit = billing_period_for(validity_days)
    return f"{validity_days} days" if unit == "day" else unit


def period_end(anchor: datetime, periods: int, validity_days: int) -> datetime:
    """The end of paid period number `periods` (1 = the first) of a subscription anchored at `anchor`.

    Anchored, not chained: an anchor on the 31st renews on the last day of shorter months and
    returns to the 31st afterwards (Jan 31 -> Feb 28 -> Mar 31). A 'day' period is exactly
    `validity_days` days.
    """
    unit = billing_period_for(validity_days)
    if unit == "day":
        return anchor + timedelta(days=validity_days * periods)
    return anchor + relativedelta(months=MONTHS_PER_PERIOD[unit] * periods)


def monthly_recurring(price: Decimal, validity_days: int) -> Decimal:
    """MRR of one subscription: the price per month (an annual price / 12; a price for N days times
    (365 / 12) / N), rounded half-up to the cent."""
    unit = billing_period_for(validity_days)
    if unit == "day":
        return to_cent(Decimal(price) * DAYS_PER_MONTH / validity_days)
    return to_cent(Decimal(price) / MONTHS_PER_PERIOD[unit])
