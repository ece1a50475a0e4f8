"""One place that turns every error into an RFC 9457 ``application/problem+json`` answer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import FairslotError

log = logging.getLogger("fairslot.errors")
PROBLEM_JSON = "application/problem+json"
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    shown: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem document response (``shown``: extra members, e.g. ``excluded_until``)."""
    body: dict[str, Any] = {
        "type": f"https://fairslot.fr/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    if shown:
        body.update(shown)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    """A 422 listing each invalid field, or a 400 for a body that is not JSON at all."""
    raw = exc.errors()
    if any(err.get("type") == "json_invalid" for err in raw):
        return problem(400, "malformed_json", "Malformed JSON", "the request body is not valid JSON")
    errors = [
        {
            "path": _field_path(tuple(err.get("loc", ()))),
            "message": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in raw
    ]
    summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
    return problem(422, "validation_error", "Invalid input", summary or "invalid input", errors=errors)


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(FairslotError)
    async def _domain(_request: Request, exc: FairslotError) -> JSONResponse:
        headers = exc.extra.get("headers")
        errors = exc.extra.get("errors")
        if exc.status == 422 and errors is None:
            errors = []
        shown = {name: exc.extra[name] for name in exc.shown if name in exc.extra}
        return problem(
            exc.status, exc.code, exc.title, exc.detail, errors=errors, headers=headers, shown=shown
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        title = code.replace("_", " ").capitalize()
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(exc.status_code, code, title, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _contention(request: Request, exc: OperationalError) -> JSONResponse:
        code = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if code in ("40P01", "40001", "55P03") or "database is locked" in str(exc):
            return problem(
                503,
                "busy_retry",
                "Busy",
                "the request met a concurrent change; retry",
                headers={"Retry-After": "1"},
            )
        log.exception("database error on %s %s", request.method, request.url.path)
        return problem(503, "unavailable", "Unavailable", "the database is unavailable; retry later")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error", "Internal error", "an unexpected error occurred; it was logged")
