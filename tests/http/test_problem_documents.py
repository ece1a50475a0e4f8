"""One problem document: the exception handlers and the ASGI middleware render domain errors the same way."""

from __future__ import annotations

import json

import anyio

from app.domain import errors
from app.domain.errors import Forbidden, InvalidInput, RateLimited, WrongOffice
from app.http import problems
from app.http.middleware import send_error
from app.http.problems import error_document


def _sent_by_the_middleware(error: Exception) -> tuple[int, dict]:
    messages: list[dict] = []

    async def send(message: dict) -> None:
        messages.append(message)

    anyio.run(send_error, send, error)
    return messages[0]["status"], json.loads(messages[1]["body"])


def test_the_middleware_sends_the_document_the_handlers_answer() -> None:
    for error in (
        WrongOffice("this booking is for office lyon-3", office="lyon-3"),
        Forbidden("no", office="paris"),
        InvalidInput("bad", errors=[{"path": "a", "message": "b"}]),
        RateLimited("slow down"),
    ):
        status, body = _sent_by_the_middleware(error)
        assert status == error.status
        assert body == error_document(error)


def test_an_errors_data_are_members_of_its_document_and_headers_are_not() -> None:
    document = error_document(Forbidden("no", office="paris", headers={"WWW-Authenticate": "Bearer"}))

    assert document["office"] == "paris"
    assert "headers" not in document
    assert document["code"] == "forbidden"
    assert error_document(InvalidInput("bad"))["errors"] == []


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


def test_every_code_is_declared_once_in_the_domain_errors() -> None:
    declared = [cls for cls in _subclasses(errors.FairslotError) if cls.__module__ == errors.__name__]
    codes = [cls.code for cls in declared]

    assert len(codes) == len(set(codes))
    assert set(problems._HTTP_CODES.values()) <= set(codes)
    for code in ("malformed_json", "payload_too_large", "busy_retry", "timeout", "invalid_idempotency_key"):
        assert code in codes
