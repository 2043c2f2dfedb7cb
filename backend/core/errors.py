"""Refusals: errors whose message is written for the person who asked, so it is shown to them as it is.

Every domain raises a subclass (AccountError, BillingError, AdminError...). `kind` says what sort of refusal it
is and `code` names it for machines, so the API maps every refusal to a status in one place (api/errors.py)
and the pages show every refusal in one place (ui/refusals.py). Anything that is not a Refusal is a fault:
logged, never shown.
"""

from __future__ import annotations

from typing import ClassVar, Literal

RefusalKind = Literal["invalid", "forbidden", "conflict", "locked", "not_found"]


class Refusal(Exception):
    """A request that cannot be done as asked; nothing was changed, and the message says why."""

    kind: ClassVar[RefusalKind] = "invalid"
    code: ClassVar[str] = "rejected"


class NotAuthorised(Refusal):
    """The acting account may not do this (the role is checked on the server)."""

    kind = "forbidden"
    code = "forbidden"
