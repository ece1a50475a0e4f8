"""Names fold to what they look like: case, accents, invisible characters and look-alike letters of other
scripts do not change a person key; other letters do."""

from __future__ import annotations

import pytest

from app.domain.identity import normalise_name, refused_in_name


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("  Éloïse  DUPRÉ", "eloise dupre"),
        ("Di\u0430llo", "diallo"),  # a Cyrillic small a
        ("\u0392EN S\u0391LAH", "ben salah"),  # Greek capitals beta and alpha
        ("ILSE", "ilse"),  # a Latin capital I is an i, not the l it looks like
        ("O\u2019Brien", "o'brien"),
    ],
)
def test_a_name_folds_to_its_latin_look(typed: str, seen: str) -> None:
    assert normalise_name(typed) == seen


@pytest.mark.parametrize("name", ["Шевченко", "Олена", "Αλέξανδρος", "Ngọc Ánh"])
def test_a_name_in_another_script_is_one_name_in_capitals_and_in_small_letters(name: str) -> None:
    assert normalise_name(name.upper()) == normalise_name(name.lower()) == normalise_name(name)


def test_different_letters_stay_different_names() -> None:
    assert normalise_name("Aminata") != normalise_name("Aminate")
    assert normalise_name("Шевченко") != normalise_name(
        "\u0428\u0435\u0432\u0447\u0435\u043d\u043a\u0430"
    )  # -ка, not -ко


@pytest.mark.parametrize(
    "invisible",
    [
        "\u00ad",
        "\u200b",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u034f",
        "\u3164",
        "\u115f",
        "\u1160",
        "\uffa0",
        "\ufe0f",
        "\u2800",
        "\ue000",
    ],
)
def test_invisible_and_filler_characters_are_named_and_refused(invisible: str) -> None:
    refused = refused_in_name(f"Dia{invisible}llo")
    assert refused is not None and refused.startswith(f"U+{ord(invisible):04X}")


def test_letters_and_marks_of_every_script_are_welcome() -> None:
    for name in ("Nguyễn Văn An", "محمد", "Ørsted-Ålund", "D'Artagnan", "Łukasz", "Шевченко"):
        assert refused_in_name(name) is None
