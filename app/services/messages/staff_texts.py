"""The e-mails to members of staff, in French then English in one message (staff read either language).

An invitation carries its one-time link (valid 72 hours): the page it opens sets a password and enrols the
second factor. The same message serves a re-sent invitation, which is also how a forgotten password or a
reset second factor is set again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_datetime

#: kind -> (subject, French text, English text); ``{name}``, ``{link}`` and ``{until}`` are filled in.
TEXTS: dict[str, tuple[str, str, str]] = {
    "staff_invitation": (
        "Fairslot : votre compte agent / your staff account",
        "Bonjour {name},\n\n"
        "Un compte Fairslot a été ouvert (ou rouvert) à votre nom. Ouvrez ce lien pour choisir votre mot de "
        "passe et enregistrer votre second facteur (application d'authentification) :\n\n{link}\n\n"
        "Ce lien sert une seule fois et expire le {until_fr}. Si vous n'attendiez pas ce message, "
        "ignorez-le et prévenez votre administrateur.",
        "Hello {name},\n\n"
        "A Fairslot account was opened (or reopened) in your name. Open this link to choose your password "
        "and enrol your second factor (an authenticator app):\n\n{link}\n\n"
        "The link works once and expires on {until_en}. If you did not expect this message, ignore it and "
        "tell your administrator.",
    ),
}


def _when(value: Any, language: str) -> str:
    if not value:
        return "?"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment, "long", tzinfo=moment.tzinfo, locale=language)


def render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of a staff e-mail (``context`` holds ``name``, ``link``, ``until``)."""
    subject, french, english = TEXTS[kind]
    fields = {
        "name": context.get("name") or "",
        "link": context.get("link") or "?",
        "until_fr": _when(context.get("until"), "fr"),
        "until_en": _when(context.get("until"), "en"),
    }
    return subject, french.format_map(fields) + "\n\n-- \n\n" + english.format_map(fields)
