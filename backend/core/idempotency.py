"""Idempotency keys of state-changing API requests: the first response to each key is kept per account.

`claim` records a key before the work runs (status NULL while it runs); `complete` stores the response;
`release` forgets a key whose request failed unexpectedly, so a retry can run it. A key is bound to its
request (method, path and body hash): the same key with another request is refused. Keys are kept
KEEP_HOURS, then may be used again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from backend.core.clock import clock

KEEP_HOURS = 24
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Claim:
    """`fresh` True: run the request. Else `status_code` None means it is still running, `mismatch` True
    means the key was used for another request, otherwise (`status_code`, `response`) is the first result."""

    fresh: bool
    status_code: int | None = None
    response: object = None
    mismatch: bool = False


def claim(engine: Engine, user_id: int, key: str, request_hash: str, *, now: datetime | None = None) -> Claim:
    now = clock(now)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM api_idempotency WHERE user_id = :u AND created_at < :old"),
            {"u": user_id, "old": now - timedelta(hours=KEEP_HOURS)},
        )
        inserted = conn.execute(
            text("""
            INSERT INTO api_idempotency (user_id, idempotency_key, request_hash, created_at)
            VALUES (:u, :k, :h, :now) ON CONFLICT (user_id, idempotency_key) DO NOTHING
            RETURNING 1"""),
            {"u": user_id, "k": key, "h": request_hash, "now": now},
        ).scalar()
        if inserted:
            return Claim(True)
        row = conn.execute(
            text("""SELECT request_hash, status_code, response FROM api_idempotency
                                   WHERE user_id = :u AND idempotency_key = :k"""),
            {"u": user_id, "k": key},
        ).one()
    if row.request_hash != request_hash:
        return Claim(False, row.status_code, None, mismatch=True)
    return Claim(False, row.status_code, row.response)


def complete(
    engine: Engine, user_id: int, key: str, status_code: int, response: object, *, now: datetime | None = None
) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE api_idempotency SET status_code = :s, response = CAST(:r AS jsonb),
                             completed_at = :now WHERE user_id = :u AND idempotency_key = :k"""),
            {"s": status_code, "r": json.dumps(response), "now": clock(now), "u": user_id, "k": key},
        )


def release(engine: Engine, user_id: int, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM api_idempotency WHERE user_id = :u AND idempotency_key = :k AND status_code IS NULL"),
            {"u": user_id, "k": key},
        )
