"""Hypothesis strategies shared by the tests, and the ``ci`` / ``dev`` profiles (HYPOTHESIS_PROFILE).

Draw inputs are generated around real clock changes so that local dates, weekdays and the hour repeated
when clocks go back are exercised, not just tidy office hours.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from app.db.models import DrawStatistics
from app.domain.draws.lottery import Availability, DrawEntry, DrawSlot
from app.domain.weights import FOUR_PLACES

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Every weight the default policy can give: expiry x vulnerability x waiting x no-show, 0.5 up to 18.
REALISTIC_WEIGHTS = sorted(
    {
        (Decimal(e) * v * (1 + Decimal("0.25") * lost) * n).quantize(FOUR_PLACES)
        for e, v, lost, n in itertools.product(
            (1, 2, 3, 4), (Decimal(1), Decimal("1.5")), range(9), (Decimal(1), Decimal("0.5"))
        )
    }
)

# Offices and the days their clocks change; America/Santiago changes at midnight, so a date is skipped
# or repeated there, which is where "local date" gets interesting.
CLOCK_CHANGES = {
    "Europe/Paris": (date(2025, 3, 30), date(2025, 10, 26)),
    "America/Santiago": (date(2025, 4, 6), date(2025, 9, 7)),
    "UTC": (date(2025, 1, 1),),
}
# Zones far from the office's, used to write some slots in another offset (local dates then jump about).
FAR_ZONES = (ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago"))

weights = st.sampled_from(REALISTIC_WEIGHTS)
seeds = st.binary(min_size=32, max_size=32)
beacons = st.one_of(st.just(""), st.text(max_size=24))
entry_refs = st.one_of(
    st.from_regex(r"FS-[0-9A-HJ-NP-Z]{6}", fullmatch=True),
    st.text(min_size=1, max_size=8),
)


@dataclass(frozen=True)
class DrawInput:
    """Everything a draw takes."""

    seed: bytes
    beacon: str
    entries: list[DrawEntry]
    slots: list[DrawSlot]


@st.composite
def office_days(draw: st.DrawFn) -> tuple[ZoneInfo, date]:
    """An office time zone and a day of one of its clock changes."""
    zone = draw(st.sampled_from(sorted(CLOCK_CHANGES)))
    return ZoneInfo(zone), draw(st.sampled_from(CLOCK_CHANGES[zone]))


@st.composite
def slot_lists(
    draw: st.DrawFn,
    zone: ZoneInfo,
    around: date,
    *,
    min_size: int = 0,
    max_size: int = 12,
    mixed_offsets: bool = False,
) -> list[DrawSlot]:
    """Slots within four days of ``around``, office-local, sometimes several desks at one time."""
    count = draw(st.integers(min_size, max_size))
    # Ids in an order unrelated to time, so ties on starts_at really are broken by id.
    ids = draw(st.permutations([f"S-{n:02d}" for n in range(count)]))
    slots = []
    for slot_id in ids:
        day = around + timedelta(days=draw(st.integers(-4, 4)))
        # Hours 0-3 cover the night of a clock change; fold picks either side of the repeated hour.
        hour = draw(st.sampled_from((0, 1, 2, 3, 9, 14, 23)))
        clock = time(hour, draw(st.sampled_from((0, 30))), fold=draw(st.integers(0, 1)))
        starts_at = datetime.combine(day, clock, zone)
        if mixed_offsets and draw(st.booleans()):
            starts_at = starts_at.astimezone(draw(st.sampled_from(FAR_ZONES)))
        slots.append(DrawSlot(slot_id, starts_at))
    return slots


@st.composite
def availabilities(draw: st.DrawFn, around: date) -> Availability:
    """Any day, or a window near ``around`` (possibly empty or inverted), and/or some weekdays."""
    kind = draw(st.sampled_from(("any", "any", "window", "weekdays", "both")))
    if kind == "any":
        return Availability()
    earliest = latest = None
    weekdays = None
    if kind in ("window", "both"):
        earliest = draw(st.none() | st.integers(-6, 6).map(lambda d: around + timedelta(days=d)))
        latest = draw(st.none() | st.integers(-6, 6).map(lambda d: around + timedelta(days=d)))
    if kind in ("weekdays", "both"):
        weekdays = draw(st.frozensets(st.integers(1, 7), min_size=1))
    return Availability(earliest, latest, weekdays)


@st.composite
def entry_lists(
    draw: st.DrawFn, around: date, *, min_size: int = 0, max_size: int = 20, restricted: bool = True
) -> list[DrawEntry]:
    """Entries with unique references, realistic weights and (when ``restricted``) availabilities."""
    refs = draw(st.lists(entry_refs, min_size=min_size, max_size=max_size, unique=True))
    any_day = st.just(Availability())
    return [
        DrawEntry(ref, draw(weights), draw(availabilities(around) if restricted else any_day)) for ref in refs
    ]


@st.composite
def draw_inputs(
    draw: st.DrawFn,
    *,
    max_entries: int = 20,
    max_slots: int = 12,
    restricted: bool = True,
    mixed_offsets: bool | None = None,
) -> DrawInput:
    """A whole draw: seed, beacon, entries and slots around one office's clock change."""
    zone, around = draw(office_days())
    mixed = draw(st.booleans()) if mixed_offsets is None else mixed_offsets
    slots = draw(slot_lists(zone, around, max_size=max_slots, mixed_offsets=mixed))
    entries = draw(entry_lists(around, max_size=max_entries, restricted=restricted))
    return DrawInput(draw(seeds), draw(beacons), entries, slots)


@st.composite
def draw_times(draw: st.DrawFn) -> datetime:
    """Aware draw times around the clock changes above, in the office's zone or a far one."""
    zone_name = draw(st.sampled_from(sorted(CLOCK_CHANGES)))
    zone = ZoneInfo(zone_name)
    day = draw(st.sampled_from(CLOCK_CHANGES[zone_name]))
    moment = datetime.combine(day, time(0), zone) + timedelta(
        microseconds=draw(st.integers(min_value=-86_400_000_000, max_value=2 * 86_400_000_000))
    )
    moment = moment.replace(fold=draw(st.integers(0, 1)))
    return moment.astimezone(draw(st.sampled_from((zone, *FAR_ZONES))))


#: Language tags a browser may send: ours in any case and region, others, and junk.
_LANGUAGE_TAGS = st.one_of(
    st.sampled_from(["fr", "en", "ar", "es", "pt", "uk", "de", "it", "ru", "zh", "*", "x-klingon"]),
    st.from_regex(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})?", fullmatch=True),
    st.text(max_size=12),
)


@st.composite
def accept_language_headers(draw: st.DrawFn) -> str:
    """An Accept-Language header: tags with optional, sometimes malformed, quality values."""
    parts = []
    for tag in draw(st.lists(_LANGUAGE_TAGS, max_size=8)):
        quality = draw(st.one_of(st.none(), st.floats(0, 1).map(lambda q: f"{q:.2f}"), st.text(max_size=4)))
        parts.append(tag if quality is None else f"{tag};q={quality}")
    return draw(st.sampled_from([", ", ","])).join(parts)


# --- claims ---------------------------------------------------------------------------------------------

CLAIM_STATUSES = ("declared", "confirmed", "not_evidenced", "refuted")
VULNERABILITY_KINDS = (
    "disability",
    "serious_illness",
    "pregnancy",
    "elderly",
    "minor_children",
    "domestic_violence",
    "other",
)
_multipliers = st.decimals(min_value=Decimal("0.1"), max_value=Decimal(100), places=4)


@st.composite
def weight_policies(draw: st.DrawFn, verify_claims: str | None = None) -> dict:
    """Service weight-policy overrides as the API accepts them (multipliers may be below 1)."""
    days = draw(st.lists(st.integers(0, 365), min_size=1, max_size=4, unique=True))
    return {
        "expiry_bands": [{"within_days": d, "multiplier": str(draw(_multipliers))} for d in days],
        "vulnerability": str(draw(_multipliers)),
        "verify_claims": verify_claims or draw(st.sampled_from(["at_desk", "before_draw"])),
    }


@dataclass(frozen=True)
class WeightCase:
    """Everything a weight depends on, claims included."""

    policy: dict
    on: date
    permit_expires_on: date | None
    vulnerabilities: tuple[str, ...]
    draws_lost: int
    last_no_show_on: date | None
    statuses: dict
    strict: bool


@st.composite
def weight_cases(draw: st.DrawFn, verify_claims: str | None = None) -> WeightCase:
    """A request's weight inputs on some day, with any claim statuses."""
    on = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)))
    expires = draw(st.none() | st.integers(-60, 400).map(lambda d: on + timedelta(days=d)))
    kinds = tuple(draw(st.lists(st.sampled_from(VULNERABILITY_KINDS), max_size=3, unique=True)))
    statuses = {}
    if expires is not None:
        statuses["permit_expiry"] = draw(st.sampled_from(("declared", "confirmed", "refuted")))
    if kinds:
        statuses["vulnerability"] = draw(st.sampled_from(CLAIM_STATUSES))
    return WeightCase(
        policy=draw(weight_policies(verify_claims)),
        on=on,
        permit_expires_on=expires,
        vulnerabilities=kinds,
        draws_lost=draw(st.integers(0, 12)),
        last_no_show_on=draw(st.none() | st.integers(1, 400).map(lambda d: on - timedelta(days=d))),
        statuses=statuses,
        strict=draw(st.booleans()),
    )


#: Texts an SMS may carry: the GSM alphabet with its escaped characters, accents, Arabic, Cyrillic, emoji.
_SMS_ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,:;!?'()-/@",
    "€[]{}|^~\\",  # GSM-7 extension table: two septets each
    "éèàùÉÇÄÖÑÜäöñüß",
    "مرحبا بكم في القرعة",
    "Привіт запис",
    "ça ê ô",
    "😀👍",
]
sms_texts = st.lists(
    st.sampled_from(_SMS_ALPHABETS).flatmap(lambda a: st.text(a, min_size=1, max_size=40)), max_size=12
).map("".join)


@st.composite
def typed_access_codes(draw: st.DrawFn, code: str) -> str:
    """``code`` as a person might type it: any case, dashes dropped or replaced by spaces, look-alikes."""
    look_alike = {"0": "oO", "1": "iIlL"}
    typed = []
    for ch in code:
        if ch == "-":
            typed.append(draw(st.sampled_from(["-", "", " ", " - "])))
        elif ch in look_alike and draw(st.booleans()):
            typed.append(draw(st.sampled_from(look_alike[ch])))
        else:
            typed.append(ch.lower() if draw(st.booleans()) else ch)
    return "".join(typed)


#: Names as written on documents the world over (letters and marks of any script, spaces, hyphens).
document_names = st.text(
    alphabet=st.characters(categories=["L", "M"], include_characters=" -'"), min_size=1, max_size=60
).filter(lambda s: s.strip() != "")


@st.composite
def record_rows(draw: st.DrawFn) -> tuple[str, str, dict[str, object], int, str, str | None]:
    """One draw record entry as the draw holds it: any text where the record has text (quotes, accents,
    controls), an availability, a rank, an outcome and a slot."""
    text = st.text(max_size=12)
    availability = {
        "earliest": draw(st.none() | st.dates().map(date.isoformat)),
        "latest": draw(st.none() | st.dates().map(date.isoformat)),
        "weekdays": draw(
            st.none() | st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True).map(sorted)
        ),
    }
    return (
        draw(text),
        draw(text),
        availability,
        draw(st.integers(1, 10**7)),
        draw(st.sampled_from(["offered", "not_selected", "no_compatible_slot"]) | text),
        draw(st.none() | text),
    )


_BOOKING_STATUSES = ("attended", "no_show", "forfeited", "released")
_small = st.integers(0, 9)


@dataclass
class StatsCase:
    """The rows one statistics item is built from (``app.services.evidence.stats._item``)."""

    policy: str
    draws: list[DrawStatistics]
    requests: dict[str, int]
    bookings: dict[str, int]


@st.composite
def stats_cases(draw: st.DrawFn) -> StatsCase:
    """Draw summaries, request and booking counts of one office and service, as the database holds them."""
    policy = draw(st.sampled_from(["phone", "none"]))
    draws = []
    for index, month in enumerate(
        draw(st.lists(st.sampled_from(["2026-10", "2026-11", "2026-12"]), max_size=4))
    ):
        by_band = {}
        for band in ("within_30_days", "within_60_days", "within_90_days", "later", "no_expiry"):
            entries = draw(_small)
            by_band[band] = {"entries": entries, "offered": draw(st.integers(0, entries))}
        draws.append(
            DrawStatistics(
                draw_id=index + 1,
                office_id=1,
                service_id=1,
                month=month,
                drawn_at=datetime(2026, 12, 1, tzinfo=UTC),
                entries=sum(b["entries"] for b in by_band.values()),
                offered=sum(b["offered"] for b in by_band.values()),
                by_band=by_band,
                draws_before_offer=[],
            )
        )
    online_verified = {
        m: draw(_small) if policy == "phone" or m == "none" else 0 for m in ("phone", "registry", "none")
    }
    unverified = draw(_small) if policy == "phone" else 0
    counter, partner = draw(_small), draw(_small)
    requests = {
        "pending": sum(online_verified.values()) + unverified + counter + partner,
        "channel:online": sum(online_verified.values()) + unverified,
        "channel:counter": counter,
        "channel:partner": partner,
        "verified": sum(online_verified.values()) + counter + partner,
        **{f"method:{m}": n for m, n in online_verified.items()},
        "method:counter": counter,
        "method:partner": partner,
        "lapsed": draw(_small),
        **{f"claims:{s}": draw(_small) for s in ("declared", "confirmed", "not_evidenced", "refuted")},
    }
    bookings = {status: draw(_small) for status in (*_BOOKING_STATUSES, "booked", "cancelled")}
    bookings["accepted"] = sum(bookings.values())
    return StatsCase(policy, draws, requests, bookings)
