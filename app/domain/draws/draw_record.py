"""The published record of a draw (spec ``fairslot-draw-v1``) and its verification from the record alone.

A record holds the seed, its commitment, the beacon, every slot and every entry with its weight,
availability, rank, outcome and slot. ``verify_record`` recomputes the draw from those fields and lists every
difference; it never trusts a recorded rank or outcome, and never raises on a malformed record.

What a record cannot prove alone is its completeness: an entry is never affected by those ranked below it,
so dropping not-selected entries from the bottom leaves a record that still verifies. Each applicant checks
that their own entry is listed.

A ``fairslot-draw-v2`` record is a v1 record whose beacon is a public randomness round: it adds
``beacon_source`` (fixed when the release was published) and ``beacon_proof`` (the round's signature and
its chain's key), and verifying it also checks the proof (``app.domain.draws.beacon.check_proof``) and says which
trust applies: a public chain, a local chain, or none (v1).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any, overload

import numpy

from app.domain.draws import beacon as beacons
from app.domain.draws.lottery import (
    ANY_DAY,
    NOT_SELECTED,
    OFFERED,
    OUTCOMES,
    SPEC,
    Availability,
    DrawEntry,
    DrawSlot,
    EntryResult,
    commitment,
    slot_order,
)
from app.domain.draws.lottery_fast import rank_and_fill
from app.domain.weights import FOUR_PLACES

RECORD_FIELDS = (
    "spec",
    "release_id",
    "office",
    "service",
    "draw_at",
    "drawn_at",
    "seed",
    "seed_commitment",
    "beacon",
    "slots",
    "entries",
)
SPEC_V2 = "fairslot-draw-v2"
RECORD_FIELDS_V2 = (*RECORD_FIELDS[:-1], "beacon_source", "beacon_proof", "entries")
SLOT_FIELDS = ("slot", "starts_at")
ENTRY_FIELDS = ("entry", "weight", "availability", "rank", "outcome", "slot")

_HEX_64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
# RFC 3339 date-time; datetime.fromisoformat alone would also take dates, week dates and missing offsets.
_RFC_3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_ANY_DAY_FIELDS = ANY_DAY.as_dict()
_ENTRY_FIELD_SET = frozenset(ENTRY_FIELDS)
_NOT_PARSED: Any = object()


def build_record(
    *,
    release_id: int | str,
    office: str,
    service: str,
    draw_at: datetime,
    drawn_at: datetime,
    seed: bytes,
    beacon: str,
    slots: Sequence[DrawSlot],
    entries: Sequence[DrawEntry],
    results: Sequence[EntryResult],
) -> dict[str, Any]:
    """The JSON-ready record of a draw: entries in rank order, slots in ``(starts_at, slot)`` order."""
    by_entry = {e.entry: e for e in entries}
    if len(by_entry) != len(entries) or len(results) != len(entries):
        raise ValueError("entries must be unique and have one result each")
    if any(r.entry not in by_entry for r in results):
        raise ValueError("every result must belong to one of the entries")
    rows = []
    for result in sorted(results, key=attrgetter("rank")):
        entry = by_entry[result.entry]
        rows.append(
            entry_row(
                entry=result.entry,
                weight=_weight_text(entry.weight),
                availability=entry.availability.as_dict(),
                rank=result.rank,
                outcome=result.outcome,
                slot=result.slot,
            )
        )
    header = record_header(
        release_id=release_id,
        office=office,
        service=service,
        draw_at=draw_at,
        drawn_at=drawn_at,
        seed=seed,
        beacon=beacon,
        slots=slots,
    )
    return {**header, "entries": rows}


def record_header(
    *,
    release_id: int | str,
    office: str,
    service: str,
    draw_at: datetime,
    drawn_at: datetime,
    seed: bytes,
    beacon: str,
    slots: Sequence[DrawSlot],
) -> dict[str, Any]:
    """Everything of a record but its entries (production stores it once and streams the entries after)."""
    return {
        "spec": SPEC,
        "release_id": release_id,
        "office": office,
        "service": service,
        "draw_at": _timestamp(draw_at, "draw_at"),
        "drawn_at": _timestamp(drawn_at, "drawn_at"),
        "seed": seed.hex(),
        "seed_commitment": commitment(seed),
        "beacon": beacon,
        "slots": [
            {"slot": s.slot, "starts_at": _timestamp(s.starts_at, s.slot)}
            for s in sorted(slots, key=slot_order)
        ],
    }


def entry_row(
    *, entry: str, weight: str, availability: Mapping[str, Any], rank: int, outcome: str, slot: str | None
) -> dict[str, Any]:
    """One entry of a record, in the record's field order (``weight`` already written with 4 places)."""
    return {
        "entry": entry,
        "weight": weight,
        "availability": availability,
        "rank": rank,
        "outcome": outcome,
        "slot": slot,
    }


def weight_text(weight: Decimal) -> str:
    """A weight as a record writes it (4 places; refused when that would round it)."""
    return _weight_text(weight)


def _weight_text(weight: Decimal) -> str:
    # The record must let anyone recompute the exact float the draw used: a weight with more than four
    # places would be rounded on the way out and could change the ranking, so it is refused here.
    try:
        rounded = Decimal(weight).quantize(FOUR_PLACES)
    except InvalidOperation as exc:
        raise ValueError(f"weight {weight} cannot be written with 4 decimals") from exc
    if rounded != weight or rounded <= 0:
        raise ValueError(f"weight {weight} must be positive with at most 4 decimals")
    return format(rounded, "f")


def _timestamp(moment: datetime, name: str) -> str:
    if moment.utcoffset() is None:
        raise ValueError(f"{name}: a time in a record must carry its UTC offset")
    return moment.isoformat()


#: Outcomes as stored in an :class:`EntriesRead` (one byte per entry).
_OUTCOME_CODES = {outcome: code for code, outcome in enumerate(sorted(OUTCOMES))}
_OUTCOME_NAMES = sorted(OUTCOMES)


class Names(Sequence[str]):
    """Entry references packed in one buffer: a million of them in some 25 MB, where a list of a million
    strings takes over 80 and, built among the decoded items, leaves the heap too fragmented to shrink."""

    __slots__ = ("_ends", "_hashes", "_text", "unencodable")

    def __init__(self) -> None:
        self._text = bytearray()
        self._ends = array("Q", [0])
        self._hashes = array("q")
        #: The first reference UTF-8 cannot encode (a lone surrogate), as encoding it raised.
        self.unencodable: UnicodeEncodeError | None = None

    def appender(self) -> Callable[[str], None]:
        """A function that adds a reference at the end (one call per entry: kept lean)."""
        text, ends, hashes = self._text, self._ends.append, self._hashes.append

        def append(name: str) -> None:
            nonlocal text
            try:
                text += name.encode()
            except UnicodeEncodeError as exc:
                self.unencodable = self.unencodable or exc
                text += name.encode(errors="surrogatepass")
            ends(len(text))
            hashes(hash(name))

        return append

    def append(self, name: str) -> None:
        """Add a reference at the end."""
        self.appender()(name)

    def __len__(self) -> int:
        return len(self._ends) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._text[self._ends[index] : self._ends[index + 1]].decode(errors="surrogatepass")

    def encoded(self) -> Iterator[memoryview]:
        """Each reference's UTF-8 bytes, in order, without making a string of it."""
        view, ends = memoryview(self._text), self._ends
        start = 0
        for end in ends[1:]:
            yield view[start:end]
            start = end

    def repeated(self) -> dict[str, int]:
        """The references listed more than once, with their counts, in order of first listing."""
        hashes = numpy.frombuffer(self._hashes, dtype=numpy.int64) if self._hashes else numpy.empty(0)
        order = numpy.argsort(hashes, kind="stable")
        same = numpy.flatnonzero(hashes[order][1:] == hashes[order][:-1])
        if not len(same):
            return {}
        candidates = sorted({int(order[i]) for i in same} | {int(order[i + 1]) for i in same})
        counts: dict[str, int] = {}
        for index in candidates:  # equal hashes first, then equal references (in order of first listing)
            name = self[index]
            counts[name] = counts.get(name, 0) + 1
        return {name: count for name, count in counts.items() if count > 1}


@dataclass(slots=True)
class EntriesRead:
    """A record's ``entries`` array read item by item and kept column by column: a million entries fit in
    a fraction of the memory a million dicts take (``fairslot verify-draw`` streams a record through this).

    Row ``i`` is the ``i``-th item whose entry reference is a string; when ``ok``, every item was well
    formed and each row holds its weight and availability (as indices into the distinct ones) and what the
    record claims came out: rank, outcome (a code) and, for offers, the slot.
    """

    names: Names = field(default_factory=Names)
    weight_of: array[int] = field(default_factory=lambda: array("I"))
    availability_of: array[int] = field(default_factory=lambda: array("I"))
    ranks: array[int] = field(default_factory=lambda: array("q"))
    outcomes: array[int] = field(default_factory=lambda: array("B"))
    slots: dict[int, str] = field(default_factory=dict)
    weights: list[Decimal] = field(default_factory=list)
    availabilities: list[Availability] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    ok: bool = True
    #: Items in the array, and how many of them claim an offer (for the verdict line).
    count: int = 0
    offered: int = 0


@dataclass(frozen=True)
class NotAList:
    """A record's ``entries`` field holding something other than an array."""

    value: Any


#: A record without an ``entries`` field.
ABSENT: Any = object()


@dataclass(frozen=True)
class RecordCheck:
    """What verifying a record found: the differences, and the entries and offers it lists."""

    differences: list[str]
    entries: int
    offered: int


@dataclass(slots=True)
class _Parsed:
    """The inputs of a draw read back from its record, and what the record claims came out."""

    seed: bytes
    beacon: str
    slots: list[DrawSlot]
    entries: EntriesRead


def verify_record(record: Mapping[str, Any], trusted: Mapping[str, beacons.Chain] | None = None) -> list[str]:
    """Recompute a draw from its record: the differences found, or an empty list when it checks out.

    A v2 record's beacon proof is checked too, against ``trusted`` chains (the League of Entropy's by
    default); a chain outside them is checked as a local chain (see ``record_trust``).
    """
    return check_record(*split_record(record), trusted).differences


def split_record(record: Any) -> tuple[Any, EntriesRead | NotAList | Any]:
    """A loaded record as :func:`check_record` takes it: its fields but ``entries``, and its entries read."""
    if not isinstance(record, Mapping):
        return record, ABSENT
    header = {name: value for name, value in record.items() if name != "entries"}
    if "entries" not in record:
        return header, ABSENT
    if isinstance(record["entries"], list):
        return header, read_entries(record["entries"])
    return header, NotAList(record["entries"])


def check_record(
    header: Mapping[str, Any],
    entries: EntriesRead | NotAList | Any,
    trusted: Mapping[str, beacons.Chain] | None = None,
) -> RecordCheck:
    """:func:`verify_record` for a record given as its fields but ``entries`` (``header``) and its entries
    already read (:func:`read_entries`, or :class:`NotAList`, or :data:`ABSENT`): the same differences, in
    the same order, however the record was read."""
    if not isinstance(header, Mapping):
        return RecordCheck([f"record is not a JSON object: {_show(header)}"], 0, 0)
    differences: list[str] = []
    read = entries if isinstance(entries, EntriesRead) else None
    try:
        parsed = _parse_record(header, entries, differences)
        if parsed is not None:
            _compare(parsed, differences)
        if header.get("spec") == SPEC_V2:
            differences.extend(_check_beacon(header, trusted)[1])
    except Exception as exc:  # a last guard: the parser reports bad input itself, callers get a list
        differences.append(f"record could not be checked: {type(exc).__name__}: {exc}")
    return RecordCheck(differences, read.count if read else 0, read.offered if read else 0)


def record_trust(record: Mapping[str, Any], trusted: Mapping[str, beacons.Chain] | None = None) -> str:
    """What a record's beacon proves: ``public`` (a trusted public chain), ``local`` (a chain the verifier
    does not trust, e.g. a service's own key: no guarantee against its host) or ``none`` (v1, or no valid
    proof: no guarantee against whoever held the seed)."""
    if not isinstance(record, Mapping) or record.get("spec") != SPEC_V2:
        return beacons.TRUST_NONE
    try:
        trust, differences = _check_beacon(record, trusted)
    except Exception:
        return beacons.TRUST_NONE
    return beacons.TRUST_NONE if differences else trust


def check_beacon(
    record: Mapping[str, Any], trusted: Mapping[str, beacons.Chain] | None = None
) -> tuple[str, list[str]]:
    """A record's beacon alone (its header suffices): the trust it earns and the differences found."""
    if not isinstance(record, Mapping) or record.get("spec") != SPEC_V2:
        return beacons.TRUST_NONE, []
    try:
        trust, differences = _check_beacon(record, trusted)
    except Exception as exc:  # never raise on a malformed record
        return beacons.TRUST_NONE, [f"beacon could not be checked: {type(exc).__name__}: {exc}"]
    return (beacons.TRUST_NONE if differences else trust), differences


def _check_beacon(
    record: Mapping[str, Any], trusted: Mapping[str, beacons.Chain] | None
) -> tuple[str, list[str]]:
    draw_at = _parse_time(record.get("draw_at"))
    if draw_at is None:
        return beacons.TRUST_NONE, []  # already reported by the parser
    return beacons.check_proof(
        source=record.get("beacon_source"),
        beacon_proof=record.get("beacon_proof"),
        beacon=record.get("beacon"),
        draw_at=draw_at,
        trusted=beacons.LEAGUE_OF_ENTROPY if trusted is None else trusted,
    )


def verdict_line(
    record: Mapping[str, Any], differences: Sequence[str], *, counts: tuple[int, int] | None = None
) -> str:
    """One line for a person: OK with the figures, or FAILED with the number of differences.

    ``counts`` (entries, offered) stand in for the record's ``entries`` when it was read as a stream."""
    fields = record if isinstance(record, Mapping) else {}
    spec = fields.get("spec") if isinstance(fields.get("spec"), str) else SPEC
    release = fields.get("release_id", "?")
    if differences:
        count = len(differences)
        return f"FAILED {spec} release {release}: {count} difference{'' if count == 1 else 's'}"
    if counts is None:
        entries = fields.get("entries")
        entries = entries if isinstance(entries, list) else []
        offered = sum(1 for e in entries if isinstance(e, Mapping) and e.get("outcome") == OFFERED)
        counts = (len(entries), offered)
    return f"OK {spec} release {release}: {counts[0]} entries, {counts[1]} offered, seed matches commitment"


def _show(value: Any) -> str:
    """A recorded value as it reads in a message, cut short."""
    text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse_record(record: Mapping[str, Any], entries: Any, differences: list[str]) -> _Parsed | None:
    """Read a record's inputs and claims, adding a difference for each malformed field (``record`` holds
    every field but ``entries``, given apart)."""
    start = len(differences)
    spec = record.get("spec")
    fields = RECORD_FIELDS_V2 if spec == SPEC_V2 else RECORD_FIELDS
    present = set(record) | ({"entries"} if entries is not ABSENT else set())
    differences.extend(f"missing field {name!r}" for name in fields if name not in present)
    differences.extend(f"unexpected field {_show(name)}" for name in record if name not in fields)
    if "spec" in record and spec not in (SPEC, SPEC_V2):
        # Another spec means another computation: comparing it with this one would only list noise.
        differences.append(f"spec {_show(spec)} recorded, {SPEC!r} expected")
        return None

    release = record.get("release_id")
    if "release_id" in record and (isinstance(release, bool) or not isinstance(release, int | str)):
        differences.append(f"release_id {_show(release)} is neither an integer nor a string")
    for name in ("office", "service", "beacon"):
        if name in record and not isinstance(record[name], str):
            differences.append(f"{name} {_show(record[name])} is not a string")
    for name in ("draw_at", "drawn_at"):
        if name in record and _parse_time(record[name]) is None:
            differences.append(f"{name} {_show(record[name])} is not an RFC 3339 time with offset")

    seed = _parse_hex(record, "seed", differences)
    promised = _parse_hex(record, "seed_commitment", differences)
    slots = _parse_slots(record["slots"], differences) if "slots" in record else None
    read: EntriesRead | None = None
    if isinstance(entries, NotAList):
        differences.append(f"entries {_show(entries.value)} is not a list")
    elif isinstance(entries, EntriesRead):
        differences.extend(entries.differences)
        read = entries if entries.ok else None
    malformed = len(differences) > start
    # A seed that does not match its commitment is a finding, not a parse failure: the draw is still
    # recomputed, so that the reader also learns whether the results follow from the published seed.
    if seed is not None and promised is not None and commitment(seed) != promised.hex():
        differences.append(
            f"seed does not match seed_commitment: sha256(seed) is {commitment(seed)}, "
            f"recorded {promised.hex()}"
        )
    if malformed or seed is None or slots is None or read is None:
        return None
    return _Parsed(seed, record["beacon"], slots, read)


def _parse_hex(record: Mapping[str, Any], name: str, differences: list[str]) -> bytes | None:
    if name not in record:
        return None
    value = record[name]
    if not isinstance(value, str) or not _HEX_64.fullmatch(value):
        differences.append(f"{name} {_show(value)} is not 64 lowercase hex characters")
        return None
    return bytes.fromhex(value)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _RFC_3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None


def _parse_slots(value: Any, differences: list[str]) -> list[DrawSlot] | None:
    if not isinstance(value, list):
        differences.append(f"slots {_show(value)} is not a list")
        return None
    slots: list[DrawSlot] = []
    ok = True
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or set(item) != set(SLOT_FIELDS):
            differences.append(f"slots[{index}] {_show(item)} is not {{slot, starts_at}}")
            ok = False
            continue
        slot_id, starts_at = item["slot"], _parse_time(item["starts_at"])
        if not isinstance(slot_id, str):
            differences.append(f"slots[{index}]: slot id {_show(slot_id)} is not a string")
            ok = False
        elif starts_at is None:
            differences.append(
                f"slot {slot_id}: starts_at {_show(item['starts_at'])} is not an RFC 3339 time with offset"
            )
            ok = False
        else:
            slots.append(DrawSlot(slot_id, starts_at))
    for slot_id, count in Counter(s.slot for s in slots).items():
        if count > 1:
            differences.append(f"slot {slot_id} listed {count} times")
            ok = False
    return slots if ok else None


def read_entries(items: Iterable[Any]) -> EntriesRead:
    """Read a record's entries one item at a time (a list, or a stream of decoded items)."""
    read = EntriesRead()
    names, differences, slots = read.names, read.differences, read.slots
    add_name, add_weight, add_window = names.appender(), read.weight_of.append, read.availability_of.append
    add_rank, add_outcome = read.ranks.append, read.outcomes.append
    # A record repeats a few weights and availabilities many times over: each text is parsed once, and
    # kept once, as an index.
    weights: dict[str, Decimal | None] = {}
    windows: dict[str, Availability | str] = {}
    weight_at: dict[str, int] = {}
    window_at: dict[Any, int] = {}
    codes, offer = _OUTCOME_CODES, _OUTCOME_CODES[OFFERED]
    any_day, fields = _ANY_DAY_FIELDS, _ENTRY_FIELD_SET
    index = -1
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.keys() != fields:
            differences.append(f"entries[{index}] {_show(item)} is not {{{', '.join(ENTRY_FIELDS)}}}")
            read.ok = False
            continue
        name = item["entry"]
        if not isinstance(name, str):
            differences.append(f"entries[{index}]: entry {_show(name)} is not a string")
            read.ok = False
            continue
        add_name(name)
        outcome, slot, rank = item["outcome"], item["slot"], item["rank"]
        if outcome == OFFERED:
            read.offered += 1
        if read.ok:
            text, window = item["weight"], item["availability"]
            w = weight_at.get(text) if type(text) is str else None
            if w is None and isinstance(text, str):
                weight = weights.get(text, _NOT_PARSED)
                if weight is _NOT_PARSED:
                    weight = weights[text] = _parse_weight(text)
                if weight is not None:
                    w = weight_at[text] = len(read.weights)
                    read.weights.append(weight)
            key: Any = None if window == any_day else repr(window)
            a = window_at.get(key)
            if a is None:
                availability = ANY_DAY if key is None else _parse_availability(window, windows)
                if isinstance(availability, Availability):
                    a = window_at[key] = len(read.availabilities)
                    read.availabilities.append(availability)
            code = codes.get(outcome) if type(outcome) is str else None
            if (
                w is not None
                and a is not None
                and type(rank) is int
                and rank >= 1
                and code is not None
                and (code == offer) == isinstance(slot, str)
            ):
                add_weight(w)
                add_window(a)
                add_rank(rank)
                add_outcome(code)
                if slot is not None:
                    slots[len(names) - 1] = slot
                continue
            read.ok = False
        _entry_problems(name, item, weights, windows, differences)
    read.count = index + 1
    repeated = names.repeated()
    if repeated:
        read.ok = False
        differences.extend(f"entry {name} listed {count} times" for name, count in repeated.items())
    return read


def _entry_problems(
    name: str,
    item: dict[str, Any],
    weights: dict[str, Decimal | None],
    availabilities: dict[str, Availability | str],
    differences: list[str],
) -> None:
    """The differences of one entry's fields, in the record's field order."""
    problems = []
    text = item["weight"]
    if not isinstance(text, str):
        weight = None
    elif (weight := weights.get(text, _NOT_PARSED)) is _NOT_PARSED:
        weight = weights[text] = _parse_weight(text)
    if weight is None:
        problems.append(f"weight {_show(text)} is not a positive decimal string")
    availability = _parse_availability(item["availability"], availabilities)
    if isinstance(availability, str):
        problems.append(availability)
    rank, outcome, slot = item["rank"], item["outcome"], item["slot"]
    if type(rank) is not int or rank < 1:  # bool is not int here
        problems.append(f"rank {_show(rank)} is not a positive integer")
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        problems.append(f"outcome {_show(outcome)} is not one of {', '.join(sorted(OUTCOMES))}")
    elif (outcome == OFFERED) != isinstance(slot, str):
        problems.append(
            f"slot {_show(slot)} recorded with outcome {outcome}: an offer names a slot, other outcomes have null"
        )
    differences.extend(f"entry {name}: {problem}" for problem in problems)


def _parse_weight(text: str) -> Decimal | None:
    if not _DECIMAL.fullmatch(text):
        return None
    weight = Decimal(text)
    return weight if weight > 0 else None


def _parse_availability(value: Any, cache: dict[str, Availability | str]) -> Availability | str:
    """The availability, or a description of what is wrong with it."""
    if value == _ANY_DAY_FIELDS:  # most entries
        return ANY_DAY
    # repr tells JSON values apart where == does not (1, 1.0 and true; "[1]" and [1]).
    key = repr(value)
    parsed = cache.get(key)
    if parsed is None:
        try:
            parsed = Availability.from_dict(value)
        except (ValueError, TypeError) as exc:
            parsed = f"availability {_show(value)}: {exc}"
        cache[key] = parsed
    return parsed


def _compare(parsed: _Parsed, differences: list[str]) -> None:
    """Recompute the draw and add one difference per rank, outcome or slot that does not match."""
    read = parsed.entries
    count = len(read.names)
    # Recorded ranks counted without a dict of a million ints: 1..count in an array, the rest apart.
    times = array("I", bytes(4 * (count + 1)))
    beyond: dict[int, int] = {}
    for rank in read.ranks:
        if rank <= count:
            times[rank] += 1
        else:
            beyond[rank] = beyond.get(rank, 0) + 1
    repeated = [r for r in range(1, count + 1) if times[r] > 1]
    repeated += sorted(r for r, n in beyond.items() if n > 1)
    for rank in repeated:
        differences.append(
            f"rank {rank} recorded for {times[rank] if rank <= count else beyond[rank]} entries"
        )
    missing = [r for r in range(1, count + 1) if not times[r]]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        differences.append(f"ranks are not 1..{count}: missing {shown}")
    del times, missing
    availabilities, availability_of = read.availabilities, read.availability_of
    try:
        if read.names.unencodable is not None:
            raise read.names.unencodable  # as encoding it for its key would
        order, _rank_of, head = rank_and_fill(
            seed=parsed.seed,
            beacon=parsed.beacon,
            names=read.names,
            weights=[read.weights[w] for w in read.weight_of],
            availability_at=lambda i: availabilities[availability_of[i]],
            slots=parsed.slots,
            known_unique=True,  # read_entries refuses repeated entries
            encoded_names=read.names.encoded(),
        )
    except ValueError as exc:
        differences.append(f"draw could not be recomputed: {exc}")
        return
    names, ranks, outcomes, slots = read.names, read.ranks, read.outcomes, read.slots
    outcome_names = _OUTCOME_NAMES
    decided = len(head)
    not_selected = _OUTCOME_CODES[NOT_SELECTED]
    for position, i in enumerate(order):
        rank = position + 1
        if position < decided:
            result = head[position]
            expected, expected_slot = _OUTCOME_CODES[result.outcome], result.slot
        else:
            expected, expected_slot = not_selected, None
        recorded, slot = outcomes[i], slots.get(i)
        if ranks[i] == rank and recorded == expected and slot == expected_slot:
            continue
        name = names[i]
        if ranks[i] != rank:
            differences.append(f"entry {name}: rank {ranks[i]} recorded, {rank} recomputed")
        if recorded != expected:
            differences.append(
                f"entry {name}: outcome {_outcome(outcome_names[recorded], slot)} recorded, "
                f"{_outcome(outcome_names[expected], expected_slot)} recomputed"
            )
        elif slot != expected_slot:
            differences.append(f"entry {name}: slot {slot} recorded, {expected_slot} recomputed")


def _outcome(outcome: str, slot: str | None) -> str:
    return f"{outcome} ({slot})" if slot is not None else outcome
