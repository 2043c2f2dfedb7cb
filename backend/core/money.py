"""Money: amounts are Decimal (NUMERIC(12,2) in the database), rounded half-up to the cent when shown,
and every price anyone enters passes the one rule here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from backend.core.errors import Refusal

CENT = Decimal("0.01")
MAX_PRICE = Decimal("1000")


def parse_price(value: str | Decimal | int, refusal: type[Refusal] = Refusal) -> Decimal:
    """A price above 0 and at most MAX_PRICE, with at most two decimals; otherwise `refusal` saying why.

    Never rounds: 12.999 is refused, not read as 13.00 (a price is what the admin typed, or nothing)."""
    try:
        price = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise refusal("Enter the price as a number, like 12.99.") from None
    if not price.is_finite():
        raise refusal("Enter the price as a number, like 12.99.")
    if price <= 0 or price > MAX_PRICE:
        raise refusal(f"The price must be above 0 and at most {MAX_PRICE:,.2f}.")
    if price != price.quantize(CENT):
        raise refusal("The price has at most two decimals (cents).")
    return price.quantize(CENT)


def to_cent(amount: Decimal) -> Decimal:
    """`amount` rounded half-up to the cent (14.625 -> 14.63), as a finance reader expects."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal | int | str) -> str:
    """An amount as shown everywhere: rounded half-up to the cent, thousands separated ('1,234.57')."""
    return f"{to_cent(Decimal(str(amount))):,.2f}"
