"""The OpenAPI document, made precise: each operation lists exactly the errors it can answer, by status and
machine-readable code (from the refusal classes and cases its route declares with `@refuses(...)` and the
ones its dependencies bring), open operations are marked open (no security; optional sign-in where a
token changes the answer), and operation ids are the route functions' names (stable, unique)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api import deps
from api.errors import (
    DATABASE_UNAVAILABLE,
    FORBIDDEN,
    IDEMPOTENCY_REQUIRED_CASE,
    IDEMPOTENCY_REUSED,
    IN_PROGRESS,
    RATE_LIMITED,
    UNAUTHORISED,
    UNKNOWN_FIELD,
    VALIDATION,
    Case,
    ErrorResponse,
)
from backend.core.errors import Refusal

BEARER = "HTTPBearer"
REFUSALS_ATTRIBUTE = "__refusals__"


def refuses(*cases: type[Refusal] | Case) -> Callable[[Callable], Callable]:
    """Declare the errors a route answers beyond those of its dependencies (refusal classes or `Case`s)."""

    def mark(endpoint: Callable) -> Callable:
        setattr(endpoint, REFUSALS_ATTRIBUTE, tuple(c if isinstance(c, Case) else Case.of(c) for c in cases))
        return endpoint

    return mark


def operation_id(route: APIRoute) -> str:
    return route.name


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _has_idempotency_key(dependant: Dependant) -> bool:
    return any(p.alias == "Idempotency-Key" for p in dependant.header_params) or any(
        _has_idempotency_key(d) for d in dependant.dependencies
    )


def _has_params(dependant: Dependant) -> bool:
    own = dependant.path_params or dependant.query_params or dependant.header_params or dependant.body_params
    return bool(own) or any(_has_params(d) for d in dependant.dependencies)


def cases_of(route: APIRoute) -> list[Case]:
    """Every error the route's operation can answer."""
    calls = set(_calls(route.dependant))
    cases: list[Case] = []
    if deps.principal in calls or deps.optional_principal in calls:
        cases.append(UNAUTHORISED)
    if deps.admin in calls or deps.staff in calls:
        cases.append(FORBIDDEN)
    if _has_params(route.dependant):
        cases.append(VALIDATION)
    if route.dependant.body_params:
        cases.append(UNKNOWN_FIELD)
    if _has_idempotency_key(route.dependant):
        cases += [IDEMPOTENCY_REQUIRED_CASE, IDEMPOTENCY_REUSED, IN_PROGRESS]
    cases += getattr(route.endpoint, REFUSALS_ATTRIBUTE, ())
    cases += [RATE_LIMITED, DATABASE_UNAVAILABLE]
    unique: dict[tuple[int, str], Case] = {}
    for case in cases:
        unique.setdefault((case.status, case.code), case)
    return list(unique.values())


def _responses(cases: list[Case]) -> dict[str, dict]:
    by_status: dict[int, list[Case]] = {}
    for case in cases:
        by_status.setdefault(case.status, []).append(case)
    responses = {}
    for status, listed in sorted(by_status.items()):
        codes = [c.code for c in listed]
        schema = {
            "allOf": [
                {"$ref": "#/components/schemas/ErrorResponse"},
                {"properties": {"error": {"properties": {"code": {"type": "string", "enum": codes}}}}},
            ]
        }
        examples = {
            c.code: {"summary": c.description, "value": {"error": {"code": c.code, "message": c.description}}}
            for c in listed
        }
        responses[str(status)] = {
            "description": "; ".join(f"`{c.code}`: {c.description}" for c in listed),
            "content": {"application/json": {"schema": schema, "examples": examples}},
            "x-error-codes": codes,
        }
    return responses


def _security(route: APIRoute) -> list[dict] | None:
    calls = set(_calls(route.dependant))
    if deps.principal in calls:
        return [{BEARER: []}]
    if deps.optional_principal in calls:
        return [{}, {BEARER: []}]  # open; a bearer token is optional
    return None


def document(app: FastAPI) -> dict:
    """The app's OpenAPI document with each operation's errors and security made exact."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorResponse"] = error_schema
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    for context in iter_route_contexts(app.routes):  # routes of included routers too, with their full paths
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        for method in context.methods or ():
            operation = schema["paths"][context.path_format][method.lower()]
            kept = {k: v for k, v in operation.get("responses", {}).items() if not k.startswith(("4", "5"))}
            operation["responses"] = kept | _responses(cases_of(route))
            security = _security(route)
            if security is None:
                operation.pop("security", None)
            else:
                operation["security"] = security
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
