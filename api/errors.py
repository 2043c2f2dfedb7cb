"""One error shape for every failure: `{"error": {"code", "message", "field"?, "fields"?, "details"?}}`.

Backend refusals (every `Refusal`: AccountError, BillingError, NotAuthorised...) carry messages written to
be shown, so they pass through, with the status of their kind (`STATUS_BY_KIND`, the one mapping) and their
class's code. A database that cannot be reached is 503 with Retry-After (the pool reconnects by itself when
it is back); anything else unexpected becomes a 500 with a generic message (logged, never sent).

`Case` names one documented error (status, code, description): api/openapi.py lists every operation's
cases in the OpenAPI, from the refusal classes a route declares (`refusals=`) and the cases its
dependencies bring (sign-in, roles, validation, idempotency, rate limits, the database).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

import database
from backend.accounts import sessions
from backend.accounts.errors import SignInLocked
from backend.core.errors import Refusal

log = logging.getLogger("reelhouse.api")

# Every backend refusal (backend.core.errors.Refusal) by its kind -> HTTP status; its code is the class's own.
STATUS_BY_KIND: dict[str, int] = {
    "invalid": 422,
    "unauthorised": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "payment": 402,
    "locked": 429,
    "unavailable": 503,
}
DATABASE_RETRY_SECONDS = 5


@dataclass(frozen=True)
class Case:
    """One error an operation can answer: its status, machine-readable code and what it means."""

    status: int
    code: str
    description: str

    @classmethod
    def of(cls, refusal: type[Refusal]) -> Case:
        doc = (refusal.__doc__ or refusal.code).strip().splitlines()[0]
        return cls(STATUS_BY_KIND[refusal.kind], refusal.code, doc)


VALIDATION = Case(422, "validation_error", "A parameter or field is missing or wrong; `field` names it.")
UNKNOWN_FIELD = Case(422, "unknown_field", "The body has a field this operation does not take; `field` names it.")
UNAUTHORISED = Case(401, "unauthorised", "No valid access token (missing, expired, or its session has ended).")
FORBIDDEN = Case(403, "forbidden", "The signed-in account's role does not allow this.")
RATE_LIMITED = Case(429, "rate_limited", "Too many requests: wait `Retry-After` seconds.")
DATABASE_UNAVAILABLE = Case(503, "database_unavailable", "The database cannot be reached: retry after `Retry-After`.")
IDEMPOTENCY_REQUIRED_CASE = Case(400, "idempotency_key_required", "The `Idempotency-Key` header is missing.")
IDEMPOTENCY_REUSED = Case(422, "idempotency_key_reused", "This `Idempotency-Key` was used for another request.")
IN_PROGRESS = Case(409, "request_in_progress", "A request with this `Idempotency-Key` is still running.")


class ApiError(Exception):
    """An error the API itself answers (not a backend refusal), with its documented case."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers
        self.details = details


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    fields: list[FieldProblem] | None = None
    details: dict | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"error": {"code": "validation_error", "message": "body.email: Field required", "field": "body.email"}}
            ]
        }
    )


def error_json(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    fields: list | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if field:
        body["field"] = field
    if fields:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _field_name(loc) -> str:
    return ".".join(str(part) for part in loc)


IDEMPOTENCY_REQUIRED = "Send an Idempotency-Key header (any unique string up to 200 characters) with this request."


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = exc.errors()
    fields = [{"field": _field_name(e["loc"]), "message": e["msg"]} for e in problems]
    if any(f["field"].lower() == "header.idempotency-key" for f in fields):
        return error_json(400, "idempotency_key_required", IDEMPOTENCY_REQUIRED, field="header.Idempotency-Key")
    unknown = [f["field"] for f, e in zip(fields, problems, strict=True) if e["type"] == "extra_forbidden"]
    if unknown:
        names = ", ".join(name.removeprefix("body.") for name in unknown)
        return error_json(
            422,
            "unknown_field",
            f"Unknown field{'s' * (len(unknown) > 1)}: {names}. Nothing was changed.",
            field=unknown[0],
            fields=fields,
        )
    first = fields[0] if fields else {"field": "", "message": "Invalid request."}
    return error_json(
        422, "validation_error", f"{first['field']}: {first['message']}", field=first["field"], fields=fields
    )


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorised", 403: "forbidden"}
    message = exc.detail if isinstance(exc.detail, str) else "Request refused."
    if exc.status_code == 404 and message == "Not Found":
        message = "There is nothing at this address."
    return error_json(
        exc.status_code, codes.get(exc.status_code, "http_error"), message, headers=getattr(exc, "headers", None)
    )


def error_json_body(exc: ApiError) -> dict:
    body: dict[str, object] = {"code": exc.code, "message": exc.message}
    if exc.field:
        body["field"] = exc.field
    if exc.details:
        body["details"] = exc.details
    return {"error": body}


async def _api(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(jsonable_encoder(error_json_body(exc)), status_code=exc.status, headers=exc.headers)


def refusal(error: BaseException) -> tuple[int, str] | None:
    """(status, code) when `error` is a backend refusal, else None."""
    if not isinstance(error, Refusal):
        return None
    return STATUS_BY_KIND[error.kind], error.code


def refusal_body(error: BaseException) -> tuple[int, dict, dict | None]:
    status, code = refusal(error) or (422, "validation_error")
    body: dict[str, object] = {"code": code, "message": str(error) or "You do not have access to this."}
    field = getattr(error, "field", None)
    if field:
        body["field"] = field
    details = getattr(error, "details", None)
    if details:
        body["details"] = details
    headers = None
    if isinstance(error, SignInLocked):
        headers = {"Retry-After": str(sessions.LOCK_MINUTES * 60)}
    elif status == 503:
        headers = {"Retry-After": str(DATABASE_RETRY_SECONDS)}
    elif status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return status, jsonable_encoder({"error": body}), headers


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    status, body, headers = refusal_body(exc)
    return JSONResponse(body, status_code=status, headers=headers)


def database_unavailable() -> JSONResponse:
    return error_json(
        503,
        "database_unavailable",
        "The service is briefly unavailable (its database cannot be reached). Nothing was changed; please retry.",
        headers={"Retry-After": str(DATABASE_RETRY_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if database.is_database_down(exc):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        threading.Thread(target=database.revive_embedded_server, daemon=True).start()  # a stopped embedded server
        return database_unavailable()
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_json(
        500, "internal_error", "Something went wrong on our side. Nothing was shown to others; please try again."
    )


def install(app: FastAPI) -> None:
    # Starlette's types say every handler takes any Exception, so one for a subclass does not check, though it is
    # only ever called with its own class (a known gap of its types: Starlette issue #2417).
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, _api)  # type: ignore[arg-type]
    app.add_exception_handler(Refusal, _refused)
    for database_error in (DBAPIError, DisconnectionError, PoolTimeout):  # answered here, not re-raised
        app.add_exception_handler(database_error, _unexpected)
    app.add_exception_handler(Exception, _unexpected)
