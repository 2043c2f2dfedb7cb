"""What every admin change shares: the admin-only role check, `AdminError` and the input checks of forms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import Engine

from backend.accounts import users
from backend.core.errors import Refusal

MAX_PRICE = Decimal("1000")


class AdminError(Refusal):
    """An admin change refused (bad input, a rule it breaks); nothing was changed."""

    code = "admin_rejected"


def require_admin(engine: Engine, acting_user_id: int | None) -> users.User:
    return users.require_role(engine, acting_user_id, "admin")


def parse_price(value: str | Decimal | int) -> Decimal:
    """A price above 0 and at most 1,000, with at most two decimals."""
    try:
        price = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise AdminError("Enter the price as a number, like 12.99.") from None
    if not price.is_finite():
        raise AdminError("Enter the price as a number, like 12.99.")
    if price <= 0 or price > MAX_PRICE:
        raise AdminError(f"The price must be above 0 and at most {MAX_PRICE:,.2f}.")
    if price != price.quantize(Decimal("0.01")):
        raise AdminError("The price has at most two decimals (cents).")
    return price.quantize(Decimal("0.01"))


def whole_number(value: int | str, label: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise AdminError(f"{label} must be a whole number from {low} to {high}.") from None
    if not low <= number <= high:
        raise AdminError(f"{label} must be from {low} to {high}.")
    return number


def one_of(value: str, label: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise AdminError(f"{label} must be one of: {', '.join(choices)}.")
    return value
