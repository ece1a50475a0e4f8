"""Claims as records: created at intake, judged by a verifier, the registry or the desk, and what follows.

Each declared factor of a request is one ``claim`` row (``permit_expiry`` with the declared date,
``vulnerability`` with the declared kinds). Verdicts are written under the request's row lock, the first lock
of every change to a request, so a verdict, a check-in, a cancel and a draw never interleave on one request.
The rules of when a claim counts are pure (:mod:`app.domain.claims`); this module loads, locks and writes.

Sanctions (``claim_sanction``) are keyed by digests: a claim refuted at the desk excludes the identity key
and the person key from the service for ``false_claim_exclusion_days``; a vulnerability the desk could not
judge makes that person's vulnerability claims for the service count only once confirmed before a draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Claim, ClaimSanction, Service
from app.domain.claims import (
    ClaimStatus,
    Declared,
    check_verdict,
    declared_claims,
)
from app.domain.errors import (
    ClaimDecided,
    IdentityExcluded,
)
from app.schemas.claims import ClaimPublic

EXCLUDED = "excluded"
VULNERABILITY_STRICT = "vulnerability_strict"
_CLAIMS = Claim.__table__  # type: ignore[attr-defined]


# --- Intake -------------------------------------------------------------------------------------------


def claim_rows(
    seq: int, permit_expires_on: date | None, vulnerabilities: Sequence[str]
) -> list[dict[str, Any]]:
    """The ``claim`` rows a new request's declarations make (all ``declared``)."""
    return [
        {"request_seq": seq, "kind": c.kind.value, "declared": c.value, "status": ClaimStatus.DECLARED.value}
        for c in declared_claims(permit_expires_on, vulnerabilities)
    ]


def add_for_request(session: Session, request: AppointmentRequest) -> None:
    """Record the claims of a request just flushed (it has its ``seq``)."""
    assert request.seq is not None
    rows = claim_rows(request.seq, request.permit_expires_on, request.vulnerabilities)
    if rows:
        session.execute(insert(_CLAIMS), rows)


@dataclass(frozen=True)
class Standing:
    """What sanctions say about one identity and person for one service, as of a day."""

    excluded_until: date | None = None
    vulnerability_strict: bool = False


def standing_from_rows(
    rows: Iterable[tuple[str, int, str, date | None]], today: date
) -> dict[tuple[str, int], Standing]:
    """Per ``(digest, service_id)``: the exclusion still running and the strict-vulnerability mark."""
    found: dict[tuple[str, int], Standing] = {}
    for digest, service_id, effect, until in rows:
        key = (digest, service_id)
        current = found.get(key, Standing())
        if effect == EXCLUDED and until is not None and until >= today:
            latest = max(until, current.excluded_until or until)
            current = Standing(latest, current.vulnerability_strict)
        elif effect == VULNERABILITY_STRICT:
            current = Standing(current.excluded_until, True)
        found[key] = current
    return found


def combined(
    standings: Mapping[tuple[str, int], Standing], service_id: int, *digests: str | None
) -> Standing:
    """The standing of a request from its identity and person digests."""
    until: date | None = None
    strict = False
    for digest in digests:
        if digest is None:
            continue
        s = standings.get((digest, service_id))
        if s is None:
            continue
        strict = strict or s.vulnerability_strict
        if s.excluded_until is not None and (until is None or s.excluded_until > until):
            until = s.excluded_until
    return Standing(until, strict)


def standing(session: Session, service_id: int, today: date, *digests: str | None) -> Standing:
    """The sanctions standing of the given digests for a service."""
    wanted = [d for d in digests if d]
    if not wanted:
        return Standing()
    rows = session.execute(
        sa_select(
            col(ClaimSanction.digest),
            col(ClaimSanction.service_id),
            col(ClaimSanction.effect),
            col(ClaimSanction.until),
        ).where(col(ClaimSanction.service_id) == service_id, col(ClaimSanction.digest).in_(wanted))
    ).all()
    return combined(standing_from_rows(rows, today), service_id, *wanted)


def excluded_error(until: date) -> IdentityExcluded:
    """The intake refusal for an identity or person excluded until ``until``."""
    return IdentityExcluded(
        f"a claim of this person was refuted at the desk: no new request for this service until {until.isoformat()}",
        excluded_until=until.isoformat(),
    )


def refuse_if_excluded(
    session: Session, service_id: int, today: date, identity: str, person: str | None
) -> Standing:
    """409 ``identity_excluded`` while the identity or the person is excluded; else their standing."""
    found = standing(session, service_id, today, identity, person)
    if found.excluded_until is not None:
        raise excluded_error(found.excluded_until)
    return found


# --- Reading ------------------------------------------------------------------------------------------


def of_request(session: Session, seq: int | None) -> list[Claim]:
    """The claims of a request, permit first."""
    if seq is None:
        return []
    return list(session.exec(select(Claim).where(Claim.request_seq == seq).order_by(col(Claim.kind))).all())


def statuses(claims: Iterable[Claim]) -> dict[str, str]:
    """Kind to status."""
    return {c.kind: c.status for c in claims}


def public(claims: Iterable[Claim]) -> list[ClaimPublic]:
    """The claims as the request view lists them."""
    return [ClaimPublic(claim=c.kind, declared=c.declared, status=c.status) for c in claims]


def public_declared(permit_expires_on: date | None, vulnerabilities: Sequence[str]) -> list[ClaimPublic]:
    """The claims of a request just submitted (all declared), without reading them back."""
    return [_public(c) for c in declared_claims(permit_expires_on, vulnerabilities)]


def _public(c: Declared) -> ClaimPublic:
    return ClaimPublic(claim=c.kind.value, declared=c.value, status=c.status.value)


# --- Verdicts -----------------------------------------------------------------------------------------


def apply_verdict(claim: Claim, verdict: str, *, actor: str, now: datetime, note: str | None = None) -> bool:
    """Set a verdict on a claim (False: the same verdict again); 409 ``claim_decided`` for another one."""
    try:
        changed = check_verdict(claim.status, verdict)
    except ValueError as exc:
        raise ClaimDecided(f"the {claim.kind} claim is already {claim.status}; a verdict stands") from exc
    if changed:
        claim.status = verdict
        claim.decided_by = actor
        claim.decided_at = now
        claim.note = note
    return changed


def sanction(
    session: Session,
    *,
    service_id: int,
    digests: Iterable[str | None],
    effect: str,
    until: date | None,
    booking_id: str | None,
) -> None:
    """Record one sanction per digest."""
    for digest in digests:
        if digest:
            session.add(
                ClaimSanction(
                    service_id=service_id, digest=digest, effect=effect, until=until, booking_id=booking_id
                )
            )


def exclusion_end(day: date, days: int) -> date:
    """The last day of an exclusion of ``days`` days from ``day`` (new requests allowed the day after)."""
    return day + timedelta(days=days)


def statuses_by_seq(session: Session, seqs_query: Any) -> dict[int, dict[str, str]]:
    """Decided claims (status other than declared) of the requests ``seqs_query`` selects."""
    found: dict[int, dict[str, str]] = {}
    for seq, kind, status in session.execute(
        sa_select(col(Claim.request_seq), col(Claim.kind), col(Claim.status)).where(
            col(Claim.status) != ClaimStatus.DECLARED.value, col(Claim.request_seq).in_(seqs_query)
        )
    ):
        found.setdefault(seq, {})[kind] = status
    return found


def service_sanctions(session: Session, service: Service, on: date) -> tuple[set[str], set[str]]:
    """The digests a draw of ``service`` on ``on`` leaves out, and those whose vulnerability is strict."""
    excluded: set[str] = set()
    strict: set[str] = set()
    for digest, effect, until in session.execute(
        sa_select(col(ClaimSanction.digest), col(ClaimSanction.effect), col(ClaimSanction.until)).where(
            col(ClaimSanction.service_id) == service.id
        )
    ):
        if effect == EXCLUDED and until is not None and until >= on:
            excluded.add(digest)
        elif effect == VULNERABILITY_STRICT:
            strict.add(digest)
    return excluded, strict
