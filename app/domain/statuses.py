"""The lifecycle statuses of requests, offers, bookings, releases and outbox messages, spelled once.

``StrEnum`` members are the strings stored in the database and shown in the API (``RequestStatus.PENDING
== "pending"``), so a status is compared, stored and serialised as before; a misspelt one fails at import.
Draw entry outcomes are part of the draw specification and live in ``app.domain.draws.lottery``.
"""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """An applicant's request: waiting (pending), holding an offer, booked, or closed."""

    PENDING = "pending"
    OFFERED = "offered"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    #: An agent withdrew it after seeing the real holder's document (a squatted or lost request).
    SUPERSEDED = "superseded"
    #: A claim was refuted at the desk: the booking is lost and the identity excluded for a while.
    FORFEITED = "forfeited"
    #: The booking was not confirmed by ``confirm_by``: its slot went back to a draw, with no penalty.
    RELEASED = "released"
    #: An online request not verified by its ``verify_by`` (or beaten to it by the same person's other
    #: request): it never entered a draw, and its identity is free again.
    LAPSED = "lapsed"


#: The active statuses: the request holds its identity (and, once verified, its person) for the service.
ACTIVE_REQUEST_STATUSES: tuple[RequestStatus, ...] = (
    RequestStatus.PENDING,
    RequestStatus.OFFERED,
    RequestStatus.BOOKED,
)

#: The closed statuses: the identity may request the service again (a forfeited one after its exclusion);
#: personal data are purged later.
CLOSED_REQUEST_STATUSES: frozenset[RequestStatus] = frozenset(
    {
        RequestStatus.WITHDRAWN,
        RequestStatus.CANCELLED,
        RequestStatus.ATTENDED,
        RequestStatus.NO_SHOW,
        RequestStatus.SUPERSEDED,
        RequestStatus.FORFEITED,
        RequestStatus.RELEASED,
        RequestStatus.LAPSED,
    }
)


class OfferStatus(StrEnum):
    """A slot offered by a draw: open (holding the slot) until accepted, declined, expired or cancelled;
    an accepted offer whose booking was not confirmed in time is released with it."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    RELEASED = "released"
    #: The office withdrew it (a closure of its day): the request went back to the queue.
    WITHDRAWN = "withdrawn"


class BookingStatus(StrEnum):
    """An accepted offer: booked until checked in (attended), cancelled or marked a no-show."""

    BOOKED = "booked"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    RELEASED = "released"
    FORFEITED = "forfeited"
    #: The office closed on its day: the holder went back to the queue with the ``office_cancelled`` factor.
    CANCELLED_BY_OFFICE = "cancelled_by_office"


class ReleaseStatus(StrEnum):
    """A release of slots: scheduled until its draw runs once, or withdrawn before it."""

    SCHEDULED = "scheduled"
    DRAWN = "drawn"
    #: Withdrawn by a planner before its draw: never drawn; its week may be published again.
    WITHDRAWN = "withdrawn"


class ReleaseKind(StrEnum):
    """A planner's release, or a re-draw the scheduler gathers from returned slots."""

    RELEASE = "release"
    REDRAW = "redraw"


class OutboxStatus(StrEnum):
    """A queued message: pending until sent (then delivered, for SMS receipts) or failed for good (pending is
    shown to applicants as ``queued``)."""

    PENDING = "pending"
    SENT = "sent"
    #: An SMS whose every segment the SMSC reported delivered.
    DELIVERED = "delivered"
    FAILED = "failed"
