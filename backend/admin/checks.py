"""What every admin change shares: the admin-only role check, `AdminError` and the input checks of forms."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from backend.accounts import users
from backend.core import money
from backend.core.errors import Refusal


class AdminError(Refusal):
    """An admin change refused (bad input, a rule it breaks); nothing was changed."""

    code = "admin_rejected"


def require_admin(engine: Engine, acting_user_id: int | None) -> users.User:
    return users.require_role(engine, acting_user_id, "admin")


def parse_price(value: str | Decimal | int) -> Decimal:
    """The one price rule (backend.core.money), refused as an AdminError."""
    return money.parse_price(value, AdminError)


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
