"""Access tokens: short-lived HS256 JWTs with the standard `sub`, `exp`, `iat`, `jti` claims and `sid`,
the server-side session (refresh-token family) they belong to, checked on every request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from backend.core import keys
from backend.core.settings import get_settings

ACCESS_MINUTES = 15
ALGORITHM = "HS256"
ISSUER = "reelhouse-api"


@lru_cache(maxsize=1)
def default_secret() -> str:
    """$API_JWT_SECRET, else a random key kept in data/ (created once, readable by its owner only)."""
    return keys.signing_key(get_settings().api_jwt_secret, "api_jwt_key")


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: int
    jti: str


def issue(secret: str, user_id: int, session_id: int, *, now: datetime | None = None) -> tuple[str, int]:
    """An access token and its lifetime in seconds."""
    now = now or datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "sid": session_id,
        "iat": now,
        "exp": now + timedelta(minutes=ACCESS_MINUTES),
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), ACCESS_MINUTES * 60


def decode(secret: str, token: str) -> AccessClaims | None:
    """The claims of a valid, unexpired token signed with `secret`; None otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iat", "jti", "sid"]},
        )
        user_id, session_id = int(claims["sub"]), int(claims["sid"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if not (0 < user_id < 2**63 and 0 < session_id < 2**63):
        return None
    return AccessClaims(user_id, session_id, str(claims["jti"]))
