"""Offices and services: the catalogue staff publish capacity into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.db.models import Office, Service
from app.domain import confirmation
from app.domain.access import Action
from app.domain.confirmation import ConfirmWindow
from app.domain.errors import AlreadyExists, InvalidInput
from app.domain.verification import EntryVerification
from app.domain.weights import WeightPolicy
from app.schemas.catalog import OfficeCreate, ServiceCreate, ServicePublic
from app.services import audit
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import now_of


def offices_known(session: Session, codes: Sequence[str]) -> list[tuple[int, str]]:
    """The ``(position, code)`` of codes that name no office."""
    return [
        (i, code) for i, code in enumerate(codes) if not isinstance(_cached(session, Office, code), Office)
    ]


def list_offices(session: Session) -> Sequence[Office]:
    """Every office, by code."""
    return session.exec(select(Office).order_by(Office.code)).all()


def list_services(session: Session) -> Sequence[Service]:
    """Every service, by code."""
    return session.exec(select(Service).order_by(Service.code)).all()


def create_office(*, session: Session, data: OfficeCreate, staff: StaffPrincipal) -> Office:
    """Add an office (409 ``already_exists`` for a taken code)."""
    staff.require(Action.MANAGE_CATALOG)
    office = Office(
        code=data.code,
        name=data.name,
        timezone=data.timezone,
        address=data.address,
        created_at=now_of(session),
    )
    session.add(office)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"an office with code {data.code!r} exists") from exc
    audit.log(
        session,
        action="office.created",
        subject=f"office:{office.code}",
        actor=staff.actor,
        office=office.code,
    )
    return office


def create_service(*, session: Session, data: ServiceCreate, staff: StaffPrincipal) -> Service:
    """Add a service with its weight policy overrides (409 ``already_exists`` for a taken code)."""
    staff.require(Action.MANAGE_CATALOG)
    overrides = data.weight_policy.model_dump(mode="json", exclude_none=True) if data.weight_policy else None
    if data.weight_policy and "confirm_window_days" in data.weight_policy.model_fields_set:
        overrides = {**(overrides or {}), "confirm_window_days": data.weight_policy.confirm_window_days}
    # Stored explicitly, so that the rule a service was created under never changes with a default.
    overrides = {"entry_verification": EntryVerification.PHONE.value, **(overrides or {})}
    service = Service(
        code=data.code,
        name=data.name,
        slot_minutes=data.slot_minutes,
        weight_policy=overrides,
        created_at=now_of(session),
    )
    session.add(service)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"a service with code {data.code!r} exists") from exc
    audit.log(session, action="service.created", subject=f"service:{service.code}", actor=staff.actor)
    return service


def policy_of(service: Service) -> WeightPolicy:
    """The effective weight policy of a service."""
    return WeightPolicy.from_overrides(service.weight_policy)


def confirm_window_of(service: Service) -> ConfirmWindow | None:
    """The service's confirm-or-release window (None: bookings need no confirmation)."""
    return confirmation.window_of(service.weight_policy)


def policy_view(service: Service) -> dict[str, Any]:
    """Every per-service rule as shown to the public: the weight policy and the confirm window."""
    return {
        **policy_of(service).as_dict(),
        "confirm_window_days": confirmation.as_policy(confirm_window_of(service)),
    }


# Offices and services never change once created (no endpoint edits or deletes them), so each process
# keeps those it has seen: intake then costs no catalogue query. Keyed by engine; tests clear it.
_seen: dict[tuple[int, type, str], Office | Service] = {}


def _cached(session: Session, model: type[Office] | type[Service], code: str) -> Office | Service | None:
    key = (id(session.get_bind()), model, code)
    found = _seen.get(key)
    if found is None:
        loaded = session.exec(select(model).where(model.code == code)).first()
        if loaded is not None:
            session.expunge(loaded)  # detached: it outlives this session and is never written through
            found = _seen[key] = cast(Office | Service, loaded)
    return found


def cached_service(engine: Any, code: str) -> Service | None:
    """The service with ``code`` if this process has seen it (no database access)."""
    found = _seen.get((id(engine), Service, code))
    return found if isinstance(found, Service) else None


def cached_office(engine: Any, code: str) -> Office | None:
    """The office with ``code`` if this process has seen it (no database access)."""
    found = _seen.get((id(engine), Office, code))
    return found if isinstance(found, Office) else None


def forget_cached() -> None:
    """Drop the catalogue cache (tests that empty the tables)."""
    _seen.clear()


def office_by_code(session: Session, code: str, *, field: str = "office") -> Office:
    """The office with ``code``; a 422 naming ``field`` when there is none."""
    office = _cached(session, Office, code)
    if not isinstance(office, Office):
        raise InvalidInput(f"unknown office {code!r}", errors=[{"path": field, "message": "unknown office"}])
    return office


def service_by_code(session: Session, code: str, *, field: str = "service") -> Service:
    """The service with ``code``; a 422 naming ``field`` when there is none."""
    service = _cached(session, Service, code)
    if not isinstance(service, Service):
        raise InvalidInput(
            f"unknown service {code!r}", errors=[{"path": field, "message": "unknown service"}]
        )
    return service


def offices_by_code(session: Session) -> dict[str, Office]:
    """Every office by its code."""
    return {office.code: office for office in list_offices(session)}


def services_by_code(session: Session) -> dict[str, Service]:
    """Every service by its code."""
    return {service.code: service for service in list_services(session)}


def service_public(service: Service) -> ServicePublic:
    """A service as the API shows it, with its effective weight policy."""
    return ServicePublic(
        code=service.code,
        name=service.name,
        slot_minutes=service.slot_minutes,
        weight_policy=policy_view(service),
    )
