"""What every admin change shares: the admin-only role check, the refusals and the input checks of forms."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from backend.accounts import users
from backend.core import money
from backend.core.errors import Refusal


class AdminError(Refusal):
    """An admin change refused for its input (the field says which); nothing was changed."""


class AdminConflict(AdminError):
    """An admin change that the current state does not allow."""

    kind = "conflict"
    code = "admin_conflict"


class TitleNotFound(AdminError):
    """There is no title with this id."""

    kind = "not_found"
    code = "title_not_found"


class AccountNotFound(AdminError):
    """There is no account with this id."""

    kind = "not_found"
    code = "account_not_found"


class PlanNameTaken(AdminConflict):
    """Another plan already has this name."""

    code = "plan_name_taken"


class PlanHasSubscribers(AdminConflict):
    """Someone subscribed to this plan, so it cannot be deleted (take it off sale instead)."""

    code = "plan_has_subscribers"


class LastPlanOnSale(AdminConflict):
    """This is the only plan on sale: put another on sale first."""

    code = "last_plan_on_sale"


class OwnAccount(AdminError):
    """Admins cannot suspend or change the role of their own account."""

    kind = "forbidden"
    code = "own_account"


class AccountStateUnchanged(AdminConflict):
    """The account is already suspended (or already not suspended)."""

    code = "account_state_unchanged"


class TitleStateUnchanged(AdminConflict):
    """The title is already active (or already inactive)."""

    code = "title_state_unchanged"


def require_admin(engine: Engine, acting_user_id: int | None) -> users.User:
    return users.require_role(engine, acting_user_id, "admin")


class _PriceRefusal(AdminError):
    """A price that breaks the one price rule (backend.core.money)."""

    def __init__(self, message: str = "", *, field: str | None = "price") -> None:
        super().__init__(message, field=field)


def parse_price(value: str | Decimal | int) -> Decimal:
    """The one price rule (backend.core.money), refused as an AdminError about the field `price`."""
    return money.parse_price(value, _PriceRefusal)


def whole_number(value: int | str, label: str, low: int, high: int, *, field: str | None = None) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise AdminError(f"{label} must be a whole number from {low} to {high}.", field=field) from None
    if not low <= number <= high:
        raise AdminError(f"{label} must be from {low} to {high}.", field=field)
    return number


def one_of(value: str, label: str, choices: tuple[str, ...], *, field: str | None = None) -> str:
    if value not in choices:
        raise AdminError(f"{label} must be one of: {', '.join(choices)}.", field=field)
    return value
