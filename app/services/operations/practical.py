"""Where to go and what to bring: the practical information every message, page, printout and calendar file
that names an appointment carries, read from the office and the service at the moment it is written.

A message keeps the whole list of papers (every language the service gives) in its context, so that it is
rendered in the applicant's language when it is sent, with French where the list has none.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.db.models import Office, Service, Slot
from app.services.operations.catalog import documents_in


def practical_context(office: Office, service: Service | None) -> dict[str, Any]:
    """The message context of an appointment's place: address, phone, access notes and papers to bring."""
    return {
        "address": office.address,
        "office_phone": office.phone,
        "access_notes": office.access_notes,
        "documents": dict(service.documents or {}) if service is not None else {},
    }


def slot_practical(session: Session, slot: Slot) -> dict[str, Any]:
    """The practical context of a slot's office and service."""
    office = session.get(Office, slot.office_id)
    assert office is not None
    return practical_context(office, session.get(Service, slot.service_id))


def documents_for(documents: dict[str, list[str]] | None, language: str) -> list[str]:
    """The papers of a stored context in ``language``, else French (empty: none listed)."""
    documents = documents or {}
    return list(documents.get(language) or documents.get("fr") or [])


def where_and_what(office: Office | None, service: Service | None, language: str) -> dict[str, Any]:
    """What a page shows of an appointment's place (``address``, ``phone``, ``access_notes``, ``documents``)."""
    return {
        "address": office.address if office else None,
        "phone": office.phone if office else None,
        "access_notes": office.access_notes if office else None,
        "documents": documents_in(service, language) if service is not None else [],
    }
