"""Confirming permit-expiry claims in bulk from an office's permit registry export.

The export is a CSV of ``document_number,birth_date,permit_expires_on`` rows (a header line with those names
is optional). It is read in memory and never stored: each row becomes the identity key intake computes, and
only that digest meets the database (in a temporary table of the import's own transaction, dropped at its
end). The whole file is checked first; one malformed line and nothing
changes (the command names the line). Then, for the pending requests that list the office and still carry a
``declared`` permit-expiry claim:

- the registry's date on or before the declared date: ``confirmed`` (the urgency is at least what was
  declared; the weight keeps the declared date, never more urgent than the applicant said);
- the registry's date after the declared date: ``refuted`` (before a draw this carries no penalty: the claim
  counts 1, as the design says);
- a claim already decided is left as it is (a verdict stands).

Rows whose identity has no such claim are ``unmatched``. A request a due draw holds among its frozen entries
(``app.services.draws.freeze``) is left as it is, neither judged nor verified: its lines are ``held`` and
named, for the next run once that draw is done.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text, and_, cast, delete, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.bulk import bulk_insert
from app.db.models import AppointmentRequest, Claim, RegistryIdentity, Service
from app.domain.claims import ClaimKind, ClaimStatus
from app.domain.errors import DrawPending, DuplicatePerson
from app.domain.identity import identity_key, normalise_document_number
from app.domain.statuses import RequestStatus
from app.domain.verification import REGISTRY_RETENTION_DAYS, VerificationMethod, VerificationStatus
from app.services import audit
from app.services.draws import freeze
from app.services.intake import verification
from app.services.operations import catalog
from app.services.requests import repository

HEADER = ("document_number", "birth_date", "permit_expires_on")


@dataclass(frozen=True)
class RegistryRow:
    """One parsed line of the export."""

    line: int
    document_number: str
    birth_date: date
    permit_expires_on: date


@dataclass
class ImportSummary:
    """What an import found and did."""

    rows: int = 0
    matched: int = 0
    confirmed: int = 0
    refuted: int = 0
    unchanged: int = 0
    unmatched: int = 0
    malformed: int = 0
    #: Unverified requests whose identity the registry holds: verified (method ``registry``).
    verified: int = 0
    first_malformed: tuple[int, str] | None = None
    changed: bool = field(default=False)
    #: Lines left for the next run, and the release whose due draw holds their request among its entries.
    held: list[tuple[int, int]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The printed summary."""
        out = [
            f"rows: {self.rows}",
            f"matched: {self.matched}",
            f"confirmed: {self.confirmed}",
            f"refuted: {self.refuted}",
            f"already decided: {self.unchanged}",
            f"unmatched: {self.unmatched}",
            f"malformed: {self.malformed}",
            f"verified by the registry: {self.verified}",
        ]
        if self.held:
            out.append(f"held for a draw under way: {len(self.held)}")
        for line, release_id in sorted(self.held):
            out.append(
                f"line {line} was left unchanged: release {release_id} is being drawn with this request among "
                "its entries; run the import again once it is drawn"
            )
        if self.first_malformed is not None:
            line, reason = self.first_malformed
            out.append(f"line {line} is malformed: {reason}; nothing was changed")
        return out


def parse(text: str) -> tuple[list[RegistryRow], list[tuple[int, str]]]:
    """Every row of the export, and each malformed line with why (nothing is written here).

    A line the CSV reader itself refuses (a field past its size limit, a NUL byte, an unclosed quote) is
    malformed too, and ends the reading: nothing after it can be trusted to be split where it should."""
    rows: list[RegistryRow] = []
    malformed: list[tuple[int, str]] = []
    records = csv.reader(io.StringIO(text))
    number = 0
    while True:
        try:
            fields = next(records)
        except StopIteration:
            break
        except csv.Error as exc:
            malformed.append((number + 1, _reader_refusal(exc)))
            break
        number += 1
        if not fields or all(not f.strip() for f in fields):
            continue
        cells = tuple(f.strip() for f in fields)
        if number == 1 and tuple(c.lower() for c in cells) == HEADER:
            continue
        if len(cells) != 3:
            malformed.append((number, f"expected 3 columns ({','.join(HEADER)}), found {len(cells)}"))
            continue
        document, born, expires = cells
        normalised = normalise_document_number(document)
        if not 4 <= len(normalised) <= 32 or not normalised.isascii() or not normalised.isalnum():
            malformed.append((number, "the document number must have 4 to 32 letters or digits"))
            continue
        try:
            birth_date = date.fromisoformat(born)
            permit_expires_on = date.fromisoformat(expires)
        except ValueError:
            malformed.append((number, "dates must be ISO dates (YYYY-MM-DD)"))
            continue
        rows.append(RegistryRow(number, document, birth_date, permit_expires_on))
    return rows, malformed


def _reader_refusal(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a field is longer than {csv.field_size_limit() // 1024} KiB, which no registry column is"
    return f"not a CSV line ({exc})"


#: Scratch tables of one import (temporary: per connection, never in the schema, dropped at the end).
_SCRATCH = MetaData()
_REGISTRY = Table(
    "fairslot_registry_rows",
    _SCRATCH,
    Column("identity_key", String(64), primary_key=True),
    Column("expires", Date, nullable=False),
    prefixes=["TEMPORARY"],
)
_VERDICTS = Table(
    "fairslot_registry_verdicts",
    _SCRATCH,
    Column("claim_id", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    prefixes=["TEMPORARY"],
)


def import_registry(
    *, session: Session, office: str, rows: Iterable[RegistryRow], pepper: bytes, now: datetime
) -> ImportSummary:
    """Confirm or refute the declared permit-expiry claims of pending requests listing ``office``.

    Set-based: the digests go into a temporary table (COPY on PostgreSQL), one join per service finds
    the claims, and one ``UPDATE … FROM`` writes the verdicts, whatever the size of the file.
    """
    catalog.office_by_code(session, office, field="office")
    by_key: dict[str, date] = {}
    line_of: dict[str, int] = {}
    summary = ImportSummary()
    for row in rows:
        summary.rows += 1
        key = identity_key(pepper, row.document_number, row.birth_date)
        by_key[key] = row.permit_expires_on
        line_of[key] = row.line
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA temp_store = MEMORY")  # scratch rows never touch the disk
    _SCRATCH.drop_all(connection, checkfirst=True)
    _SCRATCH.create_all(connection)
    _retain(session, office, by_key, now)
    try:
        bulk_insert(session, _REGISTRY, ("identity_key", "expires"), by_key.items())
        verdicts: list[tuple[int, str]] = []
        matched_keys: set[str] = set()
        for service in session.exec(select(Service)).all():
            service_id = service.id
            assert service_id is not None
            due = freeze.due_draws(session, service_id, now)
            all_count = not catalog.policy_of(service).needs_verification
            found = session.execute(
                sa_select(
                    _REGISTRY.c.identity_key,
                    _REGISTRY.c.expires,
                    col(Claim.id),
                    cast(col(Claim.declared), Text),  # a JSON string: read as text, no JSON parsing
                    col(Claim.status),
                    col(AppointmentRequest.offices),
                    col(AppointmentRequest.submitted_at),
                    col(AppointmentRequest.verification_status),
                )
                .select_from(_REGISTRY)
                .join(
                    AppointmentRequest,
                    and_(
                        col(AppointmentRequest.service_id) == service_id,
                        col(AppointmentRequest.active_identity_key) == _REGISTRY.c.identity_key,
                    ),
                )
                .join(Claim, col(Claim.request_seq) == AppointmentRequest.seq)
                .where(
                    col(AppointmentRequest.status) == "pending",
                    col(Claim.kind) == ClaimKind.PERMIT_EXPIRY.value,
                    repository.lists_office(session, office),
                )
            ).all()
            for key, expires, claim_id, declared, status, offices, submitted_at, verified in found:
                matched_keys.add(key)
                summary.matched += 1
                if status != ClaimStatus.DECLARED:
                    summary.unchanged += 1
                    continue
                draw = freeze.holding(due, offices, submitted_at)
                if draw is not None and (all_count or verified == VerificationStatus.VERIFIED.value):
                    summary.held.append((line_of[key], draw.release_id))  # its weight is frozen
                    continue
                holds = expires <= date.fromisoformat(declared.strip('"'))
                verdicts.append((claim_id, (ClaimStatus.CONFIRMED if holds else ClaimStatus.REFUTED).value))
        summary.verified = _verify_matched(session, office, now, line_of, summary.held)
        summary.unmatched = summary.rows - len(matched_keys)
        if verdicts:
            bulk_insert(session, _VERDICTS, ("claim_id", "status"), verdicts)
            session.execute(
                update(Claim)
                # A verdict given meanwhile (a verifier, another import) stands.
                .where(col(Claim.id) == _VERDICTS.c.claim_id, col(Claim.status) == ClaimStatus.DECLARED.value)
                .values(status=_VERDICTS.c.status, decided_by=f"registry:{office}", decided_at=now)
                .execution_options(synchronize_session=False)
            )
    finally:
        _SCRATCH.drop_all(connection, checkfirst=True)
    confirmed = [claim_id for claim_id, status in verdicts if status == ClaimStatus.CONFIRMED]
    refuted = [claim_id for claim_id, status in verdicts if status == ClaimStatus.REFUTED]
    summary.confirmed, summary.refuted = len(confirmed), len(refuted)
    summary.changed = bool(confirmed or refuted or summary.verified)
    audit.log(
        session,
        action="claims.imported",
        subject=f"office:{office}",
        actor="cli",
        rows=summary.rows,
        matched=summary.matched,
        confirmed=summary.confirmed,
        refuted=summary.refuted,
        unmatched=summary.unmatched,
        verified=summary.verified,
    )
    return summary


def _retain(session: Session, office: str, keys: Iterable[str], now: datetime) -> None:
    """Keep the export's keyed digests for ``REGISTRY_RETENTION_DAYS``: the office's export replaces its
    previous one, and digests past their time go, whichever office they came from."""
    session.execute(
        delete(RegistryIdentity).where(
            or_(col(RegistryIdentity.office) == office, col(RegistryIdentity.kept_until) <= now)
        )
    )
    until = now + timedelta(days=REGISTRY_RETENTION_DAYS)
    rows = [(key, office, until) for key in keys]
    if rows:
        bulk_insert(session, RegistryIdentity.__table__, ("identity_key", "office", "kept_until"), rows)  # type: ignore[attr-defined]


def _verify_matched(
    session: Session, office: str, now: datetime, line_of: dict[str, int], held: list[tuple[int, int]]
) -> int:
    """Verify (method ``registry``) the unverified pending requests listing ``office`` whose identity is in
    the registry's scratch table: the office's own register knows this person holds this document. One a due
    draw would take among its frozen entries once verified is left, its line added to ``held``."""
    found = session.execute(
        sa_select(col(AppointmentRequest.id))
        .join(_REGISTRY, col(AppointmentRequest.active_identity_key) == _REGISTRY.c.identity_key)
        .where(
            col(AppointmentRequest.status) == RequestStatus.PENDING,
            col(AppointmentRequest.verification_status) == VerificationStatus.UNVERIFIED.value,
            repository.lists_office(session, office),
        )
        .order_by(col(AppointmentRequest.seq))
    ).scalars()
    verified = 0
    for request_id in list(found):
        request = repository.lock_request(session, request_id)
        if request.status != RequestStatus.PENDING or verification.is_verified(request):
            continue
        try:
            freeze.require_not_frozen(session, request, now, joining=True)
        except DrawPending as exc:
            assert request.active_identity_key is not None
            held.append((line_of[request.active_identity_key], int(exc.extra["release_id"])))
            continue
        try:  # refused before it changes anything
            verification.mark_verified(
                session, request, VerificationMethod.REGISTRY, now, actor=f"registry:{office}"
            )
        except DuplicatePerson:
            continue  # the same person's other request was verified first: it stays unverified
        verified += 1
    return verified
