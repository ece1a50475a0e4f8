"""Attestations in and out: the signed statement, and the verdict of a check."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from app.schemas.common import Output


class AttestationPublic(Output):
    """A signed attestation (compact JWS), the statement it signs, and its short ``/check`` link."""

    attestation: str
    statement: dict[str, Any]
    check_url: str


class AttestationCheck(BaseModel):
    """An attestation to check. Its length is not capped here: anything too long to be an attestation is
    answered ``{valid: false, reason: "malformed"}``, like any other text that is not one (the body limit
    still applies)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    attestation: str


class AttestationCurrent(Output):
    """Where the attested request stands now: its ``status`` (a request status) and ``since`` when."""

    status: str
    since: datetime


class AttestationVerdict(Output):
    """``valid`` with the statement, or not with the ``reason``: malformed, not_an_attestation,
    unknown_key, tampered, invalid_statement. A genuine attestation also gives ``current``: the
    request's status now and since when, since the statement is true only as of its date (a booking
    attested then may have been cancelled since)."""

    valid: bool
    statement: dict[str, Any] | None = None
    reason: str | None = None
    current: AttestationCurrent | None = None


class ReceiptQuery(BaseModel):
    """The receipt's query: ``lang`` overrides the request's language (fr, en or ar)."""

    model_config = ConfigDict(extra="forbid")

    lang: Literal["fr", "en", "ar", "es", "pt", "uk"] | None = None
