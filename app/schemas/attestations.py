"""Attestations in and out: the signed statement, and the verdict of a check."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.schemas.common import Output, StrictInput


class AttestationPublic(Output):
    """A signed attestation (compact JWS), the statement it signs, and its short ``/check`` link."""

    attestation: str
    statement: dict[str, Any]
    check_url: str


class AttestationCheck(StrictInput):
    """An attestation to check."""

    attestation: str = Field(max_length=16_000)


class AttestationVerdict(Output):
    """``valid`` with the statement, or not with the ``reason``: malformed, not_an_attestation,
    unknown_key, tampered, invalid_statement."""

    valid: bool
    statement: dict[str, Any] | None = None
    reason: str | None = None
