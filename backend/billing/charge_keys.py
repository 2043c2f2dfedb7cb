"""One idempotency key per charge, whoever makes it: the billing job, a member's action or the seeder.

A charge is named by what it pays for, so two makers of the same charge write the same key and the
second one finds the first (`payment_attempts` is unique per account and key):

    sub<subscription id>:<period start, UTC, YYYYMMDDTHHMMSS>:<attempt>

The scheduled attempts are `conversion` (a trial's first charge), `renewal`, and `retry1`..`retry3`
(lifecycle.RETRY_AFTER_DAYS after the renewal); a member's "Retry now" is `manual-<form key>` and the
payment with a newly entered card `card-<card token>`, so a form sent twice charges once. A checkout pays
for a subscription that does not exist yet: `checkout:<form key>` (the seeder's form key is
`seed-<subscription id>`). The seeder writes its keys with `charge_keys`, the vectorised twin of
`charge_key`, so the billing job never repeats a retry the seeder already made.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

SCHEDULED = ("conversion", "renewal", "retry1", "retry2", "retry3")


def retry_attempt(number: int) -> str:
    """The attempt name of retry number `number` (1 = the first retry after a failed renewal)."""
    return f"retry{number}"


def charge_key(subscription_id: int, period_start: datetime, attempt: str) -> str:
    """The key of one charge for the period of `subscription_id` starting at `period_start`."""
    return f"sub{subscription_id}:{period_start.astimezone(UTC):%Y%m%dT%H%M%S}:{attempt}"


def manual_attempt(form_key: str) -> str:
    return f"manual-{form_key}"


def card_attempt(card_token: str) -> str:
    return f"card-{card_token}"


def checkout_key(form_key: str) -> str:
    """The key of a checkout's first payment (there is no subscription yet to name it by)."""
    return f"checkout:{form_key}"


def charge_keys(subscription_ids: np.ndarray, period_starts: np.ndarray, attempts: np.ndarray) -> np.ndarray:
    """`charge_key` for arrays: subscription ids, period starts in Unix seconds (UTC) and attempt names."""
    stamps = np.datetime_as_string(np.asarray(period_starts, dtype=np.int64).astype("datetime64[s]"), unit="s")
    compact = np.char.replace(np.char.replace(stamps, "-", ""), ":", "")
    prefix = np.char.add("sub", np.asarray(subscription_ids, dtype=np.int64).astype(str))
    return np.char.add(np.char.add(np.char.add(prefix, ":"), np.char.add(compact, ":")), np.asarray(attempts, str))


def checkout_keys(form_keys: np.ndarray) -> np.ndarray:
    """`checkout_key` for an array of form keys."""
    return np.char.add("checkout:", np.asarray(form_keys, str))
