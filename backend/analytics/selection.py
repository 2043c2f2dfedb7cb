"""What a dashboard figure covers: a `Period` of calendar months (UTC) and `Filters` (plans, countries),
and the options the filter bar offers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, text

from backend.analytics.reading import authorise
from backend.core.clock import clock


def month_start(day: date) -> date:
    return day.replace(day=1)


def current_month(today: date | None = None) -> date:
    """The first day of the month to date (UTC)."""
    return month_start(today or clock().date())


def is_month_to_date(month: date, today: date | None = None) -> bool:
    """Whether `month` (any day in it) is not over yet: its figures cover the days so far."""
    return month_start(month) >= current_month(today)


def parse_month(value: str) -> date:
    """'2026-03' -> date(2026, 3, 1); ValueError with a clear message otherwise."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a month: use YYYY-MM, e.g. 2026-03.") from None


@dataclass(frozen=True)
class Period:
    """Calendar months first..last (UTC), both included; any day of a month stands for the month."""

    first: date
    last: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "first", month_start(self.first))
        object.__setattr__(self, "last", month_start(self.last))
        if self.first > self.last:
            raise ValueError("The first month must not be after the last month.")

    def months(self) -> list[date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [self.first + relativedelta(months=n) for n in range(count)]

    def widened(self, months_before: int) -> Period:
        return Period(self.first - relativedelta(months=months_before), self.last)


@dataclass(frozen=True)
class Filters:
    """Empty tuples mean "all". Plans by plan_id; countries by the account's country_code ('' = unknown)."""

    plan_ids: tuple[int, ...] = field(default=())
    countries: tuple[str, ...] = field(default=())

    def params(self) -> dict:
        return {
            "all_plans": not self.plan_ids,
            "plans": [int(p) for p in self.plan_ids] or [0],
            "all_countries": not self.countries,
            "countries": list(self.countries) or [""],
        }


NO_FILTERS = Filters()  # every plan and every country


@dataclass(frozen=True)
class FilterOptions:
    months: list[date]
    plans: dict[int, str]  # plan_id -> name
    countries: list[str]

    def default_period(self, months: int = 12, today: date | None = None) -> Period:
        """The last `months` complete months with data (the month to date stays one choice away): a
        dashboard opens on figures that are final, never on a partial month compared with full ones."""
        complete = [m for m in self.months if not is_month_to_date(m, today)] or self.months
        if not complete:
            this_month = current_month(today)
            return Period(this_month, this_month)
        return Period(complete[max(0, len(complete) - months)], complete[-1])


PLAN_IN = "(:all_plans OR {col} = ANY(CAST(:plans AS bigint[])))"
COUNTRY_IN = "(:all_countries OR country_code = ANY(CAST(:countries AS text[])))"


def filter_options(engine: Engine, *, acting_user_id: int | None) -> FilterOptions:
    """The months with revenue data, the plans and the countries the filter bar offers."""
    authorise(engine, acting_user_id)
    with engine.connect() as conn:
        bounds = conn.execute(text("SELECT min(month), max(month) FROM revenue_monthly")).one()
        plans: dict[int, str] = dict(
            conn.execute(text("SELECT plan_id, name FROM plans ORDER BY billing_period, price, name")).all()
        )
        countries = list(
            conn.execute(text("SELECT DISTINCT country_code FROM revenue_monthly ORDER BY country_code")).scalars()
        )
    months = Period(bounds[0], bounds[1]).months() if bounds[0] else []
    return FilterOptions(months, plans, countries)
