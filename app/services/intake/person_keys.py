"""Person keys derived again after the names' folding changed (look-alike letters, invisible characters).

A person key is ``HMAC(pepper, family | given names | birth date)`` on the normalised names
(``app.domain.identity``). Keys written before look-alike letters were folded were derived from the older
normalisation (:func:`legacy_normalise_name`); for most names the two agree and the key stays as it is. Where
they differ (a Cyrillic or Greek letter, an invisible character), the key must be derived again, and that
needs the pepper (a server secret, which a migration does not hold) and the birth date (which is never
stored). So the migration only marks the requests (``person_rekey``), and :func:`rekey` (``fairslot db
rekey-persons``, run by ``fairslot db upgrade``) finds each birth date from the old key itself: the dates
intake accepts (1900-01-01 to today) are keyed with the old names until one gives the stored key, about
46,000 keyed hashes for a name whose folding changed, none for the others.

Then the new key replaces the old on the request, on its active person key and on the sanctions of its
service that carried the old one. Two active verified requests of one service that now share a person key
(someone who filed a second time with a look-alike letter) cannot both hold it: the one verified first keeps
it, the other keeps its place in the queue without it and the audit log names both (``person.duplicate_found``)
so that an agent can judge them, as "squatted" recoveries do. A key no date reproduces (the pepper changed)
is left as it is, counted as unmatched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, ClaimSanction, PersonRekey
from app.domain.identity import normalise_name, person_key
from app.services import audit

BATCH = 200
#: The first birth date intake accepts (``app.schemas.requests``).
EARLIEST_BIRTH = date(1900, 1, 1)
_SPACES = re.compile(r"\s+")


def legacy_normalise_name(name: str) -> str:
    """The names' normalisation the older keys were derived from: NFKD, accents dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def legacy_person_key(pepper: bytes, family_name: str, given_names: str, birth_date: date) -> str:
    """A person key as the older normalisation derived it."""
    message = (
        f"{legacy_normalise_name(family_name)}|{legacy_normalise_name(given_names)}|{birth_date.isoformat()}"
    )
    return hmac.new(pepper, message.encode("utf-8"), hashlib.sha256).hexdigest()


def birth_date_of(pepper: bytes, family_name: str, given_names: str, key: str, today: date) -> date | None:
    """The birth date an older key was derived with, found by keying every date intake accepts."""
    prefix = hmac.new(
        pepper,
        f"{legacy_normalise_name(family_name)}|{legacy_normalise_name(given_names)}|".encode(),
        hashlib.sha256,
    )
    day = EARLIEST_BIRTH
    while day <= today:
        candidate = prefix.copy()
        candidate.update(day.isoformat().encode())
        if hmac.compare_digest(candidate.hexdigest(), key):
            return day
        day += timedelta(days=1)
    return None


@dataclass
class RekeyReport:
    """What a pass did."""

    unchanged: int = 0
    rekeyed: int = 0
    duplicates: int = 0
    unmatched: int = 0

    @property
    def seen(self) -> int:
        """Marked requests handled."""
        return self.unchanged + self.rekeyed + self.unmatched


def pending(session: Session) -> int:
    """How many requests are still marked."""
    count: int = session.execute(sa_select(func.count()).select_from(PersonRekey)).scalar_one()
    return count


def rekey_batch(session: Session, *, pepper: bytes, now: datetime, report: RekeyReport) -> bool:
    """Derive again the keys of up to ``BATCH`` marked requests; False once none is marked."""
    seqs = list(session.execute(sa_select(col(PersonRekey.request_seq)).limit(BATCH)).scalars())
    if not seqs:
        return False
    requests = session.exec(
        select(AppointmentRequest)
        .where(col(AppointmentRequest.seq).in_(seqs))
        .order_by(col(AppointmentRequest.seq))
    ).all()
    for request in requests:
        _rekey(session, request, pepper=pepper, now=now, report=report)
    session.execute(delete(PersonRekey).where(col(PersonRekey.request_seq).in_(seqs)))
    session.flush()
    return True


def _rekey(
    session: Session, request: AppointmentRequest, *, pepper: bytes, now: datetime, report: RekeyReport
) -> None:
    family, given, old = request.family_name, request.given_names, request.person_key
    if (
        family is None
        or given is None
        or old is None
        or (
            (legacy_normalise_name(family), legacy_normalise_name(given))
            == (normalise_name(family), normalise_name(given))
        )
    ):
        report.unchanged += 1
        return
    born = birth_date_of(pepper, family, given, old, now.date())
    if born is None:
        report.unmatched += 1
        return
    new = person_key(pepper, family, given, born)
    report.rekeyed += 1
    session.execute(
        update(ClaimSanction)
        .where(col(ClaimSanction.service_id) == request.service_id, col(ClaimSanction.digest) == old)
        .values(digest=new)
    )
    request.person_key = new
    if request.active_person_key is not None:
        request.active_person_key = _holder_of(session, request, new, now=now, report=report)
    session.add(request)
    session.flush()


def _holder_of(
    session: Session, request: AppointmentRequest, key: str, *, now: datetime, report: RekeyReport
) -> str | None:
    """The active person key ``request`` may hold: ``key``, unless an earlier verified request of the same
    person holds it (then none, and the audit log names both); a later one gives it up."""
    other = session.exec(
        select(AppointmentRequest).where(
            AppointmentRequest.service_id == request.service_id,
            AppointmentRequest.active_person_key == key,
            AppointmentRequest.seq != request.seq,
        )
    ).first()
    if other is None:
        return key
    report.duplicates += 1
    first, second = sorted((other, request), key=lambda r: (r.verified_at or r.submitted_at, r.seq or 0))
    audit.log(
        session,
        action="person.duplicate_found",
        subject=f"request:{second.id}",
        actor="rekey",
        kept_by=first.id,
    )
    if first is request:
        other.active_person_key = None
        session.add(other)
        session.flush()
        return key
    return None
