"""Who enters a draw, and with what: the pending requests of the release's service and office, each with
the weight and availability the draw freezes for it.

A draw may hold a million entrants, so they are kept column by column (one list per field, the repeated
values shared) rather than an object each, and read from the database as plain tuples
(:func:`app.db.streams.stream_tuples`): the last no-show is joined in SQL, JSON is read as text and each
distinct weight and availability is computed once.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, case, cast, false, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.db.models import AppointmentRequest, Draw, DrawEntry, NoShow, Office, Release, Service
from app.db.streams import stream_tuples
from app.domain.draws import draw_record, lottery
from app.domain.statuses import RequestStatus
from app.domain.verification import VerificationStatus
from app.domain.weights import compute_weight
from app.services.claims import records
from app.services.operations import catalog
from app.services.requests import repository

#: The record's text for an availability that allows any day (stored as NULL in ``draw_entry``).
ANY_DAY_TEXT = json.dumps(lottery.ANY_DAY.as_dict())


@dataclass
class Entrants:
    """The entrants of one draw, column by column: entrant ``i`` is ``names[i]``, ``weights[i]``..."""

    #: Public entry references (unique).
    names: list[str] = field(default_factory=list)
    weights: list[Decimal] = field(default_factory=list)
    availabilities: list[lottery.Availability] = field(default_factory=list)
    #: The requests' integer keys.
    seqs: array[int] = field(default_factory=lambda: array("q"))
    #: The weights as the record writes them.
    weight_texts: list[str] = field(default_factory=list)
    #: The availabilities as ``draw_entry`` stores them: JSON text, or None for any day.
    stored_windows: list[str | None] = field(default_factory=list)
    #: The claims each weight counted that were unconfirmed at the draw (space-separated), kept off the
    #: record: the desk judges them if the entry wins.
    unconfirmed: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def draw_entries(self) -> list[lottery.DrawEntry]:
        """One ``lottery.DrawEntry`` each (for a forecast's simulated races)."""
        return [
            lottery.DrawEntry(name, weight, window)
            for name, weight, window in zip(self.names, self.weights, self.availabilities, strict=True)
        ]


def stored_availability(availability: lottery.Availability) -> dict[str, Any] | None:
    """What ``draw_entry`` stores for an availability: its dict, or None when it allows any day."""
    as_dict = availability.as_dict()
    return None if as_dict == lottery.ANY_DAY.as_dict() else as_dict


def entrants(
    session: Session, release: Release, office: Office, service: Service, zone: ZoneInfo
) -> Entrants:
    """Pending requests of the service that list the office, were submitted before ``draw_at`` and are
    verified where the service asks for it (``entry_verification: "phone"``).

    Identities and persons excluded after a refuted claim are left out; each weight counts the claims its
    status and the policy allow (:mod:`app.domain.claims`), exactly as the request view computes it.
    """
    policy = catalog.policy_of(service)
    draw_day = release.draw_at.astimezone(zone).date()
    excluded, strict = records.service_sanctions(session, service, draw_day)
    candidates: tuple[Any, ...] = (
        col(AppointmentRequest.service_id) == service.id,
        col(AppointmentRequest.status) == RequestStatus.PENDING,
        col(AppointmentRequest.submitted_at) < release.draw_at,
        repository.lists_office(session, office.code),
    )
    if policy.needs_verification:
        # Verified entries only: an unverified request never appears in a draw record.
        candidates += (col(AppointmentRequest.verification_status) == VerificationStatus.VERIFIED.value,)
    if excluded:
        candidates += (
            col(AppointmentRequest.identity_key).not_in(excluded),
            or_(
                col(AppointmentRequest.person_key).is_(None),
                col(AppointmentRequest.person_key).not_in(excluded),
            ),
        )
    decided = records.statuses_by_seq(session, sa_select(col(AppointmentRequest.seq)).where(*candidates))
    strict_column: Any = (
        case(
            (
                or_(
                    col(AppointmentRequest.identity_key).in_(strict),
                    col(AppointmentRequest.person_key).in_(strict),
                ),
                True,
            ),
            else_=False,
        )
        if strict
        else false()
    )
    lost = dict(
        session.execute(
            sa_select(col(DrawEntry.request_seq), repository.DAYS_LOST)
            .join(AppointmentRequest, col(AppointmentRequest.seq) == DrawEntry.request_seq)
            .join(Draw, col(Draw.id) == DrawEntry.draw_id)
            # The days before this draw's date: every draw of one date weighs a request alike, whatever
            # order the offices draw in.
            .where(*candidates, col(Draw.day) < draw_day)
            .group_by(col(DrawEntry.request_seq))
        ).all()
    )
    since = draw_day - timedelta(days=policy.no_show_window_days)
    recent_no_shows = (
        sa_select(col(NoShow.identity_key), func.max(NoShow.missed_on).label("missed_on"))
        .where(col(NoShow.service_id) == service.id, col(NoShow.missed_on) >= since)
        .group_by(col(NoShow.identity_key))
        .subquery()
    )
    rows = stream_tuples(
        session,
        sa_select(
            col(AppointmentRequest.seq),
            col(AppointmentRequest.entry),
            col(AppointmentRequest.permit_expires_on),
            cast(col(AppointmentRequest.vulnerabilities), Text),
            cast(col(AppointmentRequest.availability), Text),
            recent_no_shows.c.missed_on,
            strict_column,
            col(AppointmentRequest.office_cancelled_at),
        )
        .outerjoin(recent_no_shows, recent_no_shows.c.identity_key == AppointmentRequest.identity_key)
        .where(*candidates),
    )
    # Per distinct weighing: the weight, its text and its unconfirmed claims; per distinct stored
    # availability text: the parsed window and what draw_entry stores. Few of each exist.
    weights: dict[tuple[Any, ...], tuple[Decimal, str, str | None]] = {}
    windows: dict[str | None, tuple[lottery.Availability, str | None]] = {None: (lottery.ANY_DAY, None)}
    no_vulnerability = ("[]", "", None)
    no_claims: dict[str, str] = {}
    found = Entrants()
    names, seqs = found.names, found.seqs
    weight_of, weight_text, unconfirmed = found.weights, found.weight_texts, found.unconfirmed
    window_of, stored_window = found.availabilities, found.stored_windows
    for seq, entry, expires, vulnerabilities, availability, missed, is_strict, office_cancelled in rows:
        statuses = decided.get(seq, no_claims)
        key = (
            expires,
            vulnerabilities not in no_vulnerability,
            lost.get(seq, 0),
            missed,
            statuses.get("permit_expiry"),
            statuses.get("vulnerability"),
            bool(is_strict),
            office_cancelled.astimezone(UTC).date() if office_cancelled is not None else None,
        )
        weighed = weights.get(key)
        if weighed is None:
            weight = compute_weight(
                policy=policy,
                on=draw_day,
                permit_expires_on=expires,
                vulnerabilities=json.loads(vulnerabilities) if key[1] else (),
                draws_lost=key[2],
                last_no_show_on=missed,
                claims=statuses,
                strict_vulnerability=key[6],
                office_cancelled_on=key[7],
            )
            claims = " ".join(weight.unconfirmed_claims) or None
            weighed = weights[key] = (weight.total, draw_record.weight_text(weight.total), claims)
        known = windows.get(availability)
        if known is None:
            window = (
                lottery.Availability.from_dict(json.loads(availability))
                if availability and availability != "null"
                else lottery.ANY_DAY
            )
            stored = stored_availability(window)
            known = windows[availability] = (window, json.dumps(stored) if stored else None)
        names.append(entry)
        seqs.append(seq)
        weight_of.append(weighed[0])
        weight_text.append(weighed[1])
        unconfirmed.append(weighed[2])
        window_of.append(known[0])
        stored_window.append(known[1])
    return found
