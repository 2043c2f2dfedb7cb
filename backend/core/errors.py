"""Refusals: errors whose message is written for the person who asked, so it is shown to them as it is.

Every domain raises a subclass (AccountError, BillingError, AdminError...), one class per case a client may
want to tell apart. `kind` says what sort of refusal it is and `code` names the case for machines, so the API
maps every refusal to a status in one place (api/errors.py, which also lists each operation's codes in the
OpenAPI from these classes) and the pages show every refusal in one place (ui/refusals.py). A refusal about
one input names it in `field` (e.g. "price"). Anything that is not a Refusal is a fault: logged, never shown.
"""

from __future__ import annotations

from typing import ClassVar, Literal

# invalid: the input is wrong (the field says which); unauthorised: not signed in (or a bad token);
# forbidden: the role or the profile does not allow it; not_found: no such thing (for this caller);
# conflict: the current state does not allow it; payment: the payment was refused; locked: too many tries;
# unavailable: a service it needs is down (try again later).
RefusalKind = Literal[
    "invalid", "unauthorised", "forbidden", "not_found", "conflict", "payment", "locked", "unavailable"
]


class Refusal(Exception):
    """A request that cannot be done as asked; nothing was changed, and the message says why."""

    kind: ClassVar[RefusalKind] = "invalid"
    code: ClassVar[str] = "validation_error"
    field: str | None = None

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @property
    def details(self) -> dict | None:
        """Machine-readable facts beyond the message (e.g. the devices watching), or None."""
        return None


class NotAuthorised(Refusal):
    """The acting account may not do this (the role is checked on the server)."""

    kind = "forbidden"
    code = "forbidden"
