"""Readable access codes and entry references: forgiving to type, strict to match."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain import access_codes
from tests.strategies import typed_access_codes

CODES = st.text(alphabet=access_codes.CROCKFORD, min_size=16, max_size=16).map(
    lambda s: "-".join(s[i : i + 4] for i in range(0, 16, 4))
)


@given(CODES, st.data())
def test_a_code_typed_in_any_case_with_any_dashes_and_look_alikes_matches_what_was_stored(code, data):
    typed = data.draw(typed_access_codes(code))
    assert access_codes.stored_hash(code) in access_codes.code_hashes(typed)


@given(CODES, st.text(max_size=40))
def test_text_that_is_not_a_code_never_matches_a_new_code(code, text):
    if access_codes.canonical_access_code(text) != access_codes.canonical_access_code(code):
        assert access_codes.stored_hash(code) not in access_codes.code_hashes(text)


def test_new_codes_are_four_groups_of_four_crockford_symbols_and_differ():
    codes = {access_codes.new_access_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set(access_codes.CROCKFORD)


def test_a_known_code_and_its_loose_spellings():
    assert access_codes.canonical_access_code("7KQ3-M2XD-PA9F-4HNT") == "7KQ3M2XDPA9F4HNT"
    assert access_codes.canonical_access_code("7kq3 m2xd pa9f 4hnt") == "7KQ3M2XDPA9F4HNT"
    assert access_codes.canonical_access_code("OIL0-0000-0000-0000") == "0110000000000000"
    assert access_codes.canonical_access_code("7KQ3-M2XD-PA9F-4HNU") is None  # U is not Crockford
    assert access_codes.canonical_access_code("7KQ3-M2XD-PA9F") is None


def test_entry_references_are_read_loosely_but_only_from_their_alphabet():
    assert access_codes.canonical_entry("fs-7kq3m-2xdpa") == "FS-7KQ3M-2XDPA"
    assert access_codes.canonical_entry("FS7KQ3M2XDPA") == "FS-7KQ3M-2XDPA"
    assert access_codes.canonical_entry("FS-7KQ3M-2XDP0") is None  # 0 is not in the entry alphabet
    assert access_codes.canonical_entry("XX-7KQ3M-2XDPA") is None
