"""What a page shows of a booking, the same on the applicant's status page and the partner's request page:
its QR code as an image, whether to offer the "confirm" button, and where to go and what to bring."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from app.db.models import Office, Service
from app.domain import confirmation
from app.domain.proofs.qr import qr_svg
from app.domain.statuses import BookingStatus
from app.schemas.requests import BookingPublic, RequestPublic
from app.services.operations.practical import where_and_what


def booking_panel(booking: BookingPublic | None, now: datetime) -> dict[str, Any]:
    """The template values ``qr`` (a data URI, for a live booking) and ``confirmable`` (a live booking not
    yet confirmed, inside its window)."""
    live = booking is not None and booking.status == BookingStatus.BOOKED
    if booking is None or not live:
        return {"qr": None, "confirmable": False}
    svg = qr_svg(booking.token).encode("utf-8")
    return {
        "qr": "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
        "confirmable": booking.confirmed_at is None
        and confirmation.is_open(booking.confirm_from, booking.confirm_by, now),
    }


def place_panel(
    view: RequestPublic, offices: dict[str, Office], services: dict[str, Service], language: str
) -> dict[str, Any]:
    """The template value ``place``: the address, phone, access notes and papers of the offered or booked
    appointment's office and service, in ``language`` (None without an appointment to come)."""
    if view.offer is not None:
        office = view.offer.office
    elif view.booking is not None and view.booking.status == BookingStatus.BOOKED:
        office = view.booking.office
    else:
        return {"place": None}
    return {"place": where_and_what(offices.get(office), services.get(view.service), language)}
