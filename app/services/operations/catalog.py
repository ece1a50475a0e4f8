"""Offices and services: the catalogue staff publish capacity into, with their practical information.

An office carries its address, phone (E.164), access notes and holiday region; a service its name in each
applicant language and the papers to bring. Admins create and edit both (``PATCH``); every edit raises the
service's ``revision`` and is audit-logged with the members it changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.models import Office, Service
from app.domain import confirmation
from app.domain.access import Action
from app.domain.confirmation import ConfirmWindow
from app.domain.errors import AlreadyExists, InvalidInput, NotFound
from app.domain.verification import EntryVerification
from app.domain.weights import WeightPolicy
from app.schemas.catalog import (
    FRENCH,
    OfficeCreate,
    OfficePublic,
    OfficeUpdate,
    ServiceCreate,
    ServicePublic,
    ServiceUpdate,
    WeightPolicyIn,
)
from app.services import audit
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import now_of


def offices_known(session: Session, codes: Sequence[str]) -> list[tuple[int, str]]:
    """The ``(position, code)`` of codes that name no office."""
    known = set(session.exec(select(Office.code).where(col(Office.code).in_(list(codes)))).all())
    return [(i, code) for i, code in enumerate(codes) if code not in known]


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
        phone=data.phone,
        access_notes=data.access_notes,
        holiday_region=data.holiday_region,
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
    # Stored explicitly, so that the rule a service was created under never changes with a default.
    overrides = {"entry_verification": EntryVerification.PHONE.value, **policy_overrides(data.weight_policy)}
    service = Service(
        code=data.code,
        name=data.name,
        slot_minutes=data.slot_minutes,
        weight_policy=overrides,
        names=data.names,
        documents=data.documents or None,
        created_at=now_of(session),
    )
    session.add(service)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"a service with code {data.code!r} exists") from exc
    audit.log(session, action="service.created", subject=f"service:{service.code}", actor=staff.actor)
    return service


def policy_overrides(policy: WeightPolicyIn | None) -> dict[str, Any]:
    """The rules a policy body names, as stored (``confirm_window_days: null`` is a rule: no confirmation)."""
    if policy is None:
        return {}
    overrides = policy.model_dump(mode="json", exclude_none=True)
    if "confirm_window_days" in policy.model_fields_set:
        overrides["confirm_window_days"] = policy.model_dump(mode="json")["confirm_window_days"]
    return overrides


def _office_for_update(session: Session, code: str) -> Office:
    office = session.exec(select(Office).where(Office.code == code).with_for_update()).first()
    if office is None:
        raise NotFound(f"no office {code!r}")
    return office


def update_office(*, session: Session, code: str, data: OfficeUpdate, staff: StaffPrincipal) -> Office:
    """Change an office's name and practical information (admin); 404 for an unknown code."""
    staff.require(Action.MANAGE_CATALOG)
    office = _office_for_update(session, code.lower())
    changed = sorted(name for name in data.model_fields_set if getattr(office, name) != getattr(data, name))
    for name in changed:
        setattr(office, name, getattr(data, name))
    if changed:
        session.add(office)
        session.flush()
        audit.log(
            session,
            action="office.updated",
            subject=f"office:{office.code}",
            actor=staff.actor,
            changed=changed,
        )
    return office


def update_service(*, session: Session, code: str, data: ServiceUpdate, staff: StaffPrincipal) -> Service:
    """Change a service's names, papers, slot length or rules (admin); 404 for an unknown code.

    ``weight_policy`` changes the rules it names and keeps the others, so an edit of the factors never
    changes, say, how entries are verified.
    """
    staff.require(Action.MANAGE_CATALOG)
    service = session.exec(select(Service).where(Service.code == code.lower()).with_for_update()).first()
    if service is None:
        raise NotFound(f"no service {code!r}")
    wanted: dict[str, Any] = {}
    for name in data.model_fields_set:
        if name == "weight_policy":
            wanted[name] = {**(service.weight_policy or {}), **policy_overrides(data.weight_policy)}
        elif name == "documents":
            wanted[name] = data.documents or None
        else:
            wanted[name] = getattr(data, name)
    changed = sorted(name for name, value in wanted.items() if getattr(service, name) != value)
    for name in changed:
        setattr(service, name, wanted[name])
    if changed:
        service.revision += 1
        session.add(service)
        session.flush()
        audit.log(
            session,
            action="service.updated",
            subject=f"service:{service.code}",
            actor=staff.actor,
            changed=changed,
        )
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


# Intake's fast path keeps, per process, the services and offices it has seen: a submission then costs no
# catalogue query. Offices and services are never deleted and their codes, ids and time zones never change;
# what an admin may edit (a service's rules and names, an office's practical information) is guarded by
# ``Service.revision``: the intake writer reads the revision of each service in its own transaction and a
# submission prepared from an older copy is prepared again from the database (``forget_service``). Nothing
# else reads this cache: every other caller asks the database, so an edit shows in every process at once.
# Keyed by engine; tests clear it.
_seen: dict[tuple[int, type, str], Office | Service] = {}


def remember(session: Session, service: Service, office_codes: Sequence[str]) -> None:
    """Keep detached copies of ``service`` and of the offices ``office_codes`` for intake's fast path."""
    engine_id = id(session.get_bind())
    offices = session.exec(select(Office).where(col(Office.code).in_(list(office_codes)))).all()
    rows: list[Office | Service] = [service, *offices]
    for row in rows:
        copy: Office | Service = (
            Service.model_validate(row.model_dump())
            if isinstance(row, Service)
            else Office.model_validate(row.model_dump())
        )
        _seen[(engine_id, type(row), row.code)] = copy


def cached_service(engine: Any, code: str) -> Service | None:
    """The service with ``code`` as this process last read it (no database access); the intake writer checks
    its ``revision`` before storing anything prepared from it."""
    found = _seen.get((id(engine), Service, code))
    return found if isinstance(found, Service) else None


def cached_office(engine: Any, code: str) -> Office | None:
    """The office with ``code`` if this process has seen it (no database access): read only what never
    changes (its id, code and time zone)."""
    found = _seen.get((id(engine), Office, code))
    return found if isinstance(found, Office) else None


def forget_service(engine: Any, code: str) -> None:
    """Drop this process's copy of a service (its revision moved on)."""
    _seen.pop((id(engine), Service, code), None)


def forget_cached() -> None:
    """Drop the catalogue cache (tests that empty the tables)."""
    _seen.clear()


def office_by_code(session: Session, code: str, *, field: str = "office") -> Office:
    """The office with ``code``; a 422 naming ``field`` when there is none."""
    office = session.exec(select(Office).where(Office.code == code)).first()
    if office is None:
        raise InvalidInput(f"unknown office {code!r}", errors=[{"path": field, "message": "unknown office"}])
    return office


def service_by_code(session: Session, code: str, *, field: str = "service") -> Service:
    """The service with ``code``; a 422 naming ``field`` when there is none."""
    service = session.exec(select(Service).where(Service.code == code)).first()
    if service is None:
        raise InvalidInput(
            f"unknown service {code!r}", errors=[{"path": field, "message": "unknown service"}]
        )
    return service


def office_at(session: Session, code: str) -> Office:
    """The office a path names (any case); 404 when there is none."""
    office = session.exec(select(Office).where(Office.code == code.lower())).first()
    if office is None:
        raise NotFound(f"no office {code!r}")
    return office


def service_at(session: Session, code: str) -> Service:
    """The service a path names (any case); 404 when there is none."""
    service = session.exec(select(Service).where(Service.code == code.lower())).first()
    if service is None:
        raise NotFound(f"no service {code!r}")
    return service


def offices_by_code(session: Session) -> dict[str, Office]:
    """Every office by its code."""
    return {office.code: office for office in list_offices(session)}


def services_by_code(session: Session) -> dict[str, Service]:
    """Every service by its code."""
    return {service.code: service for service in list_services(session)}


def service_names(service: Service) -> dict[str, str]:
    """The service's name per applicant language; without names given, its ``name`` in French."""
    return dict(service.names) if service.names else {FRENCH: service.name}


def service_name_in(service: Service, language: str) -> str:
    """The service's name in ``language``, else in French."""
    names = service_names(service)
    return names.get(language) or names.get(FRENCH) or service.name


def documents_in(service: Service, language: str) -> list[str]:
    """The papers to bring in ``language``, else the French list (empty: none listed)."""
    documents = service.documents or {}
    return list(documents.get(language) or documents.get(FRENCH) or [])


def office_public(office: Office) -> OfficePublic:
    """An office as the API shows it, with its practical information."""
    return OfficePublic.model_validate(office)


def service_public(service: Service) -> ServicePublic:
    """A service as the API shows it, with its names, papers and effective weight policy."""
    return ServicePublic(
        code=service.code,
        name=service.name,
        slot_minutes=service.slot_minutes,
        weight_policy=policy_view(service),
        names=service_names(service),
        documents=dict(service.documents or {}),
    )
