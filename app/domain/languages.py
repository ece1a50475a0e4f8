"""The languages Fairslot speaks to applicants: one list, used by the schemas, the pages and the catalogs.

Applicant and public pages, form errors and the ``language`` of a request (the language of its messages and
receipt) take any of these six. Staff pages are written for French and English (``STAFF_LANGUAGES``); a
reader of another language reads them in French or English.

The page text is written in English in the code and templates (the gettext msgids, ``SOURCE``); French is
the default when a reader states no preference (``DEFAULT``). Adding a language is one line here (its code,
its name in itself and, if right to left, ``"rtl"``), then ``make translations``, which starts its catalog.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Direction = Literal["ltr", "rtl"]


class Language(StrEnum):
    """A language of the applicant side: its ISO 639-1 code, its name in itself, its writing direction."""

    # code, native name (for the switcher), direction (for <html dir>): one line per language
    FR = "fr", "Français"
    EN = "en", "English"
    AR = "ar", "العربية", "rtl"
    ES = "es", "Español"
    PT = "pt", "Português"
    UK = "uk", "Українська"

    native_name: str
    direction: Direction

    def __new__(cls, code: str, native_name: str = "", direction: Direction = "ltr") -> Language:
        member = str.__new__(cls, code)
        member._value_ = code
        member.native_name = native_name
        member.direction = direction
        return member

    @classmethod
    def parse(cls, code: str) -> Language | None:
        """The language of ``code`` (``"ar"``, ``"AR"``), or None when Fairslot does not speak it."""
        try:
            return cls(code.strip().lower())
        except ValueError:
            return None


#: The language of the msgids in code and templates.
SOURCE = Language.EN
#: The language of a reader who states no preference, and of a request that names none.
DEFAULT = Language.FR
#: Every language, in the switcher's order.
LANGUAGES: tuple[Language, ...] = tuple(Language)
#: The languages the staff pages are written for.
STAFF_LANGUAGES: tuple[Language, ...] = (Language.FR, Language.EN)
