"""Confirming permit-expiry claims in bulk from an office's permit registry export.

The export is a CSV of ``document_number,birth_date,permit_expires_on`` rows (a header line with those names
is optional). It is read in memory and never stored: each row becomes the identity key intake computes, and
only that digest meets the database. The whole file is checked first; one malformed line and nothing
changes (the command names the line). Then, for the pending requests that list the office and still carry a
``declared`` permit-expiry claim:

- the registry's date on or before the declared date: ``confirmed`` (the urgency is at least what was
  declared; the weight keeps the declared date, never more urgent than the applicant said);
- the registry's date after the declared date: ``refuted`` (before a draw this carries no penalty: the claim
  counts 1, as the design says);
- a claim already decided is left as it is (a verdict stands).

Rows whose identity has no such claim are ``unmatched``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, any_, bindparam, cast, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col

from app.db.models import AppointmentRequest, Claim, Service
from app.domain.claims import ClaimKind, ClaimStatus
from app.domain.identity import identity_key, normalise_document_number
from app.services import audit, catalog, intake

HEADER = ("document_number", "birth_date", "permit_expires_on")
_CHUNK = 5000


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
    first_malformed: tuple[int, str] | None = None
    changed: bool = field(default=False)

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
        ]
        if self.first_malformed is not None:
            line, reason = self.first_malformed
            out.append(f"line {line} is malformed: {reason}; nothing was changed")
        return out


def parse(text: str) -> tuple[list[RegistryRow], list[tuple[int, str]]]:
    """Every row of the export, and each malformed line with why (nothing is written here)."""
    rows: list[RegistryRow] = []
    malformed: list[tuple[int, str]] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), 1):
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


def _among(column: Any, values: list[Any], kind: Any, postgres: bool) -> Any:
    """SQL: ``column`` is one of ``values`` (an array parameter on PostgreSQL, ``IN`` elsewhere)."""
    if postgres:
        return column == any_(bindparam(None, value=values, type_=ARRAY(kind)))
    return column.in_(values)


def import_registry(
    *, session: Session, office: str, rows: Iterable[RegistryRow], pepper: bytes, now: datetime
) -> ImportSummary:
    """Confirm or refute the declared permit-expiry claims of pending requests listing ``office``."""
    catalog.office_by_code(session, office, field="office")
    by_key: dict[str, date] = {}
    summary = ImportSummary()
    for row in rows:
        summary.rows += 1
        by_key[identity_key(pepper, row.document_number, row.birth_date)] = row.permit_expires_on
    keys = sorted(by_key)
    confirmed: list[int] = []
    refuted: list[int] = []
    matched_keys: set[str] = set()
    postgres = session.get_bind().dialect.name == "postgresql"
    # PostgreSQL takes the whole list as one array parameter (``= ANY``): one index-driven statement
    # instead of thousands of bound parameters per chunk; SQLite takes chunks of plain ``IN``.
    step = max(len(keys), 1) if postgres else _CHUNK
    service_ids = list(session.execute(sa_select(col(Service.id))).scalars())
    for service_id in service_ids:
        for start in range(0, len(keys), step):
            chunk = keys[start : start + step]
            found = session.execute(
                sa_select(
                    col(AppointmentRequest.identity_key),
                    col(Claim.id),
                    cast(col(Claim.declared), Text),  # a JSON string: read as text, no JSON parsing
                    col(Claim.status),
                )
                .join(Claim, col(Claim.request_seq) == AppointmentRequest.seq)
                .where(
                    col(AppointmentRequest.service_id) == service_id,
                    _among(col(AppointmentRequest.active_identity_key), chunk, String(), postgres),
                    col(AppointmentRequest.status) == "pending",
                    col(Claim.kind) == ClaimKind.PERMIT_EXPIRY.value,
                    intake.lists_office(session, office),
                )
            ).all()
            for key, claim_id, declared, status in found:
                matched_keys.add(key)
                summary.matched += 1
                if status != ClaimStatus.DECLARED:
                    summary.unchanged += 1
                elif by_key[key] <= date.fromisoformat(declared.strip('"')):
                    confirmed.append(claim_id)
                else:
                    refuted.append(claim_id)
    summary.unmatched = len(keys) - len(matched_keys) + (summary.rows - len(keys))
    actor = f"registry:{office}"
    for status, ids in ((ClaimStatus.CONFIRMED, confirmed), (ClaimStatus.REFUTED, refuted)):
        for start in range(0, len(ids), step if postgres else _CHUNK):
            session.execute(
                update(Claim)
                .where(
                    _among(
                        col(Claim.id),
                        ids[start : start + (step if postgres else _CHUNK)],
                        Integer(),
                        postgres,
                    )
                )
                .values(status=status.value, decided_by=actor, decided_at=now)
                .execution_options(synchronize_session=False)
            )
    summary.confirmed, summary.refuted = len(confirmed), len(refuted)
    summary.changed = bool(confirmed or refuted)
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
    )
    return summary
