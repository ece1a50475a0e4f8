"""SMS segmentation: whatever the text, the segments join back into it, each fits one SMS, the encoding
is GSM-7 exactly when the alphabet allows, and no character is cut in two."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.services.messages import sms_encoding
from tests.smsc import gsm_decode
from tests.strategies import sms_texts


def _decode(segment: sms_encoding.Segment) -> str:
    body = segment.short_message[6:] if segment.total > 1 else segment.short_message
    return body.decode("utf-16-be") if segment.data_coding == sms_encoding.UCS2 else gsm_decode(body)


@given(sms_texts, st.integers(0, 255))
def test_segments_join_back_into_the_text_and_each_fits_one_sms(text: str, reference: int) -> None:
    parts = sms_encoding.segments(text, reference)
    assert "".join(_decode(p) for p in parts) == text  # nothing cut in two, nothing lost
    assert {p.data_coding for p in parts} == {
        sms_encoding.GSM7 if sms_encoding.fits_gsm7(text) else sms_encoding.UCS2
    }
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))
    assert all(len(p.short_message) <= 160 for p in parts)
    if len(parts) == 1:
        assert parts[0].esm_class == 0
    else:
        assert all(p.short_message[:6] == bytes((5, 0, 3, reference, len(parts), p.number)) for p in parts)
        limit = 153 + 6 if parts[0].data_coding == sms_encoding.GSM7 else 134 + 6
        assert all(len(p.short_message) <= limit for p in parts)


def test_known_lengths_one_message_then_concatenated():
    assert len(sms_encoding.segments("a" * 160, 1)) == 1
    assert len(sms_encoding.segments("a" * 161, 1)) == 2  # 153 + 8
    assert len(sms_encoding.segments("€" * 80, 1)) == 1  # 160 septets
    assert len(sms_encoding.segments("ب" * 70, 1)) == 1
    assert len(sms_encoding.segments("ب" * 71, 1)) == 2  # 67 + 4
    assert (
        sms_encoding.segments("ç", 1)[0].data_coding == sms_encoding.UCS2
    )  # lower-case ç is not in GSM 03.38
    assert sms_encoding.segments("Ç", 1)[0].data_coding == sms_encoding.GSM7


def test_an_escaped_character_is_never_split_from_its_escape():
    text = "a" * 152 + "€" + "b" * 10  # the euro sign would straddle the first boundary
    first, second = sms_encoding.segments(text, 3)
    assert first.short_message.endswith(b"a")
    assert second.short_message[6:8] == b"\x1be"
