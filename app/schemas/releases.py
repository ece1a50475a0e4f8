"""Releases of slots and their draws."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas.common import Code, IsoDateTime, Output, StrictInput

MAX_SLOTS_PER_RELEASE = 5000


class SlotIn(StrictInput):
    """Slots starting at ``starts_at``, one per desk."""

    starts_at: IsoDateTime
    desks: int = Field(default=1, ge=1, le=100)


class ReleaseCreate(StrictInput):
    """A release: slots of one office and service, drawn at ``draw_at``."""

    office: Code
    service: Code
    draw_at: IsoDateTime
    slots: list[SlotIn] = Field(min_length=1, max_length=MAX_SLOTS_PER_RELEASE)
    offer_ttl_hours: int | None = Field(default=None, ge=1, le=336)


class BeaconSource(Output):
    """The public randomness round a release fixed when it was published (``fairslot-draw-v2``)."""

    scheme: str = Field(examples=["drand"])
    chain_hash: str
    round: int


class BeaconFields(Output):
    """What a release's beacon is and what it proves, shown from the start."""

    beacon_source: BeaconSource | None = None
    #: ``public`` (a public chain), ``local`` (this service's own chain) or ``none`` (v1).
    beacon_trust: str = "none"
    beacon_note: str = ""
    #: ``none`` (v1), ``fixed`` (before draw_at), ``waiting`` (for the public round), ``ready``, ``used``.
    beacon_status: str = "none"
    #: When the round is published (null for v1).
    beacon_round_at: datetime | None = None


class ReleaseCreated(BeaconFields):
    """The new release; its seed stays secret until the draw."""

    id: int
    status: str
    seed_commitment: str
    slot_count: int
    draw_at: datetime


class ReleasePublic(BeaconFields):
    """A release as anyone may see it: the seed appears only after the draw."""

    id: int
    office: str
    service: str
    kind: str
    status: str
    draw_at: datetime
    offer_ttl_hours: int
    slot_count: int
    seed_commitment: str
    seed: str | None
    draw_id: int | None
    drawn_at: datetime | None
    week: str | None = Field(default=None, description="the ISO week it publishes from the schedule, if any")
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None


class DrawRequest(StrictInput):
    """An optional beacon mixed into a v1 draw; refused for a release with a public round (v2)."""

    beacon: str = Field(default="", max_length=512)


class DrawSummary(Output):
    """What a draw did."""

    draw_id: int
    entries: int
    offered: int
