"""One problem document: the exception handlers and the ASGI middleware render domain errors the same way."""

from __future__ import annotations

import json

import anyio

from app.domain.errors import Forbidden, InvalidInput, RateLimited, WrongOffice
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
