"""A draw record read as a stream: its fields one by one, its ``entries`` one item at a time.

A million-entry record is some 180 MB of JSON; ``json.loads`` makes a million dicts of it, over a GiB, before
the verification starts. Here the top-level object is walked with the json module's own decoder
(``raw_decode``): each field but ``entries`` is decoded whole (they are small), and each item of ``entries``
is decoded alone and handed to :func:`app.domain.draws.draw_record.read_entries`, which keeps what the
verification needs column by column. Values come out exactly as ``json.loads`` makes them (the same
decoder), so :func:`app.domain.draws.draw_record.check_record` finds exactly what ``verify_record`` finds on
the loaded record: the same verdict, the same differences in the same order.

Whatever this walk does not handle the same way as ``json.loads`` (not an object, text past the end,
malformed JSON, ``entries`` twice) raises :class:`NotStreamable`: the caller then loads the record whole,
for the same verdict or the same error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from app.domain.draws.draw_record import ABSENT, EntriesRead, NotAList, read_entries

#: Characters read at a time.
CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"
_NUMBER = frozenset("0123456789.eE+-")


class NotStreamable(Exception):
    """The text is not a JSON object this walk reads as ``json.loads`` would: load it whole instead."""


class _Text:
    """A window on a text stream: the unread characters from ``at``, refilled on demand."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.buffer = ""
        self.at = 0
        self.ended = False
        self.decode = json.JSONDecoder().raw_decode

    def more(self) -> bool:
        """Read another chunk (keeping the unread part); False at the end of the stream."""
        if self.ended:
            return False
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.ended = True
            return False
        self.buffer = self.buffer[self.at :] + chunk
        self.at = 0
        return True

    def cut_short(self, end: int) -> bool:
        """Whether a value decoded up to ``end`` may go on in the next chunk (a number at the end of the
        window: ``12`` of ``123``, ``1`` of ``1.5``): then it is decoded again with more text."""
        buffer = self.buffer
        for at in range(end, len(buffer)):
            if buffer[at] not in _NUMBER:
                return False
        return not self.ended

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end), not consumed."""
        while True:
            buffer, at = self.buffer, self.at
            while at < len(buffer) and buffer[at] in _WHITESPACE:
                at += 1
            self.at = at
            if at < len(buffer):
                return buffer[at]
            if not self.more():
                return ""

    def expect(self, characters: str) -> str:
        """Consume the next non-whitespace character, one of ``characters``."""
        found = self.peek()
        if not found or found not in characters:
            raise NotStreamable(f"expected one of {characters!r}")
        self.at += 1
        return found

    def value(self) -> Any:
        """Decode the next JSON value, reading more text until it is complete."""
        self.peek()
        while True:
            try:
                value, end = self.decode(self.buffer, self.at)
            except json.JSONDecodeError:
                if self.more():
                    continue
                raise NotStreamable("malformed JSON") from None
            if self.cut_short(end) and self.more():
                continue
            self.at = end
            return value


def read_record(stream: TextIO) -> tuple[dict[str, Any], EntriesRead | NotAList | Any]:
    """The record's fields but ``entries``, and its entries as ``read_entries`` keeps them (or
    :class:`NotAList`, or :data:`ABSENT`); raises :class:`NotStreamable` when it must be loaded whole."""
    text = _Text(stream)
    header: dict[str, Any] = {}
    entries: Any = ABSENT
    text.expect("{")
    if text.peek() == "}":
        text.at += 1
    else:
        while True:
            if text.peek() != '"':
                raise NotStreamable("expected a field name")
            name = text.value()
            text.expect(":")
            if name == "entries":
                if entries is not ABSENT:
                    raise NotStreamable("entries given twice")
                if text.peek() == "[":
                    text.at += 1
                    entries = read_entries(_items(text))
                else:
                    entries = NotAList(text.value())
            else:
                header[name] = text.value()
            if text.expect(",}") == "}":
                break
    if text.peek():
        raise NotStreamable("text after the record")
    return header, entries


def _items(text: _Text) -> Iterator[Any]:
    """The items of an array whose ``[`` was consumed, up to and including its ``]``."""
    if text.peek() == "]":
        text.at += 1
        return
    decode, whitespace, malformed = text.decode, _WHITESPACE, json.JSONDecodeError
    while True:
        buffer, at = text.buffer, text.at
        if at < len(buffer) and buffer[at] in whitespace:
            text.peek()
            buffer, at = text.buffer, text.at
        try:
            item, end = decode(buffer, at)
        except malformed:
            if text.more():
                continue
            raise NotStreamable("malformed JSON") from None
        separator = buffer[end] if end < len(buffer) else ""
        if (not separator or separator in _NUMBER) and text.cut_short(end) and text.more():
            continue
        text.at = end
        yield item
        # The separator: at once when it follows the item, as in the records Fairslot writes.
        if separator == ",":
            text.at = end + 1
        elif separator == "]":
            text.at = end + 1
            return
        elif text.expect(",]") == "]":
            return
