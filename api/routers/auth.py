"""Register, sign in, refresh (rotating), sign out, change password.

Token-issuing calls take no Idempotency-Key: their responses hold secrets that are never stored, and each
is safe to repeat (a second register is refused, a reused refresh token ends its session on purpose)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from pydantic import Field

from api import tokens
from api.deps import EngineDep, Me
from api.openapi import refuses
from api.schemas import Email, In, Name, Password, TokenPair, UserOut
from backend.accounts import api_sessions, passwords, sessions, users
from backend.accounts import errors as account_errors
from backend.core.errors import NotAuthorised

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class RegisterIn(In):
    email: Email = Field(examples=["ada@example.com"])
    name: Name = Field(examples=["Ada Lovelace"])
    password: Password = Field(description=passwords.PASSWORD_POLICY, examples=["analytical-engine-1843"])


class SignInIn(In):
    email: Email = Field(examples=["ada@example.com"])
    password: Password = Field(examples=["analytical-engine-1843"])


class RefreshIn(In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\x00]*$")]


class PasswordIn(In):
    current_password: Password
    new_password: Password = Field(description=passwords.PASSWORD_POLICY)


def _pair(request: Request, issued: api_sessions.Issued) -> TokenPair:
    access, lifetime = tokens.issue(request.app.state.jwt_secret, issued.user.user_id, issued.family_id)
    return TokenPair(
        access_token=access,
        expires_in=lifetime,
        refresh_token=issued.refresh_token,
        refresh_expires_at=issued.refresh_expires_at,
        user=UserOut.model_validate(issued.user),
    )


@router.post("/register", status_code=201, response_model=TokenPair, summary="Create an account (signed in at once)")
@refuses(account_errors.AccountError, account_errors.EmailTaken)
def register(request: Request, db: EngineDep, body: RegisterIn) -> TokenPair:
    user = users.register(db, body.email, body.name, body.password)
    return _pair(request, api_sessions.start(db, user))


@router.post(
    "/sign-in",
    response_model=TokenPair,
    summary="Sign in with email and password",
    description="Failed attempts are throttled per email in the database, shared with the web app: "
    f"{sessions.FAILURES_BEFORE_LOCK} failures in {sessions.LOCK_MINUTES} minutes lock the email "
    f"for {sessions.LOCK_MINUTES} minutes (429 `sign_in_locked`).",
)
@refuses(account_errors.SignInFailed, account_errors.AccountSuspended, account_errors.SignInLocked)
def sign_in(request: Request, db: EngineDep, body: SignInIn) -> TokenPair:
    user = sessions.authenticate(db, body.email, body.password)
    return _pair(request, api_sessions.start(db, user))


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Exchange a refresh token for new tokens (rotation)",
    description="The refresh token is single-use: the answer holds a new one. Presenting a used one "
    "again ends that session (both tokens stop working).",
)
@refuses(api_sessions.SessionError, api_sessions.RefreshTokenReused)
def refresh(request: Request, db: EngineDep, body: RefreshIn) -> TokenPair:
    return _pair(request, api_sessions.rotate(db, body.refresh_token))


@router.post("/sign-out", status_code=204, summary="End this session (its refresh and access tokens)")
def sign_out(db: EngineDep, me: Me) -> Response:
    api_sessions.end(db, me.user_id, me.session_id)
    return Response(status_code=204)


@router.post(
    "/password",
    response_model=TokenPair,
    summary="Change the password (ends every session)",
    description="Every session ends, in the API and the web app; the answer signs this client in again.",
)
@refuses(account_errors.WrongPassword, account_errors.AccountError)
def change_password(request: Request, db: EngineDep, me: Me, body: Annotated[PasswordIn, Body()]) -> TokenPair:
    sessions.change_password(db, me.user_id, body.current_password, body.new_password)
    api_sessions.end_all(db, me.user_id)
    user = users.get_user(db, me.user_id)
    if user is None:  # the account was removed meanwhile
        raise NotAuthorised("You do not have access to this.")
    return _pair(request, api_sessions.start(db, user))
