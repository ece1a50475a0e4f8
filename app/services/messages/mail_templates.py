"""The texts of notification e-mails, in French and English."""

from __future__ import annotations

from typing import Any

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "offer_made": {
        "fr": (
            "Fairslot : un rendez-vous vous est proposé",
            "Le tirage au sort vous a attribué un rendez-vous ({office}, {starts_at}).\n"
            "Acceptez-le avant le {expires_at} sur la page de suivi de votre demande {entry}.\n"
            "Sans réponse, il sera remis au tirage.",
        ),
        "en": (
            "Fairslot: an appointment is offered to you",
            "The draw gave you an appointment ({office}, {starts_at}).\n"
            "Accept it before {expires_at} on the status page of your request {entry}.\n"
            "Without an answer it goes back to the draw.",
        ),
    },
    "offer_expiring": {
        "fr": (
            "Fairslot : votre proposition expire bientôt",
            "La proposition de rendez-vous ({office}, {starts_at}) expire le {expires_at}.\n"
            "Acceptez-la ou déclinez-la sur la page de suivi de votre demande {entry}.",
        ),
        "en": (
            "Fairslot: your offer expires soon",
            "The appointment offer ({office}, {starts_at}) expires at {expires_at}.\n"
            "Accept or decline it on the status page of your request {entry}.",
        ),
    },
    "booking_confirmed": {
        "fr": (
            "Fairslot : rendez-vous confirmé",
            "Votre rendez-vous est confirmé : {office}, {starts_at}.\n"
            "Présentez le code QR de votre demande {entry} avec votre pièce d'identité.\n"
            "Ce rendez-vous est nominatif : il ne peut être ni vendu ni cédé.",
        ),
        "en": (
            "Fairslot: appointment confirmed",
            "Your appointment is confirmed: {office}, {starts_at}.\n"
            "Show the QR code of your request {entry} with your identity document.\n"
            "This appointment is personal: it cannot be sold or transferred.",
        ),
    },
    "booking_cancelled": {
        "fr": (
            "Fairslot : rendez-vous annulé",
            "Votre rendez-vous ({office}, {starts_at}) est annulé. Le créneau retourne au tirage.",
        ),
        "en": (
            "Fairslot: appointment cancelled",
            "Your appointment ({office}, {starts_at}) is cancelled. The slot goes back to the draw.",
        ),
    },
    "slot_freed": {
        "fr": (
            "Fairslot : proposition expirée",
            "La proposition ({office}, {starts_at}) a expiré sans réponse ; le créneau retourne au tirage.\n"
            "Votre demande {entry} reste en attente pour les prochains tirages.",
        ),
        "en": (
            "Fairslot: offer expired",
            "The offer ({office}, {starts_at}) expired without an answer; the slot goes back to the draw.\n"
            "Your request {entry} stays pending for the next draws.",
        ),
    },
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a message in ``language`` (French when unknown)."""
    texts = _TEXTS[kind]
    subject, body = texts.get(language) or texts["fr"]
    return subject, body.format_map(_Blank(context))
