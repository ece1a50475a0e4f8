"""Domain errors: each carries a stable snake_case ``code`` and the HTTP status it maps to.

Every code a client or a page can meet is a class here. An error's data travels as keyword fields (the
office of ``wrong_office``, the field ``errors`` of ``validation_error``), never only inside the English
``detail``: ``app.http.problems.error_document`` renders them as extension members of the
``application/problem+json`` document (for the exception handlers and the ASGI middleware alike), and pages
read them from ``error.data``. A 409 is a 409 everywhere.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FairslotError(Exception):
    """Base of every error an API client may see."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, *, keep_changes: bool = False, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        #: The unit of work commits what it wrote before answering with this error (e.g. an audit entry).
        self.keep_changes = keep_changes
        self.extra = extra

    @property
    def data(self) -> dict[str, Any]:
        """The error's data fields (``headers`` is how it is answered, not what it says)."""
        return {name: value for name, value in self.extra.items() if name != "headers"}


class NotFound(FairslotError):
    status, code, title = 404, "not_found", "Not found"


class Unauthorized(FairslotError):
    status, code, title = 401, "unauthorized", "Missing or invalid credentials"


class Forbidden(FairslotError):
    status, code, title = 403, "forbidden", "Not allowed for this key"


class InvalidInput(FairslotError):
    """A semantic validation failure (the body parsed, but its content is not acceptable)."""

    status, code, title = 422, "validation_error", "Invalid input"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])


class AlreadyExists(FairslotError):
    status, code, title = 409, "already_exists", "Already exists"


class DuplicateRequest(FairslotError):
    status, code, title = 409, "duplicate_request", "An active request already exists"


class TooEarly(FairslotError):
    status, code, title = 409, "too_early", "The draw time has not come yet"


class AlreadyDrawn(FairslotError):
    status, code, title = 409, "already_drawn", "This release has already been drawn"


class NoOffer(FairslotError):
    status, code, title = 409, "no_offer", "There is no open offer"


class NotConfirmable(FairslotError):
    status, code, title = 409, "not_confirmable", "This booking cannot be confirmed now"


class OfferExpired(FairslotError):
    status, code, title = 409, "offer_expired", "The offer has expired"


class NotCancellable(FairslotError):
    status, code, title = 409, "not_cancellable", "This request is closed"


class NoBooking(FairslotError):
    status, code, title = 409, "no_booking", "There is no active booking"


class GiveBackLimit(FairslotError):
    status, code, title = 409, "give_back_limit", "This request gave back its bookings twice already"


class TooLateToGiveBack(FairslotError):
    status, code, title = (
        409,
        "too_late_to_give_back",
        "Too late to give this booking back: cancel it instead",
    )


class TokenRefused(FairslotError):
    status, code, title = 401, "token_invalid", "The booking token is not valid"


class IdentityMismatch(FairslotError):
    status, code, title = 403, "identity_mismatch", "The document does not match the booking"


class AlreadyCheckedIn(FairslotError):
    status, code, title = 409, "already_checked_in", "Already checked in"


class BookingCancelled(FairslotError):
    status, code, title = 409, "booking_cancelled", "The booking is not active"


class OutsideCheckInWindow(FairslotError):
    status, code, title = 409, "outside_check_in_window", "Not the time of this appointment"


class SlotNotStarted(FairslotError):
    """A booking marked absent before its slot started: the person may still come."""

    status, code, title = 409, "slot_not_started", "The appointment has not started yet"


class WrongOffice(FairslotError):
    """Carries ``office``: the code of the office the booking is for."""

    status, code, title = 409, "wrong_office", "This booking is for another office"

    def __init__(self, detail: str, *, office: str) -> None:
        super().__init__(detail, office=office)


class IdempotencyKeyReused(FairslotError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency-Key reused with another body"


class IdempotencyInProgress(FairslotError):
    status, code, title = 409, "idempotency_in_progress", "A request with this Idempotency-Key is running"


class RateLimited(FairslotError):
    status, code, title = 429, "rate_limited", "Too many requests"


# Answers of the HTTP plumbing (middleware and handlers): their codes live here too, with the rest.


class MalformedJson(FairslotError):
    status, code, title = 400, "malformed_json", "Malformed JSON"


class MethodNotAllowed(FairslotError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"


class NotAcceptable(FairslotError):
    status, code, title = 406, "not_acceptable", "Not acceptable"


class PayloadTooLarge(FairslotError):
    status, code, title = 413, "payload_too_large", "Body too large"


class UnsupportedMediaType(FairslotError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class InvalidIdempotencyKey(FairslotError):
    status, code, title = 422, "invalid_idempotency_key", "Invalid Idempotency-Key"


class InternalError(FairslotError):
    status, code, title = 500, "internal_error", "Internal error"


class RequestTimeout(FairslotError):
    """The answer did not start in time; nothing the request began was kept (see ``Deadline``)."""

    status, code, title = 503, "timeout", "Timeout"


class BusyRetry(FairslotError):
    """A lock or a concurrent change stopped the work; nothing changed and a retry will do."""

    status, code, title = 503, "busy_retry", "Busy"


class Unavailable(FairslotError):
    """A dependency (the database) cannot be reached; nothing changed."""

    status, code, title = 503, "unavailable", "Unavailable"


class BeaconPending(FairslotError):
    """The release's public round is not out yet: the draw waits for it (retry after its time)."""

    status, code, title = 409, "beacon_pending", "Waiting for the public randomness round"


class BeaconUnavailable(FairslotError):
    """No relay gave the release's round with a valid signature: the draw waits and retries."""

    status, code, title = 503, "beacon_unavailable", "The public randomness round cannot be fetched now"


class DrawPending(FairslotError):
    """The entry is frozen between ``draw_at`` and the end of its draw (retry shortly)."""

    status, code, title = 409, "draw_pending", "A draw of this request is under way; retry shortly"


class OfficeNotServed(FairslotError):
    """A staff key filing a request whose (first) office it does not serve."""

    status, code, title = 422, "office_not_served", "This key does not serve that office"


class DuplicatePerson(FairslotError):
    status, code, title = 409, "duplicate_person", "This person already has an active request"


class IdentityExcluded(FairslotError):
    status, code, title = 409, "identity_excluded", "Excluded from this service after a refuted claim"


class ClaimsUnverified(FairslotError):
    status, code, title = 422, "claims_unverified", "Claims need the desk's verdict"


class ClaimRefuted(FairslotError):
    status, code, title = 409, "claim_refuted", "A claim was refuted: the booking is forfeited"


class ClaimNotDeclared(FairslotError):
    status, code, title = 422, "claim_not_declared", "No such claim was declared"


class ClaimDecided(FairslotError):
    status, code, title = 409, "claim_decided", "This claim already has a verdict"


class ClaimsClosed(FairslotError):
    status, code, title = 409, "claims_closed", "Claims of this request are no longer verified here"


# Verified entries: the one-time code sent by SMS.


class AlreadyVerified(FairslotError):
    status, code, title = 409, "already_verified", "This request is already verified"


class RequestClosed(FairslotError):
    """A closed request (withdrawn, lapsed...): there is nothing left to verify."""

    status, code, title = 409, "request_closed", "This request is closed"


class CodeInvalid(FairslotError):
    """Carries ``tries_left``: wrong tries left on the current code."""

    status, code, title = 422, "code_invalid", "Wrong code"

    def __init__(self, detail: str, *, tries_left: int) -> None:
        super().__init__(detail, keep_changes=True, tries_left=tries_left)


class CodeExpired(FairslotError):
    status, code, title = 409, "code_expired", "The code has expired: ask for a new one"


class CodeLocked(FairslotError):
    status, code, title = 429, "code_locked", "Too many wrong codes: ask for a new one"


class TooManyCodes(FairslotError):
    """Carries ``retry_after`` (seconds) and ``limit``: which budget of new codes is spent."""

    status, code, title = 429, "too_many_codes", "A new code cannot be sent yet"

    def __init__(self, detail: str, *, retry_after: int, limit: str) -> None:
        super().__init__(
            detail, retry_after=retry_after, limit=limit, headers={"Retry-After": str(retry_after)}
        )


class PhoneInUse(FairslotError):
    status, code, title = 409, "phone_in_use", "This number already verifies enough requests"


# Staff accounts and sign-in.


class SignInRefused(FairslotError):
    """One refusal whatever failed (e-mail, password, code, lock, disabled account): nothing to enumerate."""

    status, code, title = 401, "sign_in_refused", "Sign-in refused"


class KeyOwned(FairslotError):
    """A key that belongs to a named account does not open a web session: its holder signs in as a person."""

    status, code, title = 401, "key_owned", "This key belongs to a named account"


class InvitationInvalid(FairslotError):
    """An invitation link that is unknown, already used, replaced by a newer one or expired."""

    status, code, title = 410, "invitation_invalid", "This invitation link is no longer valid"


class OidcRefused(FairslotError):
    """Carries ``reason``: the provider's answer does not sign anyone in (no account is ever created)."""

    status, code, title = 403, "oidc_refused", "The identity provider's sign-in is refused"

    def __init__(self, detail: str, *, reason: str, keep_changes: bool = False) -> None:
        super().__init__(detail, reason=reason, keep_changes=keep_changes)


class OidcUnavailable(FairslotError):
    """The identity provider cannot be reached or is not configured; nothing changed."""

    status, code, title = 503, "oidc_unavailable", "The identity provider cannot be reached now"


# Operating an office: schedules, closures, publishing weeks, withdrawing releases.


class BookingsInClosure(FairslotError):
    """Carries ``bookings``: how many bookings fall on the days; send ``cancel_bookings: true`` to cancel them."""

    status, code, title = 409, "bookings_in_closure", "Bookings fall on the days to close"

    def __init__(self, detail: str, *, bookings: int) -> None:
        super().__init__(detail, bookings=bookings)


class NothingToPublish(FairslotError):
    status, code, title = 409, "nothing_to_publish", "The schedule leaves no slot in this week"


class WeekPublished(FairslotError):
    """Carries ``release_id``: the release that holds the week."""

    status, code, title = 409, "week_published", "This week is already published"

    def __init__(self, detail: str, *, release_id: int | None) -> None:
        super().__init__(detail, release_id=release_id)


class ReleaseWithdrawn(FairslotError):
    status, code, title = 409, "release_withdrawn", "This release was withdrawn"
