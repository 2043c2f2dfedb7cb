"""The payment-gateway interface and the built-in simulated gateway.

A gateway turns a card into a token (`verify`), and charges a token (`charge`) idempotently: the
same idempotency key always gives the same outcome and moves money at most once, like Stripe's
`Idempotency-Key`. The app never keeps a full card number: only brand, last 4 digits, expiry and
the gateway's token.

Test cards of the simulated gateway (any future expiry, any CVC):

    4242 4242 4242 4242  succeeds
    4000 0000 0000 0002  declined (refused when entered: nothing is saved or charged)
    4000 0000 0000 9995  accepted when entered, every charge declined for insufficient funds
    4000 0000 0000 0119  network error (nothing is saved or charged; try again)

Any other number that passes the Luhn check succeeds too (a "real" card in development).
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from backend.billing.errors import CardError, payment_refused

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"
NETWORK_ERROR_CARD = "4000000000000119"
_OUTCOMES = {
    DECLINE_CARD: "declined",
    INSUFFICIENT_FUNDS_CARD: "insufficient_funds",
    NETWORK_ERROR_CARD: "network_error",
}
MESSAGES = {
    "declined": "Your card was declined. Nothing was charged. Try another card.",
    "insufficient_funds": "Your card has insufficient funds. Nothing was charged. Try another card.",
    "network_error": "We could not reach the payment service. Nothing was charged. Please try again.",
}


@dataclass(frozen=True)
class Card:
    """What is kept of a card: never its number."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    token: str


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str | None = None
    failure_code: str | None = None

    @property
    def message(self) -> str:
        return "Payment succeeded." if self.succeeded else MESSAGES.get(self.failure_code or "", "Payment failed.")


class Gateway(Protocol):
    def verify(self, number: str, exp_month: int, exp_year: int, cvc: str, now: datetime) -> Card: ...

    def charge(self, token: str, amount: Decimal, currency: str, idempotency_key: str) -> ChargeResult: ...


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _brand(digits: str) -> str:
    if digits.startswith("4"):
        return "Visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or "2221" <= digits[:4] <= "2720":
        return "Mastercard"
    if digits[:2] in {"34", "37"}:
        return "American Express"
    return "Card"


def check_card(number: str, exp_month: int, exp_year: int, cvc: str, now: datetime) -> str:
    """The card number's digits if the details are well formed; else CardError with a clear message."""
    digits = re.sub(r"[\s-]", "", number or "")
    if not re.fullmatch(r"[0-9]{12,19}", digits) or not _luhn_ok(digits):
        raise CardError("Enter a valid card number (12 to 19 digits).", field="card.number")
    try:
        exp_month, exp_year = int(exp_month), int(exp_year)
    except (TypeError, ValueError):
        raise CardError("Enter the expiry month and year.", field="card.exp_month") from None
    if not 1 <= exp_month <= 12 or not 2000 <= exp_year <= 2100:
        raise CardError("Enter the expiry month (1-12) and a four-digit year.", field="card.exp_month")
    if (exp_year, exp_month) < (now.year, now.month):
        raise CardError("This card has expired.", field="card.exp_year")
    if not re.fullmatch(r"[0-9]{3,4}", (cvc or "").strip()):
        raise CardError("Enter the 3 or 4 digit security code (CVC).", field="card.cvc")
    return digits


class SimulatedGateway:
    """In-process gateway with test cards. Its ledger of charges lives in memory (per process), keyed by
    idempotency key, so a repeated key returns the first outcome and charges once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ledger: dict[str, tuple[ChargeResult, Decimal]] = {}

    def verify(self, number: str, exp_month: int, exp_year: int, cvc: str, now: datetime) -> Card:
        digits = check_card(number, exp_month, exp_year, cvc, now)
        outcome = _OUTCOMES.get(digits, "ok")
        if outcome in ("declined", "network_error"):  # refused (or unreachable) before anything is saved
            raise payment_refused(outcome, MESSAGES[outcome])
        # A card with insufficient funds is a valid card: it is refused when charged. The outcome is
        # part of the simulated token; the number cannot be recovered from it.
        return Card(
            _brand(digits),
            digits[-4:],
            int(exp_month),
            int(exp_year),
            f"tok_sim_{outcome}_{hashlib.sha256(digits.encode()).hexdigest()[:16]}",
        )

    @staticmethod
    def token_for(outcome: str) -> str:
        """A token whose future charges end in `outcome` ('ok', 'declined', 'insufficient_funds',
        'network_error'): what a card that later fails (expired, blocked, empty) looks like."""
        return f"tok_sim_{outcome}_test"

    def charge(self, token: str, amount: Decimal, currency: str, idempotency_key: str) -> ChargeResult:
        with self._lock:
            if idempotency_key in self.ledger:
                return self.ledger[idempotency_key][0]
            outcome = next((o for o in MESSAGES if token.startswith(f"tok_sim_{o}_")), None)
            if outcome is None:
                ref = "ch_sim_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
                result = ChargeResult(True, reference=ref)
            else:
                result = ChargeResult(False, failure_code=outcome)
            if outcome != "network_error":  # a network error never reached the gateway: not remembered
                self.ledger[idempotency_key] = (result, Decimal(amount))
            return result

    def charged(self) -> Decimal:
        """Money actually taken (successful charges), for tests."""
        return sum((amount for result, amount in self.ledger.values() if result.succeeded), Decimal("0"))


_default: SimulatedGateway | None = None


def default_gateway() -> Gateway:
    """The gateway of this process (the simulated one: no real gateway is configured in this project)."""
    global _default
    if _default is None:
        _default = SimulatedGateway()
    return _default
