"""One place that turns every error into an RFC 9457 ``application/problem+json`` answer."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import errors as dberrors
from app.domain.errors import (
    FairslotError,
    Forbidden,
    InternalError,
    InvalidInput,
    MalformedJson,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)

log = logging.getLogger("fairslot.errors")
PROBLEM_JSON = "application/problem+json"
#: The code of each status Starlette itself may raise (the codes live in ``app.domain.errors``).
_HTTP_CODES = {
    error.status: error.code
    for error in (
        FairslotError,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
        Unavailable,
    )
}


def problem_document(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    **members: Any,
) -> dict[str, Any]:
    """The one problem document: RFC 9457 members, the stable ``code``, then any extension ``members``."""
    body: dict[str, Any] = {
        "type": f"https://fairslot.fr/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update((name, value) for name, value in members.items() if name not in body)
    return body


def error_document(error: FairslotError) -> dict[str, Any]:
    """A domain error's problem document: its code, title and detail, and its data as members."""
    data = error.data
    errors = data.pop("errors", None)
    if error.status == 422 and errors is None:
        errors = []
    return problem_document(error.status, error.code, error.title, error.detail, errors=errors, **data)


def error_response(error: FairslotError) -> JSONResponse:
    """A domain error's problem document as a response (with the headers it asks for)."""
    headers = error.extra.get("headers")
    return JSONResponse(
        error_document(error), status_code=error.status, media_type=PROBLEM_JSON, headers=headers
    )


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem document response."""
    body = problem_document(status, code, title, detail, errors=errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


def _located(err: dict[str, Any]) -> tuple[Any, ...]:
    """Where an error is: a tagged union's unknown tag is the tag's own field (``outcome``), not the body."""
    loc = tuple(err.get("loc", ()))
    if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        tag = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
        return (*loc, tag) if tag else loc
    return loc


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    """A 422 listing each invalid field, or a 400 for a body that is not JSON at all."""
    raw = exc.errors()
    if any(err.get("type") == "json_invalid" for err in raw):
        return error_response(MalformedJson("the request body is not valid JSON"))
    errors = [
        {
            "path": _field_path(_located(err)),
            "message": str(err.get("msg", "")),
            "type": err.get("type"),
        }
        for err in raw
    ]
    summary = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
    return error_response(InvalidInput(summary or "invalid input", errors=errors))


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(FairslotError)
    async def _domain(_request: Request, exc: FairslotError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        title = code.replace("_", " ").capitalize()
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(exc.status_code, code, title, detail, headers=getattr(exc, "headers", None))

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        error = dberrors.as_problem(exc)
        if error is None:
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return await _domain(request, error)

    for database_error in (DBAPIError, PoolTimeout, psycopg.Error, sqlite3.Error):
        app.add_exception_handler(database_error, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        error = dberrors.as_problem(exc)
        if error is not None:  # e.g. a driver error wrapped in an exception group
            return await _domain(request, error)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(InternalError("an unexpected error occurred; it was logged"))
