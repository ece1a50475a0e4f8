"""Small read helpers the pages need and the services do not offer (paged draw entries, catalogue maps)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.db.models import DrawEntry, Office, Service, StaffKey
from app.services.operations import catalog


def offices_by_code(db: Session) -> dict[str, Office]:
    """Every office by its code."""
    return {office.code: office for office in catalog.list_offices(db)}


def services_by_code(db: Session) -> dict[str, Service]:
    """Every service by its code."""
    return {service.code: service for service in catalog.list_services(db)}


def entries_page(db: Session, draw_id: int, page: int, size: int) -> Sequence[DrawEntry]:
    """Ranks ``(page - 1) * size + 1`` to ``page * size`` of a draw (ranks count from 1, without gaps)."""
    first = (page - 1) * size + 1
    return db.exec(
        select(DrawEntry)
        .where(DrawEntry.draw_id == draw_id, col(DrawEntry.rank) >= first, col(DrawEntry.rank) < first + size)
        .order_by(col(DrawEntry.rank))
    ).all()


def staff_keys(db: Session) -> Sequence[StaffKey]:
    """Every staff key (its hash stays out of the pages), newest first."""
    return db.exec(select(StaffKey).order_by(col(StaffKey.id).desc())).all()
