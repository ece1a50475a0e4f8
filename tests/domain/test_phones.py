"""Phone numbers to E.164: French national forms, the overseas departments, international forms."""

from __future__ import annotations

import pytest

from app.domain.phones import InvalidPhone, to_e164


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("01 23 45 67 89", "+33123456789"),
        ("0692 12 34 56", "+262692123456"),  # Réunion, mobile
        ("0262 16 12 34", "+262262161234"),  # Réunion, fixed
        ("0639 01 23 45", "+262639012345"),  # Mayotte, mobile
        ("0269 60 12 34", "+262269601234"),  # Mayotte, fixed: not the metropolitan 02 69
        ("+262 269 60 12 34", "+262269601234"),
        ("0690 00 12 34", "+590690001234"),  # Guadeloupe
        ("0696 20 12 34", "+596696201234"),  # Martinique
        ("0694 20 12 34", "+594694201234"),  # Guyane
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_a_typed_number_is_stored_in_e164(typed: str, e164: str) -> None:
    assert to_e164(typed) == e164


@pytest.mark.parametrize("typed", ["call me", "12", "0612", "+33 6 12", "06 12 34 56 78 90 12", "+999 1234"])
def test_an_impossible_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        to_e164(typed)
