"""Account refusals: messages to show as they are (bad input, a locked sign-in)."""

from __future__ import annotations

from backend.core.errors import Refusal


class AccountError(Refusal):
    """Bad account input (a weak password, a taken email...) or a failed sign-in."""

    code = "account_rejected"


class SignInLocked(AccountError):
    """Too many failed sign-ins: the account is locked for a while."""

    kind = "locked"
    code = "sign_in_locked"
