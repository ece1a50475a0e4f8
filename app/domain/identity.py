"""Identity normalisation and the keyed identity digest.

Two submissions are the same person when their normalised document number and birth date match, however
they were typed. The document number is never stored: only ``HMAC-SHA256(pepper, number | birth_date)``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

_DOCUMENT_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_SPACES = re.compile(r"\s+")


def normalise_document_number(number: str) -> str:
    """Upper-case the number and drop spaces and dashes ("ab 12-34" -> "AB1234")."""
    folded = unicodedata.normalize("NFKC", number)
    return _DOCUMENT_SEPARATORS.sub("", folded).upper()


def normalise_name(name: str) -> str:
    """NFKD-fold, drop accents, case-fold and collapse spaces ("  Éloïse  MÜLLER" -> "eloise muller")."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


#: The longest folded name kept for search (folding can lengthen a name: "ß" becomes "ss").
FOLDED_NAME_LENGTH = 200


def folded_name(name: str) -> str:
    """A name as the desk searches it: normalised like the person key's names, cut to the stored length."""
    return normalise_name(name)[:FOLDED_NAME_LENGTH]


def identity_key(pepper: bytes, document_number: str, birth_date: date) -> str:
    """The keyed, non-reversible digest that stands for one person (64 hex characters)."""
    message = f"{normalise_document_number(document_number)}|{birth_date.isoformat()}"
    return hmac.new(pepper, message.encode("utf-8"), hashlib.sha256).hexdigest()


def same_document(pepper: bytes, expected_key: str, document_number: str, birth_date: date) -> bool:
    """Whether a presented document matches a stored identity key, compared in constant time."""
    return hmac.compare_digest(expected_key, identity_key(pepper, document_number, birth_date))


def person_key(pepper: bytes, family_name: str, given_names: str, birth_date: date) -> str:
    """The keyed digest of a person across documents: ``HMAC(pepper, family | given names | birth date)``.

    Names are normalised first (accents, case and spacing do not matter), so one person holding a passport
    and a residence permit has one person key; homonyms born the same day share it too (an agent who has
    seen both documents can tell them apart).
    """
    message = f"{normalise_name(family_name)}|{normalise_name(given_names)}|{birth_date.isoformat()}"
    return hmac.new(pepper, message.encode("utf-8"), hashlib.sha256).hexdigest()
