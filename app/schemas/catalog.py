"""Offices and services."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, Strict, StringConstraints, field_validator, model_validator

from app.domain.languages import DEFAULT, LANGUAGES
from app.domain.phones import to_e164
from app.domain.planning.regions import canonical_region
from app.schemas.common import Code, Label, Number, Output, StrictInput, readable

Multiplier = Annotated[Number, Field(gt=0, le=100, max_digits=8, decimal_places=4)]
#: The languages a service's names and documents may be given in (the applicant languages).
LANGUAGE_CODES: tuple[str, ...] = tuple(language.value for language in LANGUAGES)
FRENCH = DEFAULT.value
MAX_DOCUMENTS = 20
ACCESS_NOTES_MAX = 1000


def _readable_notes(value: str) -> str:
    """Notes may run over several lines; nothing else a label refuses is allowed."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in lines:
        readable(line)
    return "\n".join(line.rstrip() for line in lines)


Address = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
AccessNotes = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ACCESS_NOTES_MAX, strip_whitespace=True),
    AfterValidator(_readable_notes),
]
DocumentItem = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), AfterValidator(readable)
]


def _phone(value: str | None) -> str | None:
    return to_e164(value) if value else None


def _region(value: str | None) -> str | None:
    return canonical_region(value) if value else None


def _languages(given: dict[str, Any], what: str) -> None:
    unknown = sorted(set(given) - set(LANGUAGE_CODES))
    if unknown:
        raise ValueError(f"{what}: unknown language {', '.join(unknown)} (use {', '.join(LANGUAGE_CODES)})")


def _checked_names(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    _languages(value, "names")
    if FRENCH not in value:
        raise ValueError("names: the French name (fr) is required")
    return {lang: value[lang] for lang in LANGUAGE_CODES if lang in value}


def _checked_documents(value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    if value is None:
        return None
    _languages(value, "documents")
    if value and FRENCH not in value:
        raise ValueError("documents: the French list (fr) is required when any list is given")
    return {lang: value[lang] for lang in LANGUAGE_CODES if lang in value}


Names = Annotated[dict[str, Label], Field(min_length=1, max_length=len(LANGUAGE_CODES))]
Documents = Annotated[
    dict[str, Annotated[list[DocumentItem], Field(min_length=1, max_length=MAX_DOCUMENTS)]],
    Field(max_length=len(LANGUAGE_CODES)),
]
_PHONE_FIELD = Field(
    default=None,
    max_length=32,
    description="national or international form; stored and shown as E.164 (null: none)",
    examples=["01 42 76 40 40", "+262 262 40 75 75"],
)
_REGION_FIELD = Field(
    default=None,
    max_length=32,
    description="null for metropolitan France, or a French subdivision of the holidays package "
    "(GES Alsace-Moselle, GP, MQ, GY, RE, YT…): its public holidays close the office",
    examples=["RE"],
)
_NAMES_FIELD = Field(
    default=None,
    description="the service's name per applicant language ({language: text}); French required",
    examples=[{"fr": "Renouvellement de titre de séjour", "en": "Residence permit renewal"}],
)
_DOCUMENTS_FIELD = Field(
    default=None,
    description="the papers to bring, per applicant language ({language: [item…]}, at most 20 items of "
    "200 characters); French required when not empty",
    examples=[{"fr": ["Passeport", "Justificatif de domicile"], "en": ["Passport", "Proof of address"]}],
)


class OfficeCreate(StrictInput):
    """A new office."""

    code: Code
    name: Label
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Paris"])
    address: Address | None = Field(default=None, description="postal address, shown with every appointment")
    phone: str | None = _PHONE_FIELD
    access_notes: AccessNotes | None = Field(
        default=None, description="entrance, step-free access… (at most 1,000 characters)"
    )
    holiday_region: str | None = _REGION_FIELD

    _e164 = field_validator("phone")(_phone)
    _known_region = field_validator("holiday_region")(_region)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError("unknown IANA time zone (for example Europe/Paris)")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown IANA time zone") from exc
        return value


class OfficeUpdate(StrictInput):
    """What an admin changes of an office: the members given (null clears an optional one)."""

    name: Label | None = None
    address: Address | None = Field(default=None, description="postal address (null: none)")
    phone: str | None = _PHONE_FIELD
    access_notes: AccessNotes | None = Field(
        default=None, description="at most 1,000 characters (null: none)"
    )
    holiday_region: str | None = _REGION_FIELD

    _e164 = field_validator("phone")(_phone)
    _known_region = field_validator("holiday_region")(_region)

    @model_validator(mode="after")
    def _name_not_cleared(self) -> OfficeUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name: an office keeps a name")
        return self


class OfficePublic(Output):
    """An office and its practical information."""

    code: str
    name: str
    timezone: str
    address: str | None = None
    phone: str | None = Field(default=None, description="E.164")
    access_notes: str | None = None
    holiday_region: str | None = Field(default=None, description="null: metropolitan France")


class ExpiryBandIn(StrictInput):
    """Permits expiring within ``within_days`` get ``multiplier``."""

    within_days: int = Field(ge=0, le=3650)
    multiplier: Multiplier


class WeightPolicyIn(StrictInput):
    """Overrides of the default weight policy; omitted fields keep the default."""

    expiry_bands: list[ExpiryBandIn] | None = Field(default=None, min_length=1, max_length=10)
    vulnerability: Multiplier | None = None
    waiting_step: Annotated[Number, Field(ge=0, le=10, max_digits=8, decimal_places=4)] | None = None
    waiting_cap: Annotated[Number, Field(ge=1, le=100, max_digits=8, decimal_places=4)] | None = None
    no_show: Multiplier | None = None
    no_show_window_days: int | None = Field(default=None, ge=0, le=3650)
    #: ``drand`` (default): draws use the public round of the configured chain (``fairslot-draw-v2``);
    #: ``none``: v1 draws, for an office that cannot reach a relay, labelled as giving no guarantee.
    beacon: Literal["drand", "none"] | None = None
    #: A JSON array of two whole numbers, as the service list shows it: lax about the container (JSON has
    #: no tuple), strict about its members.
    confirm_window_days: (
        tuple[
            Annotated[int, Strict(), Field(ge=1, le=365)],
            Annotated[int, Strict(), Field(ge=0, le=364)],
        ]
        | None
    ) = Field(
        default=None,
        strict=False,
        description="[opens, closes]: days before the slot when confirming opens and when it closes "
        "(default [7, 2]; null: no confirmation asked)",
    )
    verify_claims: Literal["at_desk", "before_draw"] | None = Field(
        default=None, description="when urgency claims are verified (default at_desk)"
    )
    false_claim_exclusion_days: int | None = Field(
        default=None, ge=0, le=3650, description="exclusion after a claim refuted at the desk (default 180)"
    )
    entry_verification: Literal["phone", "registry", "none"] | None = Field(
        default=None,
        description="what an online request needs before it enters draws: a one-time code by SMS (phone, "
        "the default for new services), a match in the permit registry import (registry: renewals; a "
        "counter or partner filing is verified by its channel, a phone alone verifies nothing) or nothing "
        "(none)",
    )
    max_requests_per_phone: int | None = Field(
        default=None, ge=1, le=20, description="active requests one phone number may verify (default 3)"
    )
    verify_within_days: int | None = Field(
        default=None, ge=1, le=60, description="days after submission before an unverified request lapses"
    )
    office_cancelled_factor: Multiplier | None = Field(
        default=None,
        description="the multiplier of a request whose booking or offer the office cancelled (a closure), "
        "until its next offer (default 10)",
    )
    sms_not_selected: bool | None = Field(
        default=None,
        description="whether an entrant not selected by a draw is also told by SMS (always by e-mail; "
        "default false)",
    )

    @model_validator(mode="after")
    def _distinct_bands(self) -> WeightPolicyIn:
        if self.expiry_bands:
            days = [band.within_days for band in self.expiry_bands]
            if len(days) != len(set(days)):
                raise ValueError("expiry bands must have distinct within_days")
        if self.confirm_window_days and self.confirm_window_days[0] <= self.confirm_window_days[1]:
            raise ValueError("confirm_window_days must open before it closes, e.g. [7, 2]")
        return self


class ServiceCreate(StrictInput):
    """A new service."""

    code: Code
    name: Label
    slot_minutes: int = Field(ge=5, le=480)
    weight_policy: WeightPolicyIn | None = None
    names: Names | None = _NAMES_FIELD
    documents: Documents | None = _DOCUMENTS_FIELD

    _names = field_validator("names")(_checked_names)
    _documents = field_validator("documents")(_checked_documents)


class ServiceUpdate(StrictInput):
    """What an admin changes of a service: the members given. ``weight_policy`` changes the rules it names
    and keeps the others (``confirm_window_days: null`` turns confirmation off); ``documents: null`` or
    ``{}`` lists none."""

    name: Label | None = None
    slot_minutes: int | None = Field(default=None, ge=5, le=480)
    weight_policy: WeightPolicyIn | None = None
    names: Names | None = _NAMES_FIELD
    documents: Documents | None = _DOCUMENTS_FIELD

    _names = field_validator("names")(_checked_names)
    _documents = field_validator("documents")(_checked_documents)

    @model_validator(mode="after")
    def _kept_members(self) -> ServiceUpdate:
        for name in ("name", "slot_minutes", "names", "weight_policy"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name}: a service keeps its {name.replace('_', ' ')}")
        return self


class ServicePublic(Output):
    """A service, its names and papers per language, and its effective weight policy."""

    code: str
    name: str
    slot_minutes: int
    weight_policy: dict[str, Any]
    names: dict[str, str] = Field(default_factory=dict, description="{language: name}; French always present")
    documents: dict[str, list[str]] = Field(
        default_factory=dict, description="{language: [item…]}, the papers to bring (empty: none listed)"
    )
