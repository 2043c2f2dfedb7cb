"""What the routes share: the engine, the signed-in account (bearer access token), admin checks and the
Idempotency-Key of state-changing POSTs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

import database
from api import tokens
from api.errors import ApiError, error_json_body, refusal, refusal_body
from backend.accounts import api_sessions, users
from backend.core import idempotency

bearer = HTTPBearer(auto_error=False, description="An access token from POST /v1/auth/sign-in.")


def engine(request: Request) -> Engine:
    if request.app.state.engine is None:
        request.app.state.engine = database.get_engine()
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(engine)]


@dataclass(frozen=True)
class Principal:
    user: users.User
    session_id: int

    @property
    def user_id(self) -> int:
        return self.user.user_id


def _unauthorised(message: str) -> ApiError:
    return ApiError(401, "unauthorised", message, headers={"WWW-Authenticate": "Bearer"})


def principal(
    request: Request, db: EngineDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The account of a valid access token whose session is still open (see backend.accounts.api_sessions)."""
    if credentials is None:
        raise _unauthorised("Sign in first: send 'Authorization: Bearer <access token>'.")
    claims = tokens.decode(request.app.state.jwt_secret, credentials.credentials)
    if claims is None:
        raise _unauthorised("This access token is not valid or has expired: refresh it or sign in again.")
    user = api_sessions.session_user(db, claims.user_id, claims.session_id)
    if user is None:
        raise _unauthorised(
            "This session has ended (signed out, password changed or account suspended). Sign in again."
        )
    return Principal(user, claims.session_id)


Me = Annotated[Principal, Depends(principal)]


def optional_principal(
    request: Request, db: EngineDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal | None:
    """The caller's account on open routes: None without a bearer token, 401 with a bad one."""
    return None if credentials is None else principal(request, db, credentials)


def admin(db: EngineDep, me: Me) -> Principal:
    """Admins only (the backend checks the role again in its admin functions)."""
    users.require_role(db, me.user_id, "admin")
    return me


def staff(db: EngineDep, me: Me) -> Principal:
    users.require_role(db, me.user_id, *users.STAFF_ROLES)
    return me


Admin = Annotated[Principal, Depends(admin)]
Staff = Annotated[Principal, Depends(staff)]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=idempotency.MAX_KEY_LENGTH,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique string per intended action (e.g. a UUID). Repeating a request with the same key "
        "returns the first response and does not act (or charge) again.",
        examples=["3f1c2b7e-2d4a-4c8e-9a57-0b7f6b1d2e11"],
    ),
]


def request_hash(request: Request, body: object) -> str:
    payload = json.dumps(
        {
            "method": request.method,
            "path": request.url.path,
            "query": str(request.url.query),
            "body": jsonable_encoder(body),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def idempotent(
    request: Request,
    db: Engine,
    me: Principal,
    key: str,
    body: object,
    work: Callable[[], object],
    *,
    status: int = 200,
) -> JSONResponse:
    """Run `work` once per key: a repeat gets the first response (success or refusal) with
    `Idempotent-Replayed: true`; the key with another request is refused (422), one still running 409."""
    claim = idempotency.claim(db, me.user_id, key, request_hash(request, body))
    if not claim.fresh:
        if claim.mismatch:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used for another request. Use a new key for a new action.",
                field="Idempotency-Key",
            )
        if claim.status_code is None:
            raise ApiError(
                409,
                "request_in_progress",
                "A request with this Idempotency-Key is still running. Retry in a moment.",
                headers={"Retry-After": "1"},
            )
        return JSONResponse(claim.response, status_code=claim.status_code, headers={"Idempotent-Replayed": "true"})
    try:
        code, content = status, jsonable_encoder(work())
    except ApiError as error:
        code, content = error.status, jsonable_encoder(error_json_body(error))
    except Exception as error:
        if refusal(error) is None:  # unexpected: forget the key so that a retry runs the request
            idempotency.release(db, me.user_id, key)
            raise
        code, content, _ = refusal_body(error)
    idempotency.complete(db, me.user_id, key, code, content)
    return JSONResponse(content, status_code=code)
