"""Rate limits: a token bucket per client IP (anonymous calls) or per account (calls with a valid access
token). Every answer says where the caller stands (`RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset`: seconds until the bucket is full again); an empty bucket is 429 with Retry-After.

The client IP is the connection's peer, unless that peer is one of the trusted proxies of the settings
(API_TRUSTED_PROXIES): then it is the last address of X-Forwarded-For that is not a trusted proxy. Without
trusted proxies the header is ignored, so a client cannot choose its own bucket by sending it.

The buckets live in this process's memory, which is exact for one uvicorn worker. With several workers or
machines, each would keep its own buckets (a client could get N times the limit): a multi-process
deployment needs the buckets in a shared store (Redis INCR with expiry, or a PostgreSQL table keyed by
client), or a limit at the proxy in front. Sign-in attempts are throttled separately, per email in the
database, by backend.accounts.sessions.authenticate (shared with the web app).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import tokens
from api.errors import error_json
from backend.core.settings import get_settings


def _trusted_from_settings() -> tuple[str, ...]:
    return get_settings().api_trusted_proxies


@dataclass(frozen=True)
class Limits:
    anonymous_per_minute: int = field(default_factory=lambda: get_settings().api_anonymous_per_minute)
    user_per_minute: int = field(default_factory=lambda: get_settings().api_user_per_minute)
    trusted_proxies: tuple[str, ...] = field(default_factory=_trusted_from_settings)


@dataclass(frozen=True)
class Taken:
    """The outcome of one call: `wait` 0 when it may go ahead; the bucket's state after it."""

    wait: float
    remaining: int
    reset: int


class TokenBuckets:
    """`capacity` tokens per key, refilled continuously at capacity per minute."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock, self._lock = clock, threading.Lock()
        self._buckets: dict[tuple, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def take(self, key: tuple, capacity: int) -> Taken:
        """Take a token if there is one."""
        rate = capacity / 60.0
        now = self._clock()
        with self._lock:
            level, last = self._buckets.get(key, (float(capacity), now))
            level = min(float(capacity), level + (now - last) * rate)
            wait = 0.0 if level >= 1 else (1 - level) / rate
            if not wait:
                level -= 1
            self._buckets[key] = (level, now)
            if len(self._buckets) > 100_000:  # forget full buckets so memory stays bounded
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < capacity - 1}
        return Taken(wait, math.floor(level), math.ceil((capacity - level) / rate))


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str:
    """The client's IP: the peer's, or behind trusted proxies the last forwarded address not among them."""
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if peer is None or not networks or not is_trusted(peer) or not forwarded_for:
        return peer or "unknown"
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop
    return hops[0] if hops else peer


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
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth[:7].lower() == "bearer ":
            claims = tokens.decode(self.secret or tokens.default_secret(), auth[7:].strip())
            if claims is not None:
                return ("user", claims.user_id), self.limits.user_per_minute
        peer = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1") or None
        address = client_address(peer[0] if peer else None, forwarded, self.limits.trusted_proxies)
        return ("ip", address), self.limits.anonymous_per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt) or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        key, capacity = self._key(scope)
        taken = self.buckets.take(key, capacity)
        state = {
            "RateLimit-Limit": str(capacity),
            "RateLimit-Remaining": str(taken.remaining),
            "RateLimit-Reset": str(taken.reset),
        }
        if taken.wait:
            wait = str(math.ceil(taken.wait))
            response = error_json(
                429, "rate_limited", f"Too many requests. Try again in {wait} s.", headers={"Retry-After": wait} | state
            )
            await response(scope, receive, send)
            return

        async def send_with_state(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in state.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_state)
