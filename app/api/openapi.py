"""What the OpenAPI document says of errors: the problem model and the statuses each route declares.

HTTP-only, so it lives with the API; the neutral request and response shapes are in ``app.schemas``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class FieldError(BaseModel):
    """One invalid field: its path in the body and what is wrong."""

    path: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable ``code``."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    model_config = ConfigDict(json_schema_extra={"additionalProperties": True})


#: Every route may answer one of the designed 503s; nothing changed, and ``Retry-After`` says when to retry.
UNAVAILABLE_DESCRIPTION = (
    "Try again later (`Retry-After`), nothing changed: `busy_retry` (a lock or a concurrent change), "
    "`unavailable` (the database cannot be reached) or `timeout` (the answer did not start in time)"
)


def declare_unavailable(schema: dict[str, Any]) -> None:
    """Declare the designed 503s on every API operation of an OpenAPI document (any route may meet them)."""
    response = {
        "description": UNAVAILABLE_DESCRIPTION,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("503", response)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem documents a route may answer."""
    described = {
        400: "Malformed request",
        401: "Missing or invalid credentials",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict with the current state",
        413: "Body too large",
        422: "Invalid input",
        429: "Too many requests",
        503: UNAVAILABLE_DESCRIPTION,
    }
    return {
        status: {
            "description": described.get(status, "Error"),
            "model": Problem,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
