"""Plain-language, translatable labels for the codes the services return (statuses, outcomes, errors…)."""

from __future__ import annotations

from app.web.i18n import N_

REQUEST_STATUS = {
    "pending": N_("Waiting for a draw"),
    "offered": N_("Appointment offered"),
    "booked": N_("Appointment booked"),
    "attended": N_("Appointment attended"),
    "withdrawn": N_("Withdrawn"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Appointment missed"),
    "superseded": N_("Replaced after an identity check at a counter"),
    "released": N_("Released: the appointment was not confirmed"),
    "forfeited": N_("Forfeited: a declared claim was refuted"),
    "lapsed": N_("Closed: not verified in time"),
}

#: How a request was verified (``verification.method``).
VERIFICATION_METHOD = {
    "phone": N_("Code received by SMS"),
    "counter": N_("At an office counter"),
    "partner": N_("By a partner organisation"),
    "registry": N_("By the office's registry"),
    "none": N_("Nothing to verify for this service"),
}

BOOKING_STATUS = {
    "booked": N_("Booked"),
    "attended": N_("Attended"),
    "cancelled": N_("Cancelled"),
    "no_show": N_("Missed"),
    "released": N_("Released (not confirmed)"),
    "forfeited": N_("Forfeited"),
    "cancelled_by_office": N_("Cancelled by the office"),
    "given_back": N_("Given back: the request is back in the draws"),
}

#: How a message reaches the applicant.
MESSAGE_CHANNEL = {
    "email": N_("E-mail"),
    "sms": N_("SMS"),
}

MESSAGE_STATUS = {
    "queued": N_("Waiting to be sent"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "failed": N_("Not delivered"),
}

MESSAGE_KIND = {
    "request_received": N_("Request received"),
    "offer_made": N_("Appointment offered"),
    "offer_expiring": N_("Offer about to expire"),
    "booking_confirmed": N_("Appointment booked"),
    "booking_cancelled": N_("Appointment cancelled"),
    "slot_freed": N_("Offer expired"),
    "confirm_window_open": N_("Please confirm the appointment"),
    "confirm_due_tomorrow": N_("Last day to confirm"),
    "released": N_("Appointment released"),
    "forfeited": N_("Appointment forfeited"),
    "appointment_tomorrow": N_("Appointment tomorrow"),
    "phone_code": N_("Verification code"),
    "request_lapsed": N_("Request closed, not verified"),
    "booking_cancelled_by_office": N_("Appointment cancelled by the office"),
    "booking_given_back": N_("Appointment given back"),
    "not_selected": N_("Not selected by a draw, still in the queue"),
    "offer_withdrawn_by_office": N_("Offer withdrawn by the office"),
}

RELEASE_STATUS = {
    "scheduled": N_("Scheduled"),
    "drawn": N_("Drawn"),
    "withdrawn": N_("Withdrawn"),
}

#: What a release's or draw's beacon proves (``app.domain.draws.beacon`` trust levels).
BEACON_TRUST = {
    "public": N_("Public chain: nobody, the service's operators included, could know the draw in advance."),
    "local": N_(
        "Local chain of this service: no guarantee against whoever runs this host, who could know the draw "
        "in advance."
    ),
    "none": N_("No public beacon: whoever holds the seed could know the draw in advance."),
}

BEACON_STATUS = {
    "none": N_("No public round (v1 draw)"),
    "fixed": N_("Round fixed, published after the draw time"),
    "waiting": N_("Waiting for the public round"),
    "ready": N_("Public round received and verified"),
    "used": N_("Drawn with the public round"),
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
    "office_cancelled": N_("Cancelled by the office"),
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
    "agent": N_("Counter agent"),
    "partner": N_("Partner organisation"),
    "verifier": N_("Claims verifier"),
}

#: How a request came in.
CHANNEL = {
    "online": N_("Online"),
    "counter": N_("At a counter or by phone"),
    "partner": N_("Through a partner organisation"),
}

CLAIM = {
    "permit_expiry": N_("Permit expiry date"),
    "vulnerability": N_("Situation of vulnerability"),
}

CLAIM_STATUS = {
    "declared": N_("Declared, not checked yet"),
    "confirmed": N_("Confirmed"),
    "not_evidenced": N_("Not evidenced"),
    "refuted": N_("Refuted"),
}

CLAIM_VERDICT = {
    "confirmed": N_("The document confirms it"),
    "not_evidenced": N_("Cannot be judged here (no proof either way)"),
    "refuted": N_("The document contradicts it"),
}

#: Why an attestation is not genuine (``app.domain.proofs.attestation.REASONS``).
ATTESTATION_REASON = {
    "malformed": N_("This is not a complete attestation: it is damaged, cut short or not one at all."),
    "not_an_attestation": N_(
        "This is another kind of Fairslot document (a booking code, for example), not an attestation."
    ),
    "unknown_key": N_("It is not signed with any key of this service."),
    "tampered": N_("Its content was changed after it was signed, or the signature is forged."),
    "invalid_statement": N_("It is signed but does not hold a statement this service issues."),
    "unknown_link": N_("This check link is unknown or incomplete. Paste the attestation text instead."),
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
    "no_booking": N_("This request has no appointment to give back."),
    "give_back_limit": N_(
        "This request has already given back two appointments: keep this one, or cancel it if you no "
        "longer need it."
    ),
    "too_late_to_give_back": N_(
        "It is too late to give this appointment back and keep your place: less than a day is left. Cancel "
        "it if you cannot come."
    ),
    "offer_expired": N_(
        "The offer has expired and the slot went back to the draw. Your request stays in the next draws."
    ),
    "not_cancellable": N_("This request is closed: there is nothing left to cancel."),
    "not_confirmable": N_(
        "This appointment cannot be confirmed now: look at the dates of its confirmation window."
    ),
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
    "beacon_pending": N_(
        "This release waits for its public randomness round; it draws once the round is out."
    ),
    "beacon_unavailable": N_(
        "The public randomness round cannot be fetched from the relays right now; the draw retries by itself."
    ),
    "draw_pending": N_("A draw of this request is under way. Try again in a few minutes."),
    "forbidden": N_("Your staff key is not allowed to do this."),
    "unauthorized": N_("This staff key is unknown or revoked."),
    "already_exists": N_("This code is already taken."),
    "validation_error": N_("Some answers need correcting."),
    "rate_limited": N_("Too many attempts. Wait a minute and try again."),
    "office_not_served": N_("Your key does not serve this office: choose one of your offices first."),
    "duplicate_person": N_(
        "A request for this service is already active for a person with the same names and date of birth, "
        "under another document: one person, one chance. If you are a different person who shares these "
        "names and this date of birth, go to an office counter with your document: an agent can file your "
        "request."
    ),
    "identity_excluded": N_(
        "A claim made for this person was found false at the desk: no new request for this service is "
        "accepted until the exclusion ends."
    ),
    "claims_unverified": N_("Check each declared claim against the document, then confirm."),
    "claim_refuted": N_(
        "A declared claim is contradicted by the document: the appointment is forfeited and the person is "
        "excluded from this service for a while. Do not admit them on this booking."
    ),
    "claim_not_declared": N_("This claim was not declared for this request."),
    "claim_decided": N_("This claim already has a verdict; it stands."),
    "claims_closed": N_("This request is no longer waiting for a draw: its claims are checked at the desk."),
    "already_verified": N_("Your phone number is already confirmed: your request enters the next draws."),
    "request_closed": N_("This request is closed: there is nothing left to confirm."),
    "code_invalid": N_("This code is not the one we sent. Check the SMS and type the 6 digits again."),
    "code_expired": N_(
        "This code is no longer valid (a code lasts 15 minutes and works once). Ask for a new code."
    ),
    "code_locked": N_("Five wrong codes: this code is blocked. Ask for a new code."),
    "too_many_codes": N_(
        "A new code cannot be sent yet: at most one a minute, five a day for a request and ten a day for a "
        "phone number. Try again later."
    ),
    "phone_in_use": N_(
        "This phone number already confirms the most requests it may for this service. Use another mobile "
        "number, or go to an office counter or a partner association."
    ),
}

GENERIC_ERROR = N_("Something went wrong. Please try again.")
#: A list page opened with a cursor it never gave (an old or edited link): the list is shown from its start.
STALE_CURSOR = N_("This page link is not valid any more: the list starts again from the beginning.")

#: Errors an agent or a partner meets when filing or acting for a person: the same, about "the person".
ERROR_FOR_PERSON = {
    "duplicate_request": N_(
        "The person already has an active request for this service: open it from the list, or have it "
        "cancelled before filing a new one. If someone else applied in the person's name, an office agent "
        "can supersede that request once they have seen the person's identity document."
    ),
    "duplicate_person": N_(
        "A request for this service is already active for a person with the same names and date of birth, "
        "under another document: one person, one chance. If these are two people who share names and a "
        "date of birth, an office agent who has seen both documents can file the second request."
    ),
    "offer_expired": N_(
        "The offer has expired and the slot went back to the draw. The request stays in the next draws."
    ),
    "no_booking": N_("This request has no appointment to give back."),
    "give_back_limit": N_(
        "This request has already given back two appointments: the person keeps this one, or cancels it if "
        "they no longer need it."
    ),
    "too_late_to_give_back": N_(
        "It is too late to give this appointment back and keep the person's place: less than a day is left. "
        "Cancel it if the person cannot come."
    ),
}


def error_for_person(code: str) -> str:
    """An error's message for an agent or a partner acting for a person (their own words where they differ)."""
    return ERROR_FOR_PERSON.get(code) or ERROR.get(code, GENERIC_ERROR)


RECOVERY_NOT_FOUND = N_(
    "No active request of this document for this service at your offices. Check the number, the date of "
    "birth and the service."
)
