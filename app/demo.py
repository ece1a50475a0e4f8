"""Demo data for ``make run``: two offices, two services, a release per office, fifty applicants online,
a few requests filed at a counter (an agent key) and by a partner association (a partner key), and a named
staff account for every role (admin, planner, desk, agent, verifier, auditor), each with the demo's
password and its own TOTP secret, printed so a newcomer signs in as each role at once. The demo keys stay,
for the API."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from app.db.models import Office
from app.domain.access import ACCOUNT_ROLES, needs_offices
from app.domain.languages import Language
from app.domain.staff import second_factor
from app.domain.verification import VerificationMethod
from app.runtime import Runtime
from app.schemas.catalog import OfficeCreate, ServiceCreate
from app.schemas.releases import ReleaseCreate, SlotIn
from app.schemas.requests import AvailabilityIn, ContactIn, IdentityIn, RequestCreate
from app.schemas.staff import RoleGrant, StaffAccountCreate, StaffKeyCreate
from app.services.beacons import rounds
from app.services.channels import filing
from app.services.draws import releases
from app.services.intake import submission, verification
from app.services.operations import catalog
from app.services.staff import accounts
from app.services.staff import keys as staff_keys
from app.services.unit_of_work import unit_of_work

OFFICES = [
    ("paris-cite", "Préfecture de police — Paris Cité", "Europe/Paris"),
    ("bobigny", "Préfecture de Seine-Saint-Denis — Bobigny", "Europe/Paris"),
]
SERVICES = [
    ("first-permit", "Premier titre de séjour", 30),
    ("renewal", "Renouvellement de titre de séjour", 20),
]
FAMILY = [
    "Diallo",
    "Nguyen",
    "Benali",
    "Kowalski",
    "Haddad",
    "Traoré",
    "Silva",
    "Popescu",
    "Okafor",
    "Rahman",
]
GIVEN = ["Aïcha", "Minh", "Yacine", "Ewa", "Karim", "Fatoumata", "João", "Ioana", "Chinedu", "Nasrin"]


#: The demo accounts' names, per role (e-mail: ``<role>.demo@example.org``).
ACCOUNT_NAMES = {
    "admin": "Camille Admin",
    "planner": "Dominique Planner",
    "desk": "Sacha Desk",
    "agent": "Alix Agent",
    "verifier": "Noa Verifier",
    "auditor": "Maxime Auditor",
}


@dataclass(frozen=True)
class DemoAccount:
    """A demo staff account: sign in with its e-mail, the demo password and a code of its TOTP secret."""

    role: str
    email: str
    display_name: str
    totp_secret: str


@dataclass(frozen=True)
class DemoResult:
    """What the demo loaded."""

    keys: dict[str, str]  # role -> key: an admin, a planner, a desk and an agent of both offices; a partner
    offices: int
    services: int
    releases: int
    applicants: int
    draw_at: datetime
    counter_requests: int = 0
    partner_requests: int = 0
    #: The password of every demo account (made for this load, printed once).
    password: str = ""
    accounts: tuple[DemoAccount, ...] = ()


def load(
    runtime: Runtime, *, applicants: int = 50, draw_in_minutes: int = 5, seed: int = 7
) -> DemoResult | None:
    """Load the demo into an empty database; ``None`` when it holds data already."""
    rng = random.Random(seed)
    now = runtime.clock.now()
    draw_at = (now + timedelta(minutes=draw_in_minutes)).replace(microsecond=0)
    with unit_of_work(runtime.engine, runtime.clock) as session:
        if session.exec(select(Office)).first() is not None:
            return None
        demo = staff_keys.operator("demo")
        for code, name, zone in OFFICES:
            catalog.create_office(
                session=session, data=OfficeCreate(code=code, name=name, timezone=zone), staff=demo
            )
        for code, name, minutes in SERVICES:
            catalog.create_service(
                session=session, data=ServiceCreate(code=code, name=name, slot_minutes=minutes), staff=demo
            )
        _row, admin_key = staff_keys.create_key(
            session=session, data=StaffKeyCreate(role="admin", label="demo admin"), staff=demo
        )
        codes = [code for code, _n, _z in OFFICES]
        keys = {"admin": admin_key}
        for role in ("planner", "desk", "verifier"):
            _row, keys[role] = staff_keys.create_key(
                session=session,
                data=StaffKeyCreate(role=role, offices=codes, label=f"demo {role}"),
                staff=demo,
            )
        _row, keys["auditor"] = staff_keys.create_key(
            session=session, data=StaffKeyCreate(role="auditor", label="demo auditor"), staff=demo
        )
        _row, keys["agent"] = staff_keys.create_key(
            session=session,
            data=StaffKeyCreate(role="agent", offices=codes, label="demo counter"),
            staff=demo,
        )
        _row, keys["partner"] = staff_keys.create_key(
            session=session,
            data=StaffKeyCreate(
                role="partner", offices=["bobigny"], label="Association d'aide aux étrangers (demo)"
            ),
            staff=demo,
        )
        password = "demo-" + secrets.token_urlsafe(12)
        made = []
        for role in ACCOUNT_ROLES:
            account = DemoAccount(
                role.value,
                f"{role.value}.demo@example.org",
                ACCOUNT_NAMES[role.value],
                second_factor.new_secret(),
            )
            accounts.create_enrolled(
                session=session,
                staff=demo,
                data=StaffAccountCreate(
                    email=account.email,
                    display_name=account.display_name,
                    roles=[RoleGrant(role=role.value, offices=codes if needs_offices(role) else [])],
                ),
                password=password,
                totp_secret=account.totp_secret,
                now=now,
                secret=runtime.secret,
            )
            made.append(account)
        planner = staff_keys.authenticate(session, keys["planner"])
        for office_code, _name, zone in OFFICES:
            slots = _weekday_slots(now.astimezone(ZoneInfo(zone)).date() + timedelta(days=7), ZoneInfo(zone))
            releases.create_release(
                session=session,
                staff=planner,
                data=ReleaseCreate(office=office_code, service="first-permit", draw_at=draw_at, slots=slots),
                now=now,
                default_ttl_hours=runtime.settings.offer_ttl_hours,
                secret=runtime.secret,
                setup=rounds.setup_for(runtime.settings),
            )
        for i in range(applicants):
            request, _code = submission.submit_request(
                session=session, data=_applicant(rng, i, now.date()), pepper=runtime.pepper, now=now
            )
            if not verification.is_verified(request):
                # The loader stands in for the demo applicants' SMS codes; a newcomer applying through
                # /apply gets a real code, written to the server log in development.
                verification.mark_verified(session, request, VerificationMethod.PHONE, now, actor="demo")
        filed = {"agent": 0, "partner": 0}
        for role, office_first in (("agent", "paris-cite"), ("partner", "bobigny")):
            staff = staff_keys.authenticate(session, keys[role])
            for j in range(CHANNEL_REQUESTS):
                person = _applicant(rng, 1000 + j, now.date())
                data = person.model_copy(
                    update={
                        "offices": [office_first],
                        "identity": person.identity.model_copy(
                            update={"document_number": f"DEMO-{role[0].upper()}{j:04d}"}
                        ),
                    }
                )
                filing.file_request(session=session, staff=staff, data=data, pepper=runtime.pepper, now=now)
                filed[role] += 1
    return DemoResult(
        keys,
        len(OFFICES),
        len(SERVICES),
        len(OFFICES),
        applicants,
        draw_at,
        counter_requests=filed["agent"],
        partner_requests=filed["partner"],
        password=password,
        accounts=tuple(made),
    )


#: Requests the demo files at a counter and through the partner, each.
CHANNEL_REQUESTS = 4


def _weekday_slots(first_day: date, zone: ZoneInfo) -> list[SlotIn]:
    slots: list[SlotIn] = []
    day = first_day
    while len(slots) < 10:
        if day.isoweekday() <= 5:
            for hour in (9, 10, 14):
                slots.append(SlotIn(starts_at=datetime.combine(day, time(hour), zone), desks=1))
        day += timedelta(days=1)
    return slots[:10]


def _applicant(rng: random.Random, i: int, today: date) -> RequestCreate:
    offices = [code for code, _n, _z in OFFICES]
    rng.shuffle(offices)
    expiry = today + timedelta(days=rng.choice([-10, 12, 25, 45, 80, 200])) if rng.random() < 0.8 else None
    availability = AvailabilityIn(weekdays=sorted(rng.sample(range(1, 6), 3))) if rng.random() < 0.2 else None
    return RequestCreate(
        service="first-permit",
        offices=offices[: rng.choice([1, 2])],
        identity=IdentityIn(
            document_type="passport",
            document_number=f"DEMO{i:05d}",
            family_name=rng.choice(FAMILY),
            given_names=rng.choice(GIVEN),
            birth_date=date(1970 + rng.randrange(35), rng.randrange(1, 13), rng.randrange(1, 28)),
        ),
        permit_expires_on=expiry,
        vulnerabilities=["disability"] if rng.random() < 0.1 else [],
        availability=availability,
        # Every demo applicant gives a mobile number (the service verifies entries by SMS; messages go to
        # the log unless an SMSC is set).
        contact=ContactIn(
            email=f"demo{i}@example.org",
            phone=f"06 00 {i // 100 % 100:02d} {i % 100:02d} 00",
        ),
        language=Language(rng.choice(["fr", "en"])),
    )
