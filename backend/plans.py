"""Subscription plans as members see them. (Creating and editing plans is the admin's, issue 8.)"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Plan:
    plan_id: int
    name: str
    price: Decimal
    currency: str
    billing_period: str
    resolution: str
    max_streams: int
    access_level: str
    description: str

    @property
    def price_label(self) -> str:
        return f"{self.currency} {self.price:,.2f} / {self.billing_period}"


def active_plans(engine: Engine) -> list[Plan]:
    """The plans that can be bought, cheapest first."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT plan_id, name, price, currency, billing_period, resolution, max_streams, access_level, description
            FROM plans WHERE is_active ORDER BY billing_period, price, name""")).mappings().all()
    return [Plan(**row) for row in rows]
