"""SQLModel tables. Every change here ships an Alembic migration (a test compares the two).

Uniqueness rules that concurrency must never break are database constraints, not code:
- one active request per identity and service: ``appointment_request.active_identity_key`` is the identity
  key while the request is pending, offered or booked, NULL once closed, and unique per service;
- one holder per slot: ``offer.active_slot_id`` is the slot while the offer is open or accepted (booked),
  NULL once declined, expired or cancelled, and unique;
- one draw per release: ``draw.release_id`` is unique;
- one person, one chance: ``appointment_request.active_person_key`` is the person key while the request is
  active and verified (NULL once closed, and for a homonym an agent filed with ``distinct_person``), unique
  per service;
- one published week per office and service: ``release (office_id, service_id, week)`` is unique while the
  release is not withdrawn;
- one claim per declared factor: ``claim (request_seq, kind)`` is unique;
- one current code per request: ``phone_code.request_seq`` is the primary key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _json(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


class Office(SQLModel, table=True):
    """A prefecture or sub-prefecture desk, in its own time zone."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    #: Postal address, shown wherever an appointment is named (optional).
    address: str | None = Field(default=None, max_length=300)
    #: The office's phone number in E.164 (``+33142764040``), or NULL.
    phone: str | None = Field(default=None, max_length=16)
    #: Entrance, step-free access and the like, as the office writes them (at most 1,000 characters).
    access_notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: NULL for metropolitan France, else a subdivision of ``app.domain.planning.regions`` (its holidays).
    holiday_region: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Service(SQLModel, table=True):
    """A kind of appointment (first permit, renewal…) with its slot length and weight policy."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    slot_minutes: int
    weight_policy: dict[str, Any] | None = _json()
    #: The service's name in each applicant language (``{"fr": …}`` at least); NULL: ``name`` in French.
    names: dict[str, str] | None = _json()
    #: The papers to bring, per language (``{"fr": [item…], …}``); NULL or empty: none listed.
    documents: dict[str, list[str]] | None = _json()
    #: Raised by every edit: a process that kept the service for intake checks it has not changed since.
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffAccount(SQLModel, table=True):
    """A named member of staff: e-mail, display name, roles with their offices, password and TOTP.

    Only an Argon2id hash of the password is kept, and the TOTP secret is sealed with the server secret.
    """

    __tablename__ = "staff_account"

    id: int | None = Field(default=None, primary_key=True)
    #: Stored lower-case; unique.
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    display_name: str = Field(max_length=200)
    #: ``[{"role": ..., "offices": [...]}, ...]``, one entry per role.
    roles: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="invited", max_length=16)
    password_hash: str | None = Field(default=None, max_length=200)
    totp_sealed: str | None = Field(default=None, max_length=200)
    #: The last TOTP time step accepted: a code of that step or an earlier one is refused.
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)
    failed_sign_ins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    enrolled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffInvitation(SQLModel, table=True):
    """A one-time link to enrol a password and a second factor (also how a forgotten password is reset).

    Only the link token's SHA-256 is kept; the TOTP secret the page shows is sealed until enrolment.
    """

    __tablename__ = "staff_invitation"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="staff_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    totp_sealed: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    #: Set when the link is used, or replaced by a newer one.
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffKey(SQLModel, table=True):
    """A staff credential: only its SHA-256 is kept (the key itself is shown once).

    A key with an ``account_id`` belongs to that account and dies with it; a key without one is an unowned
    key, for machines and partner organisations (and every key made before accounts existed).
    """

    __tablename__ = "staff_key"

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    role: str = Field(max_length=16)
    offices: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    account_id: int | None = Field(default=None, foreign_key="staff_account.id", index=True)


class StaffSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries an opaque random id, of which only the SHA-256 is kept."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    account_id: int | None = Field(default=None, foreign_key="staff_account.id", index=True)
    key_id: int | None = Field(default=None, foreign_key="staff_key.id", index=True)
    method: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=24)


class StaffOidcLogin(SQLModel, table=True):
    """An OpenID Connect sign-in under way: its ``state`` (SHA-256), ``nonce`` and PKCE verifier (sealed),
    bound to the browser that started it; used once."""

    __tablename__ = "staff_oidc_login"

    state_hash: str = Field(primary_key=True, max_length=64)
    browser_hash: str = Field(max_length=64)
    nonce: str = Field(max_length=64)
    verifier_sealed: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Release(SQLModel, table=True):
    """A batch of slots drawn at ``draw_at``; its seed stays secret until the draw."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    kind: str = Field(default="release", max_length=16)
    status: str = Field(default="scheduled", max_length=16, index=True)
    draw_at: datetime = Field(sa_type=UTCDateTime, index=True)
    #: The seed in clear: NULL until the draw reveals it (older releases kept it here from the start).
    seed: str | None = Field(default=None, max_length=64)
    #: The seed encrypted with the service secret (``app.domain.proofs.seed_seal``) until the draw.
    seed_sealed: str | None = Field(default=None, max_length=128)
    seed_commitment: str = Field(max_length=64)
    offer_ttl_hours: int = 48
    slot_count: int = 0
    created_by: int | None = Field(default=None, foreign_key="staff_key.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    drawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The public beacon source fixed at creation (``fairslot-draw-v2``): NULL round for a v1 release.
    beacon_chain: str | None = Field(default=None, max_length=64)
    beacon_round: int | None = Field(default=None, sa_type=BigInteger)
    #: ``public``, ``local`` or ``none``: what the release's beacon proves, shown wherever it is.
    beacon_trust: str = Field(default="none", max_length=8, sa_column_kwargs={"server_default": "none"})
    #: The verified round (``beacon_proof`` of the record) and its randomness, once fetched.
    beacon_proof: dict[str, Any] | None = _json()
    beacon_randomness: str | None = Field(default=None, max_length=64)
    beacon_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    beacon_error: str | None = Field(default=None, max_length=300)
    #: The ISO week (``2027-W03``) a release published from the office's schedule holds; NULL otherwise.
    week: str | None = Field(default=None, max_length=8)
    #: The recurring rule that published it, if any.
    rule_id: int | None = Field(default=None, foreign_key="release_rule.id")
    #: Withdrawn before its draw (``status`` is then ``withdrawn``): never drawn, its week free again.
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_reason: str | None = Field(default=None, max_length=500)


# One release per office, service and published week, unless withdrawn: two workers running the same
# recurring rule, or a planner and a rule, can never publish a week twice.
Index(
    "uq_release_office_id_service_id_week",
    Release.office_id,  # type: ignore[arg-type]
    Release.service_id,  # type: ignore[arg-type]
    Release.week,  # type: ignore[arg-type]
    unique=True,
    postgresql_where=text("week IS NOT NULL AND status <> 'withdrawn'"),
    sqlite_where=text("week IS NOT NULL AND status <> 'withdrawn'"),
)


class Slot(SQLModel, table=True):
    """One appointment at one desk; ``release_id`` is the draw whose pool it is in now."""

    # The desk's day list finds an office's slots of one day.
    __table_args__ = (Index("ix_slot_office_id_starts_at", "office_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="release.id", index=True)
    office_id: int = Field(foreign_key="office.id")
    service_id: int = Field(foreign_key="service.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    desk: int = 1
    #: Set when the slot came back (declined, expired, cancelled) and waits for a re-draw release.
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    #: Set when a closure of the office removed it: never drawn nor offered again.
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AppointmentRequest(SQLModel, table=True):
    """An applicant's request for a service; the document number is kept only as a keyed digest."""

    __tablename__ = "appointment_request"
    # Few indexes on purpose: intake writes this table hardest. The draw finds its entries through
    # (service_id, status); the unique pair is the one-active-request rule.
    __table_args__ = (
        UniqueConstraint("service_id", "active_identity_key"),
        Index("ix_appointment_request_service_id_status", "service_id", "status"),
        Index(
            "uq_appointment_request_service_id_active_person_key",
            "service_id",
            "active_person_key",
            unique=True,
        ),
    )

    #: Internal key: compact, in insertion order (draw entries index it a million at a time).
    seq: int | None = Field(default=None, primary_key=True)
    #: Public id (a UUID), as in the API's paths.
    id: str = Field(max_length=36, unique=True)
    entry: str = Field(max_length=32, unique=True)
    service_id: int = Field(foreign_key="service.id")
    offices: list[str] = Field(sa_column=Column(JSON, nullable=False))
    identity_key: str = Field(max_length=64)
    active_identity_key: str | None = Field(default=None, max_length=64)
    #: ``HMAC(pepper, family | given names | birth date)``: one person across their documents.
    person_key: str | None = Field(default=None, max_length=64)
    active_person_key: str | None = Field(default=None, max_length=64)
    family_name: str | None = Field(default=None, max_length=200)
    #: ``family_name`` folded (``app.domain.identity.folded_name``): the desk searches it, accents and case
    #: ignored, in plain SQL on every database.
    family_name_folded: str | None = Field(default=None, max_length=200)
    given_names: str | None = Field(default=None, max_length=200)
    permit_expires_on: date | None = None
    vulnerabilities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    availability: dict[str, Any] | None = _json()
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    language: str = Field(default="fr", max_length=8)
    access_code_hash: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=16)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: ``online``, ``counter`` (an agent filed it) or ``partner`` (a partner organisation filed it).
    channel: str = Field(default="online", max_length=16, sa_column_kwargs={"server_default": "online"})
    #: The staff key (agent or partner) that filed it; NULL for online requests.
    filed_by: int | None = Field(default=None, foreign_key="staff_key.id")
    #: ``verified`` or ``unverified`` (``app.domain.verification``): only a verified request enters draws
    #: where its service asks for it, and only a verified one holds its person key. Requests older than
    #: the rule were filed under ``entry_verification: "none"``: verified, method ``none``.
    verification_status: str = Field(
        default="verified", max_length=16, sa_column_kwargs={"server_default": "verified"}
    )
    #: ``phone``, ``counter``, ``partner``, ``registry`` or ``none``; NULL while unverified.
    verification_method: str | None = Field(
        default="none", max_length=16, sa_column_kwargs={"server_default": "none"}
    )
    #: When an unverified request lapses (NULL once verified, and for requests that never needed it).
    verify_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: ``HMAC(pepper, phone | E.164)``: how many active requests of a service one number verified.
    phone_digest: str | None = Field(default=None, max_length=64)
    #: When the office cancelled this request's booking or offer (a closure): its weight carries the
    #: ``office_cancelled`` factor until its next offer, which clears this.
    office_cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# The lapse job finds unverified pending requests by ``verify_by``: a partial index, so verified rows
# (the mass of the table) are not in it.
Index(
    "ix_appointment_request_verify_by",
    AppointmentRequest.verify_by,  # type: ignore[arg-type]
    postgresql_where=text("verify_by IS NOT NULL"),
    sqlite_where=text("verify_by IS NOT NULL"),
)
# A number's verified requests of a service (``phone_in_use``), looked up at each verification.
Index(
    "ix_appointment_request_service_id_phone_digest",
    AppointmentRequest.service_id,  # type: ignore[arg-type]
    AppointmentRequest.phone_digest,  # type: ignore[arg-type]
    postgresql_where=text("phone_digest IS NOT NULL"),
    sqlite_where=text("phone_digest IS NOT NULL"),
)


# A partner lists the requests it filed, newest first: a partial index, so online intake pays nothing.
Index(
    "ix_appointment_request_filed_by_seq",
    AppointmentRequest.filed_by,  # type: ignore[arg-type]
    AppointmentRequest.seq,  # type: ignore[arg-type]
    postgresql_where=text("filed_by IS NOT NULL"),
    sqlite_where=text("filed_by IS NOT NULL"),
)


class PhoneCode(SQLModel, table=True):
    """The current one-time code of a request: its keyed digest only, until it is used or replaced."""

    __tablename__ = "phone_code"

    request_seq: int = Field(primary_key=True, foreign_key="appointment_request.seq")
    #: ``HMAC(secret, request id | code)``; NULL once used (a replayed code then finds nothing).
    code_hash: str | None = Field(default=None, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    #: Wrong tries on the current code (locked at ``MAX_TRIES``).
    failures: int = 0
    last_sent_at: datetime = Field(sa_type=UTCDateTime)


class PhoneCodeSend(SQLModel, table=True):
    """One code sent: counted per request and per number over the last 24 hours (no SMS pumping)."""

    __tablename__ = "phone_code_send"
    __table_args__ = (
        Index("ix_phone_code_send_phone_digest_sent_at", "phone_digest", "sent_at"),
        Index("ix_phone_code_send_request_seq_sent_at", "request_seq", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_seq: int = Field(foreign_key="appointment_request.seq")
    phone_digest: str = Field(max_length=64)
    sent_at: datetime = Field(sa_type=UTCDateTime)


class AccessCodeRecovery(SQLModel, table=True):
    """A lost-code recovery asked for an entry reference and a birth date, whether or not they match a
    request: its one-time code's window, wrong tries and daily count live here, so that a stranger's tries
    are answered exactly as a holder's are (the code itself is the request's ``phone_code``)."""

    __tablename__ = "access_code_recovery"

    #: ``HMAC(pepper, entry | birth date)`` (``app.domain.verification.recovery_digest``).
    lookup: str = Field(primary_key=True, max_length=64)
    last_started_at: datetime = Field(sa_type=UTCDateTime)
    #: When the current 24-hour count began, and how many recoveries it holds.
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    starts: int = 0
    expires_at: datetime = Field(sa_type=UTCDateTime)
    failures: int = 0


class RegistryIdentity(SQLModel, table=True):
    """An identity the office's permit registry export held at its last import: the keyed digest only
    (never the number), kept until ``kept_until`` so that a request filed after the import is verified at
    once under ``entry_verification: "registry"``."""

    __tablename__ = "registry_identity"
    __table_args__ = (Index("ix_registry_identity_kept_until", "kept_until"),)

    identity_key: str = Field(primary_key=True, max_length=64)
    office: str = Field(primary_key=True, max_length=32)
    kept_until: datetime = Field(sa_type=UTCDateTime)


class PersonRekey(SQLModel, table=True):
    """A request whose person key was derived before look-alike letters were folded: ``fairslot db
    rekey-persons`` (run by ``fairslot db upgrade``) derives it again and removes the mark
    (``app.services.intake.person_keys``)."""

    __tablename__ = "person_rekey"

    request_seq: int = Field(primary_key=True, foreign_key="appointment_request.seq")


class SmsGrant(SQLModel, table=True):
    """One text (not a code) let through to a number that has not verified a code: counted per number's
    digest over the last 24 hours (``app.services.messages.sms_budget``)."""

    __tablename__ = "sms_grant"
    __table_args__ = (Index("ix_sms_grant_phone_digest_granted_at", "phone_digest", "granted_at"),)

    message_id: int = Field(primary_key=True, foreign_key="outbox_message.id")
    phone_digest: str = Field(max_length=64)
    granted_at: datetime = Field(sa_type=UTCDateTime)


class AttestationLink(SQLModel, table=True):
    """The short ``/check`` link of an attestation: its digest opens the sealed attestation.

    Only a digest of the link's secret is stored, and the attestation is sealed with that secret
    (``app.domain.proofs.attestation``), so a purged request's names are not readable here without the link,
    while whoever holds the receipt can still check it.
    """

    __tablename__ = "attestation_link"

    lookup: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(foreign_key="appointment_request.id", max_length=36, index=True)
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Draw(SQLModel, table=True):
    """One release's draw (exactly one per release).

    ``header`` is the published record without its entries; the entries are the ``draw_entry`` rows, so a
    draw of a million entries is never one huge JSON value.
    """

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="release.id", unique=True)
    drawn_at: datetime = Field(sa_type=UTCDateTime)
    #: The office-local date of the release's ``draw_at``: the date its weights were computed for, and
    #: the unit of waiting (draws of one date, at however many offices, count as one day of waiting).
    day: date
    entry_count: int
    offered_count: int
    header: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    #: The news to its entrants not selected: the last rank told so far, and when all were.
    news_rank: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    news_done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DrawNews(SQLModel, table=True):
    """An entrant not selected was told on this draw day: one message per request and day, whatever the
    number of offices that drew that day."""

    __tablename__ = "draw_news"

    request_seq: int = Field(primary_key=True)
    day: date = Field(primary_key=True)


class DrawDocument(SQLModel, table=True):
    """A draw's published record, built once by the draw and stored gzip-compressed (served as is).

    ``digest`` is the SHA-256 of the JSON text (the ETag), ``size`` its length in bytes.
    """

    __tablename__ = "draw_document"

    draw_id: int = Field(foreign_key="draw.id", primary_key=True)
    digest: str = Field(max_length=64)
    size: int = Field(sa_type=BigInteger)
    gzip_body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class DrawEntry(SQLModel, table=True):
    """One request's part in one draw: the frozen weight and availability, its rank and outcome.

    A draw writes up to a million of these at once, so each row costs the server as little as it can: one
    B-tree, the primary key ``(request_seq, draw_id)`` (the applicant's history, the days a request waited);
    the record's order ``(draw_id, rank)`` is a BRIN index on PostgreSQL, since a draw writes its entries in
    rank order, one after another at the end of the table (a summary per few pages, nearly free to keep,
    where a second B-tree cost as much as the rows themselves); and no per-row foreign-key checks on the
    draw, the request or the slot (the draw, in its own transaction, is the table's only writer).
    """

    __tablename__ = "draw_entry"
    __table_args__ = (
        Index(
            "ix_draw_entry_draw_id_rank",
            "draw_id",
            "rank",
            postgresql_using="brin",
            postgresql_with={"pages_per_range": 16},
        ),
    )

    request_seq: int = Field(primary_key=True)
    draw_id: int = Field(primary_key=True)
    rank: int
    entry: str = Field(max_length=32)
    weight: str = Field(max_length=24)
    availability: dict[str, Any] | None = _json()
    outcome: str = Field(max_length=24)
    slot_id: int | None = None
    #: The claims this weight counted that were not confirmed at the draw (space-separated kinds), kept
    #: out of the published record: the desk must judge them if this entry wins.
    unconfirmed_claims: str | None = Field(default=None, max_length=64)


class Offer(SQLModel, table=True):
    """A slot offered to a request by a draw; while open or accepted it holds the slot.

    A draw writes ten thousand at once, and each foreign-key check costs the server more than the row:
    the request and the slot are checked; ``active_slot_id`` is the slot itself or nothing (a check
    constraint, so the slot's key covers it), and the draw, which writes its offers in its own
    transaction, is not checked again.
    """

    __table_args__ = (
        CheckConstraint("active_slot_id IS NULL OR active_slot_id = slot_id", name="active_slot_is_the_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="appointment_request.id", max_length=36, index=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    active_slot_id: int | None = Field(default=None, unique=True)
    draw_id: int = Field(index=True)
    status: str = Field(default="open", max_length=16, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    #: When the applicant gets an "about to expire" reminder (a quarter of the answer time left).
    remind_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Booking(SQLModel, table=True):
    """An accepted offer: an appointment bound to its holder's identity, never transferable."""

    # A second backstop behind ``offer.active_slot_id``: one live booking per slot.
    __table_args__ = (
        Index(
            "uq_booking_live_slot",
            "slot_id",
            unique=True,
            postgresql_where=text("status = 'booked'"),
            sqlite_where=text("status = 'booked'"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    offer_id: int = Field(foreign_key="offer.id", unique=True)
    request_id: str = Field(foreign_key="appointment_request.id", max_length=36, index=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    office_id: int = Field(foreign_key="office.id")
    identity_key: str = Field(max_length=64)
    #: ``cancelled_by_office`` is the longest status (19 characters).
    status: str = Field(default="booked", max_length=24, index=True)
    token: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    no_show_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The confirmation window (null when the service has no confirm rule, or for older bookings).
    confirm_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirm_by: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When each reminder was queued (each is sent once), or found not to apply (a same-day booking has
    #: no eve for "appointment tomorrow").
    window_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    eve_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoShow(SQLModel, table=True):
    """A missed appointment, keyed by identity, lowering that identity's weight for a while."""

    __tablename__ = "no_show"

    id: int | None = Field(default=None, primary_key=True)
    identity_key: str = Field(max_length=64, index=True)
    service_id: int = Field(foreign_key="service.id")
    booking_id: str = Field(foreign_key="booking.id", max_length=36, unique=True)
    missed_on: date


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to an ``Idempotency-Key``, replayed for the same key and body."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=64)
    key: str = Field(max_length=255)
    body_hash: str = Field(max_length=64)
    status_code: int
    content_type: str = Field(max_length=100)
    response_body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class TokenKey(SQLModel, table=True):
    """A booking-token signing key id; the key itself is derived from the server secret."""

    __tablename__ = "token_key"

    kid: str = Field(primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """Append-only log of every state change, hash-chained by the sealer shortly after commit.

    Rows are written in the transaction of the change with no hash; the sealer gives each committed row
    the next ``chain_seq`` and ``hash = sha256(prev_hash + content)``, one sealer at a time, so commits
    never wait on each other for the chain.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(max_length=48)
    subject: str = Field(max_length=64)
    actor: str = Field(max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: Who acted (``{account_id, display_name, key_id, via}``); NULL ``via`` on rows older than accounts,
    #: which name their actor by ``actor`` alone and hash as they always did.
    actor_account_id: int | None = Field(default=None, index=True)
    actor_key_id: int | None = Field(default=None)
    actor_name: str | None = Field(default=None, max_length=200)
    via: str | None = Field(default=None, max_length=16)
    #: The office the event is about, when it is about one (what an auditor of that office may read).
    office: str | None = Field(default=None, max_length=32, index=True)
    chain_seq: int | None = Field(default=None, unique=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class OutboxMessage(SQLModel, table=True):
    """A notification written with the change that causes it, sent once by the scheduler.

    One row per channel (``email`` or ``sms``). ``status`` is ``pending`` (shown as queued), ``sent``,
    ``delivered`` (an SMS delivery receipt said so) or ``failed``; a worker claims a row by pushing its
    ``next_attempt_at`` past the time an attempt can take, so nothing is held locked while it sends.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The request the message is about; NULL for a message to a member of staff (an invitation).
    request_id: str | None = Field(
        default=None, foreign_key="appointment_request.id", max_length=36, index=True
    )
    channel: str = Field(default="email", max_length=8)
    kind: str = Field(max_length=32)
    language: str = Field(max_length=8)
    recipient: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: How many segments an SMS took (known once the SMSC accepted it).
    parts: int | None = None
    #: When a delivery receipt settled the message (``delivered`` or ``failed``).
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxReceipt(SQLModel, table=True):
    """One SMS segment the SMSC accepted: its message id, to match the delivery receipt.

    A long text travels as several segments; a retry after a dropped link resubmits only the segments
    with no row here, and the message is ``delivered`` once every segment's receipt says so.
    """

    __tablename__ = "outbox_receipt"
    __table_args__ = (UniqueConstraint("message_id", "segment"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox_message.id")
    segment: int
    receipt_id: str = Field(max_length=65, unique=True)
    status: str = Field(default="accepted", max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Claim(SQLModel, table=True):
    """One declared factor of a request (``permit_expiry`` or ``vulnerability``) and its verdict."""

    __table_args__ = (UniqueConstraint("request_seq", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    request_seq: int = Field(foreign_key="appointment_request.seq")
    kind: str = Field(max_length=24)
    #: An ISO date (permit_expiry) or a list of kinds (vulnerability), as declared.
    declared: Any = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="declared", max_length=16, index=True)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=500)


class ClaimSanction(SQLModel, table=True):
    """What a verdict leaves on an identity or a person for a service.

    ``excluded`` (a claim refuted at the desk): no new request until ``until``, no draw either;
    ``vulnerability_strict`` (a vulnerability not evidenced): their vulnerability claims count only once
    confirmed before a draw, with no end. Keyed by digests, never by names.
    """

    __tablename__ = "claim_sanction"
    __table_args__ = (Index("ix_claim_sanction_service_id_digest", "service_id", "digest"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id")
    digest: str = Field(max_length=64)
    effect: str = Field(max_length=24)
    until: date | None = None
    booking_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DrawStatistics(SQLModel, table=True):
    """A draw's aggregates for the public statistics, written once by the scheduler after the draw.

    Reading statistics then never scans ``draw_entry`` (a million rows a draw): one row per draw, found
    by office, service and month.
    """

    __tablename__ = "draw_statistics"
    __table_args__ = (Index("ix_draw_statistics_office_service_month", "office_id", "service_id", "month"),)

    draw_id: int = Field(primary_key=True, foreign_key="draw.id")
    office_id: int = Field(foreign_key="office.id")
    service_id: int = Field(foreign_key="service.id")
    #: ``YYYY-MM`` of the draw in the office's time zone.
    month: str = Field(max_length=7)
    drawn_at: datetime = Field(sa_type=UTCDateTime)
    entries: int
    offered: int
    #: ``{band: {"entries": n, "offered": m}}`` by the urgency band of the declared permit expiry.
    by_band: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: For each entry offered a slot: how many earlier draws its request had entered.
    draws_before_offer: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ReleaseForecast(SQLModel, table=True):
    """The estimated chance of an offer in a scheduled release, per entry weight, recomputed periodically."""

    __tablename__ = "release_forecast"

    release_id: int = Field(primary_key=True, foreign_key="release.id")
    computed_at: datetime = Field(sa_type=UTCDateTime)
    entries: int
    slots: int
    #: ``{weight: chance}``: the share of simulated races in which an entry of that weight won a slot.
    chances: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OpeningSchedule(SQLModel, table=True):
    """The weekly opening lines of one service at one office (``app.domain.planning.schedules``)."""

    __tablename__ = "opening_schedule"
    __table_args__ = (UniqueConstraint("office_id", "service_id"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id")
    service_id: int = Field(foreign_key="service.id")
    #: ``[{"weekday": 1, "opens": "09:00", "closes": "12:00", "desks": 3}, …]``
    weekly: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(default="", max_length=64)


class OfficeClosure(SQLModel, table=True):
    """Days an office is closed (``desks`` NULL) or runs each service at ``desks`` desks at most."""

    __tablename__ = "office_closure"

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    starts_on: date
    ends_on: date
    reason: str = Field(max_length=200)
    desks: int | None = None
    #: Bookings the closure cancelled (``cancel_bookings``) and open offers it withdrew.
    cancelled_bookings: int = 0
    withdrawn_offers: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=64)


class ReleaseRule(SQLModel, table=True):
    """A recurring release: every ``publish_weekday`` at ``publish_time`` (office-local) the scheduler
    publishes the week ``weeks_ahead`` ahead from the schedule (``app.domain.planning.rules``)."""

    __tablename__ = "release_rule"

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    publish_weekday: int
    publish_time: str = Field(max_length=5)
    weeks_ahead: int
    draw_after_hours: int
    offer_ttl_hours: int | None = None
    #: The next publication (UTC); a worker takes a due rule with ``SKIP LOCKED`` and moves this on.
    next_run_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: ``published`` or why not (``nothing_to_publish``, ``week_published``, ``too_late``).
    last_outcome: str | None = Field(default=None, max_length=24)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=64)
    #: Set by DELETE: future publications stop; the rule stays for the record.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CapacityAdvice(SQLModel, table=True):
    """The latest capacity advice for an office, a service and a target wait, computed daily."""

    __tablename__ = "capacity_advice"
    __table_args__ = (UniqueConstraint("office_id", "service_id", "target_wait_days"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id")
    service_id: int = Field(foreign_key="service.id")
    target_wait_days: int
    computed_at: datetime = Field(sa_type=UTCDateTime)
    #: When it is computed again; a worker pushes it forward while it computes (a lease).
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
