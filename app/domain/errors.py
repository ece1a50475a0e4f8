"""Domain errors: each carries a stable snake_case ``code`` and the HTTP status it maps to.

One exception handler renders them as ``application/problem+json``; a 409 is a 409 everywhere.
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


class OfferExpired(FairslotError):
    status, code, title = 409, "offer_expired", "The offer has expired"


class NotCancellable(FairslotError):
    status, code, title = 409, "not_cancellable", "This request is closed"


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


class WrongOffice(FairslotError):
    status, code, title = 409, "wrong_office", "This booking is for another office"


class IdempotencyKeyReused(FairslotError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency-Key reused with another body"


class IdempotencyInProgress(FairslotError):
    status, code, title = 409, "idempotency_in_progress", "A request with this Idempotency-Key is running"


class RateLimited(FairslotError):
    status, code, title = 429, "rate_limited", "Too many requests"


class RequestTimeout(FairslotError):
    """The answer did not start in time; nothing the request began was kept (see ``Deadline``)."""

    status, code, title = 503, "timeout", "Timeout"


class BusyRetry(FairslotError):
    """A lock or a concurrent change stopped the work; nothing changed and a retry will do."""

    status, code, title = 503, "busy_retry", "Busy"


class Unavailable(FairslotError):
    """A dependency (the database) cannot be reached; nothing changed."""

    status, code, title = 503, "unavailable", "Unavailable"
