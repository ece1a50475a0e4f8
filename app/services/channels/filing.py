"""Counter, phone and partner intake: a staff key files a request for someone, under the online rules.

An ``agent`` files for the person at its counter or on the phone (``channel: counter``); its first office
choice must be one of the agent's offices. A ``partner`` (an association) files for the people it
accompanies (``channel: partner``); every office it lists must be one of its own. Either way the request
goes through the same intake as online (one active request per identity and service, the same weights,
exclusions and limits), the key is recorded as filer, and the audit log names it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.db.models import AppointmentRequest
from app.domain.access import Action
from app.domain.errors import OfficeNotServed
from app.schemas.requests import RequestCreate
from app.services.intake import submission
from app.services.staff.keys import StaffPrincipal


def file_request(
    *, session: Session, staff: StaffPrincipal, data: RequestCreate, pepper: bytes, now: datetime
) -> tuple[AppointmentRequest, str]:
    """File a request as ``staff`` (agent or partner); returns it and its access code, shown once."""
    staff.require(Action.FILE_REQUEST)
    channel = "partner" if staff.can(Action.ACT_FOR_APPLICANT) else "counter"
    checked = data.offices if channel == "partner" else data.offices[:1]
    outside = [(i, code) for i, code in enumerate(checked) if not staff.can(Action.FILE_REQUEST, code)]
    if outside:
        who = (
            "a partner files only for its own offices"
            if channel == "partner"
            else ("an agent files with one of its own offices as first choice")
        )
        raise OfficeNotServed(
            f"{who}; this staff member files for {', '.join(sorted(staff.reach(Action.FILE_REQUEST) or ())) or 'no office'}",
            errors=[
                {"path": f"offices.{i}", "message": f"this key does not serve office {code!r}"}
                for i, code in outside
            ],
        )
    # An agent who has seen both documents may file a homonym's request; from anyone else it is ignored.
    distinct = data.distinct_person and staff.can(Action.OVERRIDE_DUPLICATE_PERSON, office=data.offices[0])
    return submission.submit_request(
        session=session,
        data=data,
        pepper=pepper,
        now=now,
        staff=staff,
        channel=channel,
        distinct_person=distinct,
    )
