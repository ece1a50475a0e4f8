"""Plain-language, translatable labels for the codes the services return (statuses, outcomes, errors…)."""

from __future__ import annotations

from app.web.i18n import N_

REQUEST_STATUS = {
    "pending": N_("Waiting for a draw"),
    "offered": N_("An appointment is offered to you"),
    "booked": N_("Appointment booked"),
    "attended": N_("Appointment attended"),
    "withdrawn": N_("Withdrawn"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Appointment missed"),
}

BOOKING_STATUS = {
    "booked": N_("Booked"),
    "attended": N_("Attended"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Missed"),
}

RELEASE_STATUS = {
    "scheduled": N_("Scheduled"),
    "drawn": N_("Drawn"),
}

RELEASE_KIND = {
    "release": N_("Release"),
    "redraw": N_("Re-draw of returned slots"),
}

OUTCOME = {
    "offered": N_("Offered a slot"),
    "not_selected": N_("Not selected this time"),
    "no_compatible_slot": N_("No slot matched the availability"),
}

FACTOR = {
    "expiry": N_("Permit expiry"),
    "vulnerability": N_("Vulnerability"),
    "waiting": N_("Time waited"),
    "no_show": N_("Missed appointment"),
}

VULNERABILITY = {
    "disability": N_("Disability"),
    "serious_illness": N_("Serious illness"),
    "pregnancy": N_("Pregnancy"),
    "elderly": N_("Elderly person"),
    "minor_children": N_("Minor children in my care"),
    "domestic_violence": N_("Victim of domestic violence"),
    "other": N_("Other situation of vulnerability"),
}

DOCUMENT_TYPE = {
    "passport": N_("Passport"),
    "residence_permit": N_("Residence permit"),
    "identity_card": N_("Identity card"),
    "travel_document": N_("Travel document"),
    "other": N_("Other document"),
}

ROLE = {
    "admin": N_("Administrator"),
    "planner": N_("Planner"),
    "desk": N_("Desk agent"),
    "auditor": N_("Auditor"),
}

#: Domain error codes in plain words (the details of the services are for API clients and logs).
ERROR = {
    "duplicate_request": N_(
        "You already have an active request for this service. Open it with its access code, "
        "or cancel it before making a new one. Lost your access code, or did someone else apply in "
        "your name? An office agent can help once they have seen your identity document."
    ),
    "not_found": N_("No request matches this number and access code. Check both and try again."),
    "outside_check_in_window": N_(
        "This booking is not for now: it checks in from two hours before its time until shortly after."
    ),
    "no_offer": N_("There is no open offer on this request any more."),
    "offer_expired": N_(
        "The offer has expired and the slot went back to the draw. Your request stays in the next draws."
    ),
    "not_cancellable": N_("This request is closed: there is nothing left to cancel."),
    "token_invalid": N_(
        "This booking code is not valid: it is forged, damaged or expired. Do not admit the person "
        "on this code."
    ),
    "identity_mismatch": N_(
        "The document does not match the person who booked. Bookings are personal and cannot be "
        "transferred or sold."
    ),
    "already_checked_in": N_("This booking has already been checked in."),
    "booking_cancelled": N_("This booking is no longer valid: it was cancelled or missed."),
    "wrong_office": N_("This booking is for another office."),
    "too_early": N_("The draw time of this release has not come yet."),
    "already_drawn": N_("This release has already been drawn."),
    "forbidden": N_("Your staff key is not allowed to do this."),
    "unauthorized": N_("This staff key is unknown or revoked."),
    "already_exists": N_("This code is already taken."),
    "validation_error": N_("Some answers need correcting."),
    "rate_limited": N_("Too many attempts. Wait a minute and try again."),
}

GENERIC_ERROR = N_("Something went wrong. Please try again.")
