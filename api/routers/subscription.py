"""The member's subscription and billing: every rule is backend.billing's; each state-changing POST
needs an Idempotency-Key (checkout also passes it to the gateway, so the same key never charges twice)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from api.deps import EngineDep, IdempotencyKey, Me, idempotent
from api.errors import ApiError, Case
from api.openapi import refuses
from api.pages import Page, PagingDep
from api.schemas import BIGINT_MAX, Id, In, Model, text_field
from backend.billing import checkout as billing_checkout
from backend.billing import errors as billing_errors
from backend.billing import state as billing_state
from backend.billing import statements
from backend.billing import subscriptions as subs

router = APIRouter(prefix="/v1/me", tags=["subscription"])

PAYMENT_REFUSALS = (
    billing_errors.CardDeclined,
    billing_errors.InsufficientFunds,
    billing_errors.PaymentServiceUnavailable,
)


class CardIn(In):
    number: Annotated[str, text_field(40, min_length=1)] = Field(
        description="Test cards: 4242 4242 4242 4242 succeeds, "
        "4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has "
        "insufficient funds.",
        examples=["4242 4242 4242 4242"],
    )
    exp_month: Annotated[int, Field(ge=1, le=12, examples=[12])]
    exp_year: Annotated[int, Field(ge=2000, le=2100, examples=[2030])]
    cvc: Annotated[str, text_field(4, min_length=3)] = Field(examples=["123"])

    def details(self) -> billing_state.CardDetails:
        return billing_state.CardDetails(self.number, self.exp_month, self.exp_year, self.cvc)


class CheckoutIn(In):
    plan_id: Id = Field(examples=[2])
    card: CardIn | None = Field(None, description="Leave out to use the card on file.")


class PlanChangeIn(In):
    plan_id: Id = Field(examples=[3])


class SubscriptionOut(Model):
    subscription_id: int
    plan_id: int
    plan_name: str
    status: str
    price: Decimal
    currency: str
    billing_period: str
    validity_days: int = Field(description="The days of this subscription's periods (its plan's, as of this period).")
    access_level: str = Field(description="What this period plays (the plan's, as of this period).")
    max_devices_allowed: int
    resolution: str
    started_at: datetime
    trial_end: datetime | None
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    grace_until: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    scheduled_plan_id: int | None
    scheduled_plan_name: str | None


class EntitlementOut(Model):
    allowed: bool
    reason: str
    state: str | None
    plan_name: str | None
    access_level: str | None
    max_devices_allowed: int
    resolution: str | None
    until: datetime | None
    summary: str


class PaymentCardOut(BaseModel):
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class SubscriptionStatus(BaseModel):
    subscription: SubscriptionOut | None
    entitlement: EntitlementOut
    card: PaymentCardOut | None


class CheckoutOut(BaseModel):
    subscription: SubscriptionOut
    trial: bool
    payment_id: int | None


class ChangeOut(BaseModel):
    result: str = Field(
        description="What happened, e.g. upgraded, downgrade_scheduled, cancel_scheduled, "
        "cancel_undone, recovered, unchanged."
    )
    subscription: SubscriptionOut | None


class EventOut(Model):
    event_id: int
    subscription_id: int
    kind: str
    occurred_at: datetime
    plan_id: int
    plan_name: str
    reason: str | None


class PaymentOut(Model):
    payment_id: int
    attempted_at: datetime
    kind: str
    plan_name: str
    amount: Decimal
    currency: str
    status: str
    failure_reason: str | None
    period_start: datetime
    period_end: datetime
    card_brand: str | None
    card_last4: str | None
    receipt: str | None


def _status(db, user_id: int) -> SubscriptionStatus:
    sub, ent = subs.current(db, user_id), subs.entitlement(db, user_id)
    card = subs.card_on_file(db, user_id)
    return SubscriptionStatus(
        subscription=SubscriptionOut.model_validate(sub) if sub else None,
        entitlement=EntitlementOut(**asdict(ent), summary=ent.summary),
        card=PaymentCardOut(**card) if card else None,
    )


def _changed(db, user_id: int, result: str) -> ChangeOut:
    sub = subs.current(db, user_id)
    return ChangeOut(result=result, subscription=SubscriptionOut.model_validate(sub) if sub else None)


@router.get(
    "/subscription",
    response_model=SubscriptionStatus,
    summary="My subscription, what it lets me watch, and the card on file",
)
def read_subscription(db: EngineDep, me: Me) -> SubscriptionStatus:
    return _status(db, me.user_id)


@router.get("/subscription/history", response_model=Page[EventOut], summary="Every change of my subscriptions")
def subscription_events(db: EngineDep, me: Me, paging: PagingDep) -> dict:
    return paging.cut([EventOut(**e) for e in statements.events(db, me.user_id)])


@router.post(
    "/subscription",
    status_code=201,
    response_model=CheckoutOut,
    summary="Subscribe or resubscribe (checkout)",
    description="First-time subscribers get a free trial (the card is verified, nothing charged); "
    "anyone who subscribed before pays the first period at once. The same Idempotency-Key "
    "returns the first result and never charges twice.",
)
@refuses(
    billing_errors.PlanNotFound,
    billing_errors.PlanNotOnSale,
    billing_errors.SubscriptionExists,
    billing_errors.CardRequired,
    billing_errors.CardError,
    billing_errors.FormExpired,
    *PAYMENT_REFUSALS,
)
def checkout(request: Request, db: EngineDep, me: Me, key: IdempotencyKey, body: CheckoutIn):
    def work() -> CheckoutOut:
        result = billing_checkout.checkout(
            db, me.user_id, body.plan_id, body.card.details() if body.card else None, f"api:{key}"
        )
        return CheckoutOut(
            subscription=SubscriptionOut.model_validate(result.subscription),
            trial=result.trial,
            payment_id=result.payment_id,
        )

    return idempotent(request, db, me, key, body, work, status=201)


@router.post(
    "/subscription/change-plan",
    response_model=ChangeOut,
    summary="Upgrade (at once) or downgrade "
    "(at the next billing date); choosing the current plan undoes a scheduled downgrade",
)
@refuses(
    billing_errors.NoSubscription,
    billing_errors.PlanNotFound,
    billing_errors.PlanNotOnSale,
    billing_errors.PaymentPastDue,
    billing_errors.AlreadyOnPlan,
)
def change_plan(request: Request, db: EngineDep, me: Me, key: IdempotencyKey, body: PlanChangeIn):
    return idempotent(
        request, db, me, key, body, lambda: _changed(db, me.user_id, subs.change_plan(db, me.user_id, body.plan_id))
    )


@router.post("/subscription/undo-downgrade", response_model=ChangeOut, summary="Keep the current plan")
@refuses(billing_errors.NoSubscription)
def undo_downgrade(request: Request, db: EngineDep, me: Me, key: IdempotencyKey):
    return idempotent(request, db, me, key, None, lambda: _changed(db, me.user_id, subs.undo_downgrade(db, me.user_id)))


@router.post(
    "/subscription/cancel", response_model=ChangeOut, summary="Cancel at the end of the paid period (or trial)"
)
@refuses(billing_errors.NoSubscription, billing_errors.PaymentPastDue)
def cancel(request: Request, db: EngineDep, me: Me, key: IdempotencyKey):
    return idempotent(request, db, me, key, None, lambda: _changed(db, me.user_id, subs.cancel(db, me.user_id)))


@router.post("/subscription/resume", response_model=ChangeOut, summary="Undo a cancellation before the period ends")
@refuses(billing_errors.NoSubscription)
def resume(request: Request, db: EngineDep, me: Me, key: IdempotencyKey):
    return idempotent(request, db, me, key, None, lambda: _changed(db, me.user_id, subs.resume(db, me.user_id)))


@router.post("/subscription/retry-payment", response_model=ChangeOut, summary="Retry a failed renewal now")
@refuses(billing_errors.NoSubscription, billing_errors.FormExpired, *PAYMENT_REFUSALS)
def retry_payment(request: Request, db: EngineDep, me: Me, key: IdempotencyKey):
    return idempotent(
        request, db, me, key, None, lambda: _changed(db, me.user_id, subs.retry_payment(db, me.user_id, f"api:{key}"))
    )


@router.post(
    "/card", response_model=ChangeOut, summary="Replace the card on file (a past-due period is charged to it at once)"
)
@refuses(billing_errors.CardError, *PAYMENT_REFUSALS)
def update_card(request: Request, db: EngineDep, me: Me, key: IdempotencyKey, body: CardIn):
    return idempotent(
        request, db, me, key, body, lambda: _changed(db, me.user_id, subs.update_card(db, me.user_id, body.details()))
    )


@router.get("/billing", response_model=Page[PaymentOut], summary="My payments, newest first")
def billing_history(db: EngineDep, me: Me, paging: PagingDep) -> dict:
    return paging.cut([PaymentOut(**p) for p in statements.billing_history(db, me.user_id)])


NO_PAYMENT = Case(404, "payment_not_found", "You have no successful payment with this id.")


@router.get(
    "/billing/{payment_id}/receipt",
    response_class=PlainTextResponse,
    summary="A receipt (plain text)",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
@refuses(NO_PAYMENT)
def receipt(db: EngineDep, me: Me, payment_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)]) -> str:
    text = statements.receipt(db, me.user_id, payment_id)
    if text is None:
        raise ApiError(404, NO_PAYMENT.code, NO_PAYMENT.description)
    return text
