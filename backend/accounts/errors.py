"""Account refusals: messages to show as they are (bad input, a taken email, a failed or locked sign-in)."""

from __future__ import annotations

from backend.core.errors import Refusal


class AccountError(Refusal):
    """Bad account input (a weak password, an invalid email or phone...); `field` names it."""


class EmailTaken(AccountError):
    """An account with this email already exists."""

    kind = "conflict"
    code = "email_taken"


class SignInFailed(AccountError):
    """The email or password is wrong."""

    kind = "unauthorised"
    code = "sign_in_failed"


class AccountSuspended(AccountError):
    """The account is suspended: it cannot sign in."""

    kind = "forbidden"
    code = "account_suspended"


class WrongPassword(AccountError):
    """The current password given to change it is not the account's."""

    code = "wrong_password"


class SignInLocked(AccountError):
    """Too many failed sign-ins: the account is locked for a while."""

    kind = "locked"
    code = "sign_in_locked"


class ProfileLimit(AccountError):
    """The account already has as many viewing profiles as allowed."""

    kind = "conflict"
    code = "profile_limit_reached"


class ProfileNameTaken(AccountError):
    """Another profile of the account has this name."""

    kind = "conflict"
    code = "profile_name_taken"


class NoAvatar(AccountError):
    """The account has no picture."""

    kind = "not_found"
    code = "avatar_not_found"
