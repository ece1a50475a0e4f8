"""Shared building blocks: strict input models, codes, the problem document."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    field_validator,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Dates and times outside these years are refused: nothing in the service needs them, and near year 1 or
#: 9999 adding a slot's length or converting to UTC overflows.
MIN_YEAR, MAX_YEAR = 1900, 2200


def _in_years(value: date) -> None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"a date between the years {MIN_YEAR} and {MAX_YEAR} is expected")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("a date must be an ISO 8601 string such as 2026-12-01")
    parsed = date.fromisoformat(value)
    _in_years(parsed)
    return parsed


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) > 40 or "T" not in value.upper():
        raise ValueError(
            "a time must be an RFC 3339 string with its offset, such as 2026-12-01T09:00:00+01:00"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            "a time must be RFC 3339 with its offset, such as 2026-12-01T09:00:00+01:00"
        ) from exc
    if parsed.tzinfo is None:
        raise ValueError("the time needs its UTC offset, such as +01:00 or Z")
    _in_years(parsed)
    return parsed


def _decimal(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("a number is expected")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("a number is expected") from exc


#: An ISO 8601 date given as a string (strict models would refuse JSON strings for dates otherwise).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
#: An RFC 3339 date-time with its offset, given as a string.
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
#: A decimal given as a JSON number or a numeric string (never a boolean).
Number = Annotated[Decimal, BeforeValidator(_decimal)]

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
#: A code as clients may write it: any case ("PAR", Corsica's "2A"); it is stored and compared lower-case.
CODE_PATTERN_ANY_CASE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"


def lower_code(value: Any) -> Any:
    """Codes are accepted in any case and kept lower-case (one canonical form, one unique row)."""
    return value.lower() if isinstance(value, str) and value.isascii() else value


Code = Annotated[
    str, BeforeValidator(lower_code), StringConstraints(min_length=1, max_length=32, pattern=CODE_PATTERN)
]
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def readable(value: str) -> str:
    """Refuse characters that have no place in a name or label: controls (C0, C1), bidirectional overrides
    (which can make a name read differently from what it is) and line or paragraph separators. Joiners
    (U+200C, U+200D) stay allowed: Persian and Indic names need them."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS:
            raise ValueError(f"the character U+{ord(ch):04X} is not allowed here")
    return value


#: Human-readable text (names, labels): no control characters, trimmed.
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), AfterValidator(readable)
]


class StrictInput(BaseModel):
    """Input bodies: strict types (a boolean is not a number), unknown fields refused, no NUL characters."""

    model_config = ConfigDict(strict=True, extra="forbid", str_max_length=1000)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and no legitimate field needs it.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("the NUL character is not allowed")
        return value


class Output(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True)
