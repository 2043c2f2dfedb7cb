"""Billing refusals: a member's action that cannot be done, with a message to show as it is; one class per
case (its `code`), so that clients tell a declined card from a plan that is off sale without reading English."""

from __future__ import annotations

from typing import ClassVar

from backend.core.errors import Refusal, RefusalKind


class BillingError(Refusal):
    """A subscription action that the subscription's current state does not allow."""

    kind: ClassVar[RefusalKind] = "conflict"
    code = "billing_conflict"


class PlanNotFound(BillingError):
    """There is no plan with this id."""

    kind = "not_found"
    code = "plan_not_found"


class PlanNotOnSale(BillingError):
    """The plan exists but is not on sale."""

    code = "plan_not_on_sale"


class NoSubscription(BillingError):
    """The member has no current subscription to change."""

    code = "no_subscription"


class SubscriptionExists(BillingError):
    """The member already has a live subscription: change or resume it instead."""

    code = "subscription_exists"


class PaymentPastDue(BillingError):
    """The last renewal failed: retry it or update the card first."""

    code = "payment_past_due"


class AlreadyOnPlan(BillingError):
    """The member is already on this plan (and no downgrade is scheduled)."""

    code = "already_on_plan"


class CardRequired(BillingError):
    """No card was given and none is on file."""

    kind = "invalid"
    code = "card_required"


class FormExpired(BillingError):
    """The form's one-time key is missing or too long: reload and try again."""

    kind = "invalid"
    code = "idempotency_key_invalid"


class CardError(BillingError):
    """The card details are not usable (a bad number, expiry or CVC; an expired card); `field` names it."""

    kind = "invalid"
    code = "card_invalid"


class PaymentDeclined(BillingError):
    """The payment was refused; nothing was charged."""

    kind = "payment"
    code = "payment_declined"


class CardDeclined(PaymentDeclined):
    """The card was declined; nothing was charged."""

    code = "card_declined"


class InsufficientFunds(PaymentDeclined):
    """The card has insufficient funds; nothing was charged."""

    code = "insufficient_funds"


class PaymentServiceUnavailable(BillingError):
    """The payment service could not be reached; nothing was charged. Try again."""

    kind = "unavailable"
    code = "payment_service_unavailable"


DECLINES: dict[str, type[BillingError]] = {
    "declined": CardDeclined,
    "insufficient_funds": InsufficientFunds,
    "network_error": PaymentServiceUnavailable,
}


def payment_refused(failure_code: str | None, message: str, prefix: str = "") -> BillingError:
    """The refusal for a gateway failure code ('declined', 'insufficient_funds', 'network_error')."""
    return DECLINES.get(failure_code or "", PaymentDeclined)(prefix + message)
