"""SMS text encoding: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2, split into
concatenated segments with a user data header (UDH) when the text is too long for one message.

The alphabet is smpplib's GSM table; the split is done here rather than by ``smpplib.gsm.make_parts``
because that one may cut an escaped GSM character (``€``, ``[``…) or a UTF-16 surrogate pair in two.
SMPP carries GSM-7 unpacked, one septet per octet (the SMSC packs it), so lengths below are in octets.
"""

from __future__ import annotations

from dataclasses import dataclass

from smpplib import consts
from smpplib.gsm import GSM_CHARACTER_TABLE, gsm_encode

#: One unsegmented message, and one segment of a concatenated message (6 octets go to the UDH).
GSM7_SINGLE, GSM7_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_SEGMENT = 140, 134

GSM7 = consts.SMPP_ENCODING_DEFAULT
UCS2 = consts.SMPP_ENCODING_ISO10646

# smpplib's table uses "`" as a filler for unused positions: it is not a GSM character.
_GSM_CHARACTERS = frozenset(GSM_CHARACTER_TABLE) - {"`"}
# smpplib's encoder, once per character of its table (it searches the table for each character).
_GSM_CODES = {ch: gsm_encode(ch) for ch in _GSM_CHARACTERS}


@dataclass(frozen=True)
class Segment:
    """One submit_sm's worth of a text: its short_message octets (UDH included when segmented)."""

    number: int  # from 1
    total: int
    data_coding: int
    short_message: bytes

    @property
    def esm_class(self) -> int:
        """UDHI set on the segments of a concatenated message."""
        return consts.SMPP_GSMFEAT_UDHI if self.total > 1 else consts.SMPP_MSGMODE_DEFAULT


def fits_gsm7(text: str) -> bool:
    """Whether ``text`` can travel in the GSM 7-bit default alphabet (with its extension table)."""
    return all(ch in _GSM_CHARACTERS for ch in text)


def _units(text: str) -> tuple[int, list[bytes]]:
    """The data coding and the text as indivisible encoded units (one character each)."""
    if fits_gsm7(text):
        return GSM7, [_GSM_CODES[ch] for ch in text]
    return UCS2, [ch.encode("utf-16-be") for ch in text]


def segments(text: str, reference: int) -> list[Segment]:
    """The segments of ``text``; ``reference`` (0 to 255) ties them together and must stay the same when a
    message is resubmitted, so that a handset joins a resent segment with the ones it already has."""
    coding, units = _units(text)
    single, part = (GSM7_SINGLE, GSM7_SEGMENT) if coding == GSM7 else (UCS2_SINGLE, UCS2_SEGMENT)
    encoded = b"".join(units)
    if len(encoded) <= single:
        return [Segment(1, 1, coding, encoded)]
    chunks: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > part:
            chunks.append(current)
            current = b""
        current += unit
    chunks.append(current)
    if len(chunks) > 255:
        raise ValueError("text too long for one concatenated SMS")
    total = len(chunks)
    return [
        Segment(n, total, coding, bytes((0x05, 0x00, 0x03, reference & 0xFF, total, n)) + chunk)
        for n, chunk in enumerate(chunks, start=1)
    ]
