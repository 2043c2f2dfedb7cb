"""Billing refusals: a member's action that cannot be done, with a message to show as it is."""

from __future__ import annotations

from backend.core.errors import Refusal


class BillingError(Refusal):
    """A subscription or payment action that cannot be done now (a declined card, a plan not on sale...)."""

    kind = "conflict"
    code = "billing_rejected"
