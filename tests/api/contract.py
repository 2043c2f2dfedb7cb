"""The OpenAPI document as a contract that every API test holds the app to: each answer's status must be one
its operation documents, and an error's `code` one of the codes documented for that status."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    pattern: re.Pattern
    spec: dict


def operations(schema: dict) -> list[Operation]:
    found = []
    for path, methods in schema["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", path) + "$")
        for method, spec in methods.items():
            found.append(Operation(method.upper(), path, pattern, spec))
    return sorted(found, key=lambda o: o.path.count("{"))  # literal paths before templated ones


def documented_codes(operation: Operation, status: int) -> list[str] | None:
    """The codes the operation documents for an error status; None when the status is not documented."""
    response = operation.spec["responses"].get(str(status))
    return None if response is None else response.get("x-error-codes", [])


def violation(schema_operations: list[Operation], response: httpx.Response) -> str | None:
    """Why the answer breaks the document, or None."""
    request = response.request
    operation = next(
        (o for o in schema_operations if o.method == request.method and o.pattern.match(request.url.path)), None
    )
    if operation is None:
        return None  # not an operation (a wrong address or method): Starlette's plain 404/405
    status = response.status_code
    codes = documented_codes(operation, status)
    if codes is None:
        return f"{request.method} {operation.path} answered {status}, which it does not document"
    if status >= 400:
        code = response.json().get("error", {}).get("code")
        if code not in codes:
            return f"{request.method} {operation.path} answered {status} {code!r}, documented: {codes}"
    return None


def enforce(client: httpx.Client, schema: dict) -> None:
    """Fail every request of `client` whose answer breaks the document."""
    listed = operations(schema)

    def check(response: httpx.Response) -> None:
        response.read()
        problem = violation(listed, response)
        assert problem is None, problem

    client.event_hooks["response"] = [*client.event_hooks.get("response", []), check]
