"""One error shape for every failure: `{"error": {"code", "message", "field"?, "fields"?}}`.

Backend refusals (every `Refusal`: AccountError, BillingError, NotAuthorised...) carry messages written to
be shown, so they pass through, with the status of their kind and their own code; anything unexpected
becomes a 500 with a generic message (logged, never sent).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.accounts import sessions
from backend.accounts.errors import SignInLocked
from backend.core.errors import Refusal

log = logging.getLogger("reelhouse.api")


class ApiError(Exception):
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


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    fields: list[dict] | None = None
    details: dict | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"error": {"code": "validation_error", "message": "body.email: Field required", "field": "body.email"}}
            ]
        }
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409, 422, 429)
}


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
    fields = [{"field": _field_name(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    if any(f["field"].lower() == "header.idempotency-key" for f in fields):
        return error_json(400, "idempotency_key_required", IDEMPOTENCY_REQUIRED, field="header.Idempotency-Key")
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


# Every backend refusal (backend.core.errors.Refusal) by its kind -> HTTP status; its code is the class's own.
STATUS_BY_KIND: dict[str, int] = {"invalid": 400, "forbidden": 403, "not_found": 404, "conflict": 409, "locked": 429}


def refusal(error: BaseException) -> tuple[int, str] | None:
    """(status, code) when `error` is a backend refusal, else None."""
    if not isinstance(error, Refusal):
        return None
    return STATUS_BY_KIND[error.kind], error.code


def refusal_body(error: BaseException) -> tuple[int, dict, dict | None]:
    status, code = refusal(error) or (400, "rejected")
    headers = {"Retry-After": str(sessions.LOCK_MINUTES * 60)} if isinstance(error, SignInLocked) else None
    return status, {"error": {"code": code, "message": str(error) or "You do not have access to this."}}, headers


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    status, body, headers = refusal_body(exc)
    return JSONResponse(body, status_code=status, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
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
    app.add_exception_handler(Exception, _unexpected)
