"""The languages Fairslot speaks to applicants: one list, used by the schemas, the pages and the catalogs.

Applicant and public pages, form errors and the ``language`` of a request (the language of its messages and
receipt) take any of these six. Staff pages are written for French and English (``STAFF_LANGUAGES``); a
reader of another language reads them in French or English.

The page text is written in English in the code and templates (the gettext msgids, ``SOURCE``); French is
the default when a reader states no preference (``DEFAULT``). Adding a language is one member here, its
native name and direction below, and a catalog (`pybabel init -l xx`, then ``make translations``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Direction = Literal["ltr", "rtl"]


class Language(StrEnum):
    """A language of the applicant side, by its ISO 639-1 code."""

    FR = "fr"
    EN = "en"
    AR = "ar"
    ES = "es"
    PT = "pt"
    UK = "uk"

    @property
    def native_name(self) -> str:
        """The language's name in itself, as a language switcher shows it."""
        return _NATIVE_NAMES[self]

    @property
    def direction(self) -> Direction:
        """The writing direction, for ``<html dir>``."""
        return "rtl" if self in _RIGHT_TO_LEFT else "ltr"

    @classmethod
    def parse(cls, code: str) -> Language | None:
        """The language of ``code`` (``"ar"``, ``"AR"``), or None when Fairslot does not speak it."""
        try:
            return cls(code.strip().lower())
        except ValueError:
            return None


_NATIVE_NAMES: dict[Language, str] = {
    Language.FR: "Français",
    Language.EN: "English",
    Language.AR: "العربية",
    Language.ES: "Español",
    Language.PT: "Português",
    Language.UK: "Українська",
}
_RIGHT_TO_LEFT = frozenset({Language.AR})

#: The language of the msgids in code and templates.
SOURCE = Language.EN
#: The language of a reader who states no preference, and of a request that names none.
DEFAULT = Language.FR
#: Every language, in the switcher's order.
LANGUAGES: tuple[Language, ...] = tuple(Language)
#: The languages the staff pages are written for.
STAFF_LANGUAGES: tuple[Language, ...] = (Language.FR, Language.EN)
