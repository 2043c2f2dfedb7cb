"""Rate limits: a token bucket per client IP (anonymous calls) or per account (calls with a valid access
token), answered with 429 and Retry-After when empty.

The buckets live in this process's memory, which is exact for one uvicorn worker. With several workers or
machines, each would keep its own buckets (a client could get N times the limit): a multi-process
deployment needs the buckets in a shared store (Redis INCR with expiry, or a PostgreSQL table keyed by
client), or a limit at the proxy in front. Sign-in attempts are throttled separately, per email in the
database, by backend.accounts.sessions.authenticate (shared with the web app).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from api import tokens
from api.errors import error_json


@dataclass(frozen=True)
class Limits:
    anonymous_per_minute: int = 60
    user_per_minute: int = 300


class TokenBuckets:
    """`capacity` tokens per key, refilled continuously at capacity per minute."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock, self._lock = clock, threading.Lock()
        self._buckets: dict[tuple, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def take(self, key: tuple, capacity: int) -> float:
        """0 when the call may go ahead (a token is taken), else seconds until a token is back."""
        rate = capacity / 60.0
        now = self._clock()
        with self._lock:
            level, last = self._buckets.get(key, (float(capacity), now))
            level = min(float(capacity), level + (now - last) * rate)
            if level >= 1:
                self._buckets[key] = (level - 1, now)
                return 0.0
            self._buckets[key] = (level, now)
            if len(self._buckets) > 100_000:  # forget full buckets so memory stays bounded
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < capacity - 1}
            return (1 - level) / rate


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Limits,
        secret: str | None,
        buckets: TokenBuckets | None = None,
        exempt: tuple[str, ...] = ("/docs", "/openapi.json", "/redoc"),
    ) -> None:
        self.app, self.limits, self.secret = app, limits, secret
        self.buckets, self.exempt = buckets or TokenBuckets(), exempt

    def _key(self, scope: Scope) -> tuple[tuple, int]:
        auth = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        if auth[:7].lower() == "bearer ":
            claims = tokens.decode(self.secret or tokens.default_secret(), auth[7:].strip())
            if claims is not None:
                return ("user", claims.user_id), self.limits.user_per_minute
        client = scope.get("client")
        return ("ip", client[0] if client else "unknown"), self.limits.anonymous_per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        key, capacity = self._key(scope)
        wait = self.buckets.take(key, capacity)
        if wait:
            response = error_json(
                429,
                "rate_limited",
                f"Too many requests. Try again in {math.ceil(wait)} s.",
                headers={"Retry-After": str(math.ceil(wait))},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
