"""Reading submitted forms and turning validation errors into one plain message per field."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

#: A field's name in the page and the message id (English, translated when shown) of what is wrong.
FieldErrors = dict[str, str]
#: Where a pydantic error location shows in the page (``None``: nowhere in particular).
Locator = Callable[[tuple[int | str, ...], str], str | None]


_WHOLE = re.compile(r"[0-9]{1,15}")


def whole_number(raw: str, low: int = 0, high: int | None = None) -> int | None:
    """A whole number written in ASCII digits within ``[low, high]``, else None: the one parser of numbers
    in forms, paths and query strings (``str.isdigit`` also takes "²" and "٣", which ``int`` refuses or
    reads as another number)."""
    if not _WHOLE.fullmatch(raw):
        return None
    number = int(raw)
    return number if number >= low and (high is None or number <= high) else None


def text(form: FormData, name: str, max_length: int = 4096) -> str:
    """A text field, stripped and cut at ``max_length`` (empty when absent)."""
    value = form.get(name)
    return value.strip()[:max_length] if isinstance(value, str) else ""


def values(form: FormData, name: str, limit: int = 20) -> list[str]:
    """Every value of a repeated field (checkboxes), at most ``limit``."""
    return [v for v in form.getlist(name) if isinstance(v, str)][:limit]


def located(exc: ValidationError, locate: Locator) -> list[tuple[str | None, str, Any]]:
    """Each error of ``exc`` as (page field, pydantic error type, pydantic message)."""
    return [(locate(tuple(err["loc"]), str(err["msg"])), err["type"], err["msg"]) for err in exc.errors()]


def first_per_field(pairs: Iterable[tuple[str, str]]) -> FieldErrors:
    """Keep the first message of each field."""
    errors: FieldErrors = {}
    for field, message in pairs:
        errors.setdefault(field, message)
    return errors


def ordered(errors: FieldErrors, order: list[str]) -> list[tuple[str, str]]:
    """The errors in the order their fields appear on the page (for the summary at the top)."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(errors.items(), key=lambda item: rank.get(item[0], len(order)))
