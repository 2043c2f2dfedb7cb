"""Subscription plans as members see them, and the default line-up (admins edit plans: backend.admin.plans)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, Engine, text

from backend.billing.lifecycle import period_label
from backend.core.money import format_amount


@dataclass(frozen=True)
class Plan:
    """A plan as the requirements name its fields; `billing_period` is the unit its `validity_days` bills by
    (backend.billing.lifecycle.billing_period_for)."""

    plan_id: int
    name: str
    price: Decimal
    currency: str
    validity_days: int
    billing_period: str
    access_level: str
    max_devices_allowed: int
    resolution: str
    description: str
    is_active: bool

    @property
    def period_label(self) -> str:
        """'month', 'year' or 'N days'."""
        return period_label(self.validity_days)

    @property
    def price_label(self) -> str:
        return f"{self.currency} {format_amount(self.price)} / {self.period_label}"


PLAN_COLUMNS = (
    "plan_id, name, price, currency, validity_days, billing_period, access_level, max_devices_allowed, resolution, "
    "description, is_active"
)


def active_plans(engine: Engine) -> list[Plan]:
    """The plans that can be bought, cheapest first (monthly, then yearly, then by days)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(f"""SELECT {PLAN_COLUMNS} FROM plans WHERE is_active
                         ORDER BY billing_period = 'day', billing_period, price, name, plan_id""")
            )
            .mappings()
            .all()
        )
    return [Plan(**row) for row in rows]


# The line-up a new service starts with (the seeder creates it when there are no plans at all).
DEFAULT_PLANS: tuple[dict, ...] = (
    {
        "name": "Basic",
        "price": Decimal("7.99"),
        "billing_period": "month",
        "validity_days": 30,
        "access_level": "basic",
        "max_devices_allowed": 1,
        "resolution": "720p",
        "description": "One screen in HD. The back catalogue: every title released before 2020.",
    },
    {
        "name": "Standard",
        "price": Decimal("13.99"),
        "billing_period": "month",
        "validity_days": 30,
        "access_level": "premium",
        "max_devices_allowed": 2,
        "resolution": "1080p",
        "description": "Two screens in Full HD. Every title, the newest included.",
    },
    {
        "name": "Premium",
        "price": Decimal("19.99"),
        "billing_period": "month",
        "validity_days": 30,
        "access_level": "premium",
        "max_devices_allowed": 4,
        "resolution": "4K",
        "description": "Four screens in 4K Ultra HD. Every title, the newest included.",
    },
    {
        "name": "Standard Annual",
        "price": Decimal("143.88"),
        "billing_period": "year",
        "validity_days": 365,
        "access_level": "premium",
        "max_devices_allowed": 2,
        "resolution": "1080p",
        "description": "Standard for a year, paid once: 11.99 a month, two months free.",
    },
)


def ensure_default_plans(conn: Connection) -> bool:
    """Create the default plans when there are none; never touches existing (admin-edited) plans.

    Returns whether they were created. Takes a table lock so two concurrent callers create one set.
    """
    conn.execute(text("LOCK TABLE plans IN SHARE ROW EXCLUSIVE MODE"))
    if conn.execute(text("SELECT EXISTS (SELECT 1 FROM plans)")).scalar_one():
        return False
    conn.execute(
        text("""
        INSERT INTO plans (name, price, billing_period, validity_days, access_level, max_devices_allowed, resolution,
                           description)
        VALUES (:name, :price, :billing_period, :validity_days, :access_level, :max_devices_allowed, :resolution,
                :description)"""),
        list(DEFAULT_PLANS),
    )
    return True
