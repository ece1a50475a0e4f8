"""Applicant requests: intake, status, offers and bookings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints, field_validator, model_validator

from app.domain.identity import normalise_document_number, refused_in_name
from app.domain.languages import DEFAULT as DEFAULT_LANGUAGE
from app.domain.languages import Language
from app.domain.phones import to_e164
from app.domain.verification import is_code_shaped
from app.schemas.claims import ClaimPublic
from app.schemas.common import Code, IsoDate, Output, StrictInput, readable

Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Vulnerability = Literal[
    "disability", "serious_illness", "pregnancy", "elderly", "minor_children", "domestic_violence", "other"
]
DocumentType = Literal["passport", "residence_permit", "identity_card", "travel_document", "other"]


class IdentityIn(StrictInput):
    """The identity document the request is bound to."""

    document_type: DocumentType
    document_number: str = Field(min_length=1, max_length=64)
    family_name: Name
    given_names: Name
    birth_date: IsoDate

    @field_validator("document_number")
    @classmethod
    def _document_number(cls, value: str) -> str:
        normalised = normalise_document_number(value)
        if not 4 <= len(normalised) <= 32 or not normalised.isascii() or not normalised.isalnum():
            raise ValueError("a document number has 4 to 32 letters or digits (spaces and dashes allowed)")
        return value

    @field_validator("family_name", "given_names")
    @classmethod
    def _names(cls, value: str) -> str:
        refused = refused_in_name(value)
        if refused is not None:
            raise ValueError(
                f"{refused} is an invisible or filler character, not allowed in a name (it is often pasted "
                "along with the name): type the name as printed on the document"
            )
        return readable(value)

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date) -> date:
        if not date(1900, 1, 1) <= value <= date.today():
            raise ValueError("birth date must be between 1900-01-01 and today")
        return value


class AvailabilityIn(StrictInput):
    """When the applicant can come: a date window and the ISO weekdays (1 = Monday)."""

    earliest: IsoDate | None = None
    latest: IsoDate | None = None
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = Field(default=None, min_length=1, max_length=7)

    @model_validator(mode="after")
    def _coherent(self) -> AvailabilityIn:
        if self.earliest and self.latest and self.earliest > self.latest:
            raise ValueError("earliest must not be after latest")
        if self.weekdays is not None and len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays must not repeat")
        return self


class ContactIn(StrictInput):
    """How to reach the applicant about offers."""

    email: EmailStr | None = Field(default=None, max_length=320)
    phone: str | None = Field(
        default=None,
        max_length=32,
        description="national French form (overseas departments included) or international; stored E.164",
        examples=["06 12 34 56 78", "+262 692 12 34 56"],
    )

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return to_e164(value) if value else None


class RequestCreate(StrictInput):
    """A request for an appointment of one service at one of the listed offices."""

    service: Code
    offices: list[Code] = Field(min_length=1, max_length=10, description="preference order")
    identity: IdentityIn
    permit_expires_on: IsoDate | None = None
    vulnerabilities: list[Vulnerability] = Field(default_factory=list, max_length=7)
    availability: AvailabilityIn | None = None
    contact: ContactIn | None = None
    language: Annotated[Language, Field(strict=False)] = Field(
        default=DEFAULT_LANGUAGE, description="the language of its messages and receipt"
    )
    distinct_person: bool = Field(
        default=False,
        description="an agent who has seen both documents files a homonym's request (ignored from others)",
    )

    @field_validator("offices")
    @classmethod
    def _distinct_offices(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("offices must not repeat")
        return value

    @field_validator("vulnerabilities")
    @classmethod
    def _distinct_vulnerabilities(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class FactorPublic(Output):
    """One factor of a weight and why it applies: a stable ``code`` with its ``params``, and in English."""

    name: str
    value: str
    reason: str
    code: str = Field(description="Why the factor applies, as a stable code (see app/domain/weights.py).")
    params: dict[str, Any] = Field(default_factory=dict, description="The data of the code (days, dates...).")
    claim: str | None = Field(default=None, description="the claim this factor rests on, if any")


class WeightPublic(Output):
    """A weight: the rounded product of its factors."""

    total: str
    factors: list[FactorPublic]
    as_of: date


class DrawTakenPart(Output):
    """A draw this request entered and what came of it."""

    draw_id: int
    release_id: int
    office: str
    drawn_at: datetime
    weight: str
    rank: int
    outcome: str


class OfferPublic(Output):
    """An open offer: accept before ``expires_at``."""

    office: str
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime


class BookingPublic(Output):
    """A booking and its identity-bound token; confirm it between ``confirm_from`` and ``confirm_by``."""

    id: str
    office: str
    starts_at: datetime
    ends_at: datetime
    status: str
    token: str
    confirm_from: datetime | None = None
    confirm_by: datetime | None = None
    confirmed_at: datetime | None = None


class MessagePublic(Output):
    """A message sent to the applicant about this request, and how far it got."""

    channel: Literal["email", "sms"]
    kind: str
    status: Literal["queued", "sent", "delivered", "failed"]
    at: datetime


class NextDrawPublic(Output):
    """A coming draw the request would enter, and an estimate of its chance there (never a promise)."""

    release_id: int
    office: str
    draw_at: datetime
    slots: int
    chance: float | None = Field(
        description="estimated chance to be offered a slot in this draw, from simulating its race with the "
        "entries as they stand at estimated_at; null until estimated"
    )
    estimated_at: datetime | None


class VerificationPublic(Output):
    """Whether the request counts for draws: ``verified`` (by ``method``) or ``unverified`` until
    ``verify_by``, when it lapses."""

    status: Literal["verified", "unverified"]
    method: Literal["phone", "counter", "partner", "registry", "none"] | None = Field(
        default=None,
        description="how it was verified: a code by SMS (phone), the channel that filed it (counter, "
        "partner), the office's registry, or none asked (none); null while unverified",
    )
    verify_by: datetime | None = Field(default=None, description="when an unverified request lapses")
    verified_at: datetime | None = None
    phone: str | None = Field(
        default=None, description="the number a code goes to, masked (+33 6 •• •• •• 78); null without one"
    )


class PhoneCodeSent(Output):
    """A one-time code is on its way by SMS."""

    sent_to: str = Field(description="the number, masked", examples=["+33 6 •• •• •• 78"])
    expires_at: datetime


class PhoneVerificationCreate(StrictInput):
    """The one-time code the applicant received by SMS."""

    code: str = Field(
        min_length=6, max_length=12, pattern=r"^[0-9 ]+$", description="the 6 digits received by SMS"
    )

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        if not is_code_shaped(value):
            raise ValueError("the code has 6 digits")
        return value.replace(" ", "")


_VERIFIED = VerificationPublic(status="verified", method="none")


class RequestPublic(Output):
    """A request as its applicant sees it."""

    id: str
    entry: str
    service: str
    offices: list[str]
    status: str
    #: ``online``, ``counter`` (filed by an agent) or ``partner`` (filed by a partner organisation).
    channel: str = "online"
    submitted_at: datetime
    weight: WeightPublic | None = Field(
        description="the weight it would enter draws with today; null once the request is closed"
    )
    claims: list[ClaimPublic] = Field(default_factory=list)
    draws_entered: int
    draws: list[DrawTakenPart]
    offer: OfferPublic | None
    booking: BookingPublic | None
    messages: list[MessagePublic] = Field(default_factory=list)
    next_draws: list[NextDrawPublic] = Field(default_factory=list)
    verification: VerificationPublic = Field(default_factory=lambda: _VERIFIED.model_copy())


class RequestCreated(RequestPublic):
    """A new request with its access code, shown this once."""

    access_code: str
