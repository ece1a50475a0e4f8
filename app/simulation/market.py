"""Three allocation mechanisms at equal capacity, day by day over weeks of releases.

- ``fcfs``: first-come booking. Slots appear at a known time; whoever looks first books. Resellers' bots
  look every few seconds, people every few hours; resellers book under straw names and hand a slot to a
  buyer by cancelling it at an agreed second while the buyer's booking grabs it.
- ``uniform``: a lottery with equal weights and nothing binding an entry or a booking to an identity: a
  bot's twenty submissions are twenty entries, a booking is handed over with its confirmation.
- ``fairslot``: the project's own rules: one active request per identity key
  (:func:`app.domain.identity.identity_key`) and per person key (:func:`app.domain.identity.person_key`:
  a second document does not buy a second chance), the weight policy (:mod:`app.domain.weights`), the draw
  ``fairslot-draw-v1`` (:func:`app.domain.draws.lottery.run_draw`), declined or expired offers and cancelled
  bookings back to the next draw (never first-come), a no-show halving the weight for 180 days, a
  booking valid only with its holder's document (:func:`app.domain.identity.same_document`), confirm or
  release (:mod:`app.domain.confirmation`: a booking left unconfirmed goes back to a draw), declared
  claims checked at the desk (:mod:`app.simulation.desk`) or by the registry before the draw.

Offers are answered at once by people (accepted unless they already hold a booking); a reseller's
straw-name offer is accepted and then cancelled once the hand-over fails, so its slot returns after the
offer's answer time. Returned slots are drawn again (the service schedules a re-draw when no release is
due soon) while their day is still ahead.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from app.domain import confirmation
from app.domain.claims import ClaimKind, ClaimStatus, VerifyClaims
from app.domain.draws import lottery
from app.domain.identity import identity_key, person_key, same_document
from app.domain.weights import Weight, WeightPolicy, compute_weight
from app.simulation.desk import FALSE_CLAIM_EXCLUSION_DAYS, REFUTED, DeskCheck, desk_for, overclaimed
from app.simulation.people import Person
from app.simulation.scenario import Scenario

MECHANISMS = ("fcfs", "uniform", "fairslot")
BIRTH_DATE = date(1990, 1, 1)  # the simulated documents' birth date (the identity key needs one)


@dataclass(frozen=True)
class Slot:
    """One released appointment."""

    sid: int
    day: int

    def draw_slot(self, start: date) -> lottery.DrawSlot:
        """The slot as the draw sees it (09:00 UTC on its day, 15 minutes per slot id)."""
        at = datetime.combine(start + timedelta(days=self.day), time(9), tzinfo=UTC)
        return lottery.DrawSlot(str(self.sid), at + timedelta(minutes=self.sid % 32 * 15))


@dataclass
class Outcome:
    """What one person got under one mechanism."""

    attended_day: int | None = None
    bookings: int = 0
    no_shows: int = 0
    forfeited: int = 0
    false_claim_wins: int = 0
    bought_eur: float = 0.0


@dataclass
class DrawStat:
    """One Fairslot draw: its day, slots, entries and total weight (for the aging bound)."""

    day: int
    slots: int
    entries: int
    total_weight: float
    release: bool


@dataclass
class Result:
    """One mechanism's run."""

    mechanism: str
    scenario: Scenario
    people: list[Person]
    outcomes: dict[int, Outcome]
    slots: int
    attended: int
    end_day: int
    reseller_slots: int = 0  # handed over to a buyer
    reseller_held: int = 0  # booked or offered under a straw name
    reseller_revenue_eur: float = 0.0
    reseller_cost_eur: float = 0.0
    draws: list[DrawStat] = field(default_factory=list)
    #: Per person: the draws they entered before their first offer (Fairslot and uniform).
    draws_before_offer: dict[int, int] = field(default_factory=dict)
    #: The most entries one person had in one draw (lotteries; Fairslot's identity and person keys: 1).
    most_entries_per_person: int = 0
    #: Bookings released for want of confirmation, their slots drawn again (Fairslot's confirm or release).
    released: int = 0

    @property
    def reseller_profit_eur(self) -> float:
        """Revenue minus costs, all resellers together."""
        return self.reseller_revenue_eur - self.reseller_cost_eur


def run(mechanism: str, scenario: Scenario, people: list[Person], seed: int) -> Result:
    """Simulate ``mechanism`` on ``people`` (reproducible for a given seed)."""
    market = _Market(mechanism, scenario, people, seed)
    if mechanism == "fcfs":
        market.run_fcfs()
    elif mechanism in ("uniform", "fairslot"):
        market.run_lottery(weighted=mechanism == "fairslot")
    else:
        raise ValueError(f"unknown mechanism {mechanism!r}")
    return market.result()


def draw_seed(seed: int, mechanism: str, day: int) -> bytes:
    """The 32-byte seed of a simulated draw (derived, so runs are reproducible)."""
    return hashlib.sha256(f"fairslot-simulate:{seed}:{mechanism}:{day}".encode()).digest()


def weigh(
    *,
    policy: WeightPolicy,
    start: date,
    day: int,
    declared_expiry_day: int | None,
    vulnerable: bool,
    draws_lost: int,
    last_no_show_day: int | None,
    claims: Mapping[str, str] | None = None,
) -> Weight:
    """An entry's weight on ``day`` by the project's policy (what intake declared, as the draw sees it).

    ``claims``: each claim's status (``app.domain.claims``), for a policy that counts claims only once
    confirmed before the draw; none given, every claim is ``declared``.
    """
    return compute_weight(
        policy=policy,
        on=start + timedelta(days=day),
        permit_expires_on=None
        if declared_expiry_day is None
        else start + timedelta(days=declared_expiry_day),
        vulnerabilities=("declared",) if vulnerable else (),
        draws_lost=draws_lost,
        last_no_show_on=None if last_no_show_day is None else start + timedelta(days=last_no_show_day),
        claims=claims,
    )


@dataclass
class _Request:
    """A Fairslot or uniform-lottery entry: a person's (or a straw name's) request."""

    entry: str
    pid: int | None  # None for a reseller's straw name
    identity: str
    submitted_day: int
    reseller: int | None = None
    #: The person key (Fairslot only: the uniform lottery binds nothing to a person).
    person_key: str | None = None
    lost: int = 0
    open: bool = True


@dataclass
class _Booking:
    slot: Slot
    request: _Request | None
    pid: int | None
    won_with: Weight | None = None
    drawn_day: int = 0
    #: Decided when the booking needs confirming (Fairslot): whether its holder will miss it. None: the
    #: chance is drawn at check-in.
    will_miss: bool | None = None


class _Market:
    def __init__(self, mechanism: str, scenario: Scenario, people: list[Person], seed: int) -> None:
        self.mechanism = mechanism
        self.s = scenario
        self.m = scenario.market
        self.people = people
        self.by_pid = {p.pid: p for p in people}
        self.seed = seed
        self.rng = random.Random(f"{mechanism}:{seed}")
        self.policy = scenario.weight_policy()
        self.confirm_window = scenario.confirm_window()
        self.unconfirmed: dict[int, list[_Booking]] = defaultdict(list)  # release day -> bookings
        self.released = 0
        self.before_draw = self.policy.verify_claims == VerifyClaims.BEFORE_DRAW
        self.desk: DeskCheck = desk_for(scenario.desk.verification, scenario.desk.detection, self.policy)
        self.pepper = hashlib.sha256(f"simulation-pepper:{seed}".encode()).digest()
        self.outcomes = {p.pid: Outcome() for p in people}
        self.end_day = 7 * (self.m.weeks - 1) + self.m.lead_days + 4
        self.first_day = min([0, *(p.arrival_day for p in people)])
        self.arrivals: dict[int, list[Person]] = defaultdict(list)
        self.leaving: dict[int, list[Person]] = defaultdict(list)
        for p in people:
            self.arrivals[p.arrival_day].append(p)
            if p.leave_day is not None:
                self.leaving[p.leave_day].append(p)
        #: People who still need an appointment and hold none.
        self.waiting: dict[int, Person] = {}
        self.booked: set[int] = set()
        self.appointments: dict[int, list[_Booking]] = defaultdict(list)
        self.next_sid = 0
        self.slots = 0
        self.attended = 0
        self.prices = [
            self.rng.uniform(*scenario.resellers.price_eur) for _ in range(scenario.resellers.count)
        ]
        self.reseller_slots = 0
        self.reseller_held = 0
        self.revenue = 0.0
        self.cost = 0.0
        self.draws: list[DrawStat] = []
        self.draws_before_offer: dict[int, int] = {}
        self.most_entries_per_person = 0
        self.entered: dict[int, int] = defaultdict(int)
        # Lottery state
        self.requests: dict[str, _Request] = {}  # entry -> request
        self.active: dict[str, _Request] = {}  # identity key -> open request (one per identity)
        self.active_person: dict[str, _Request] = {}  # person key -> open request (Fairslot)
        self.excluded_until: dict[str, int] = {}
        self.last_no_show: dict[str, int] = {}
        self.returned: list[tuple[int, Slot]] = []  # (back from day, slot)
        self.filings = 0
        self.of_person: dict[int, list[_Request]] = defaultdict(list)
        self.last_sale = [0] * scenario.resellers.count
        self.gone: set[int] = set()
        self.of_reseller: dict[int, list[_Request]] = defaultdict(list)

    # -- shared ------------------------------------------------------------------------------------

    def result(self) -> Result:
        return Result(
            mechanism=self.mechanism,
            scenario=self.s,
            people=self.people,
            outcomes=self.outcomes,
            slots=self.slots,
            attended=self.attended,
            end_day=self.end_day,
            reseller_slots=self.reseller_slots,
            reseller_held=self.reseller_held,
            reseller_revenue_eur=round(self.revenue, 2),
            reseller_cost_eur=round(self.cost, 2),
            draws=self.draws,
            draws_before_offer=self.draws_before_offer,
            most_entries_per_person=self.most_entries_per_person,
            released=self.released,
        )

    def release(self, day: int) -> list[Slot]:
        """A release's slots: the five working days from ``day + lead_days``, spread evenly."""
        slots = []
        for i in range(self.m.slots_per_week):
            slots.append(Slot(self.next_sid, day + self.m.lead_days + i % 5))
            self.next_sid += 1
        self.slots += len(slots)
        return slots

    def buyers(self, day: int, price: float, taken: set[int]) -> list[Person]:
        """People who would pay ``price`` for a slot now and know where to buy one, in random order."""
        premium = self.s.applicants.urgent_premium
        found = [
            p
            for p in self.waiting.values()
            if p.knows_reseller and p.pid not in taken and p.willingness_to_pay(day, premium) >= price
        ]
        self.rng.shuffle(found)
        return found

    def leave(self, day: int) -> None:
        """People who give up seeking: out of the queue, their requests withdrawn."""
        for p in self.leaving.get(day, ()):
            if self.waiting.pop(p.pid, None) is not None:
                self.gone.add(p.pid)
                for r in self.of_person.pop(p.pid, []):
                    self._close(r)

    def book(self, person: Person, slot: Slot, booking: _Booking) -> None:
        self.waiting.pop(person.pid, None)
        self.booked.add(person.pid)
        self.outcomes[person.pid].bookings += 1
        self.appointments[slot.day].append(booking)

    def check_ins(self, day: int, *, desk: bool) -> None:
        for b in self.appointments.pop(day, []):
            if b.pid is None:
                continue  # a straw name nobody can use: the slot passes unused
            person = self.by_pid[b.pid]
            outcome = self.outcomes[b.pid]
            self.booked.discard(b.pid)
            missed = (
                b.will_miss if b.will_miss is not None else self.rng.random() < person.no_show_probability
            )
            if missed:
                outcome.no_shows += 1
                self.waiting[b.pid] = person
                if b.request is not None:
                    self._close(b.request)
                    self.last_no_show[b.request.identity] = day
                    self._file(person, day)  # a closed request frees the identity: they file again
                continue
            if desk and b.won_with is not None:
                verdict = self.desk.verdict(
                    person=person,
                    won_with=b.won_with,
                    drawn_on=self.m.start + timedelta(days=b.drawn_day),
                    start=self.m.start,
                    rng=self.rng,
                )
                if verdict == REFUTED:
                    outcome.forfeited += 1
                    assert b.request is not None
                    self._close(b.request)
                    # The identity and the person key: the other document does not get round it.
                    for key in (b.request.identity, b.request.person_key):
                        if key is not None:
                            self.excluded_until[key] = day + FALSE_CLAIM_EXCLUSION_DAYS
                    self.waiting[b.pid] = person  # still needs an appointment, excluded for now
                    continue
            outcome.attended_day = day
            self.attended += 1
            for r in self.of_person.pop(b.pid, []):
                self._close(r)  # done: the person withdraws their other request

    # -- first come ---------------------------------------------------------------------------------

    def run_fcfs(self) -> None:
        r = self.s.resellers
        for day in range(self.first_day, self.end_day + 1):
            for p in self.arrivals.get(day, ()):
                self.waiting[p.pid] = p
            self.leave(day)
            if day >= 0 and day % 7 == 0 and day // 7 < self.m.weeks:
                self.cost += r.weekly_cost_eur * r.count
                self._fcfs_release(day, self.release(day))
            self.check_ins(day, desk=False)

    def _fcfs_release(self, day: int, slots: list[Slot]) -> None:
        r = self.s.resellers
        rng = self.rng
        looks: list[tuple[float, int, int]] = []  # (seconds after release, kind 0=reseller 1=person, id)
        for rid in range(r.count):
            looks.append((rng.uniform(0, r.poll_seconds), 0, rid))
        for p in self.waiting.values():
            # Two documents, two accounts: the first of them to look.
            delay = min(rng.uniform(0, p.poll_seconds) for _ in range(p.documents))
            looks.append((delay, 1, p.pid))
        looks.sort()
        free = list(slots)
        held: dict[int, list[Slot]] = defaultdict(list)
        queue: list[Person] = []  # people in the order they look, for slots that come back
        for _delay, kind, ident in looks:
            if kind == 0:
                take = min(r.bookings_per_week, len(free))
                held[ident].extend(free[:take])
                del free[:take]
                self.cost += take * r.cost_per_booking_eur
                self.reseller_held += take
            elif free:
                slot = free.pop(0)
                self.book(self.by_pid[ident], slot, _Booking(slot, None, ident))
            else:
                queue.append(self.by_pid[ident])
        # Resellers sell; a hand-over is a cancel-and-rebook at an agreed second: mostly the buyer's,
        # otherwise whoever looks next takes the freed slot. Unsold slots are cancelled: first come again.
        bought: set[int] = set()
        for rid, their in held.items():
            buyers = self.buyers(day, self.prices[rid], bought)
            for slot in their:
                if buyers and rng.random() < r.transfer_success:
                    buyer = buyers.pop()
                    bought.add(buyer.pid)
                    self.last_sale[rid] = day
                    self.revenue += self.prices[rid]
                    self.reseller_slots += 1
                    self.outcomes[buyer.pid].bought_eur += self.prices[rid]
                    self.book(buyer, slot, _Booking(slot, None, buyer.pid))
                else:
                    self._give_next(queue, slot)

    def _give_next(self, queue: list[Person], slot: Slot) -> None:
        while queue:
            person = queue.pop(0)
            if person.pid in self.waiting:
                self.book(person, slot, _Booking(slot, None, person.pid))
                return

    # -- lotteries ----------------------------------------------------------------------------------

    def run_lottery(self, *, weighted: bool) -> None:
        for day in range(self.first_day, self.end_day + 1):
            for p in self.arrivals.get(day, ()):
                self.waiting[p.pid] = p
                self._file(p, day)
            self.leave(day)
            self._release_unconfirmed(day)
            for identity, until in list(self.excluded_until.items()):
                if until == day:
                    person = next((p for p in self.waiting.values() if self._owns(p, identity)), None)
                    if person is not None:
                        self._file(person, day)
            new: list[Slot] = []
            if day >= 0 and day % 7 == 0 and day // 7 < self.m.weeks:
                new = self.release(day)
                self._straw(day, weighted)
            # Returned slots are re-drawn once back for redraw_after_days, while their day is ahead; those
            # whose day has come are lost.
            due = self.m.redraw_after_days
            back = [s for since, s in self.returned if since + due <= day and s.day > day]
            self.returned = [(since, s) for since, s in self.returned if since + due > day and s.day > day]
            if new or back:
                self._draw(day, new + back, weighted)
            self.check_ins(day, desk=weighted)

    def _ask_confirmation(self, booking: _Booking, day: int) -> None:
        """Confirm or release (:mod:`app.domain.confirmation`): a booking made before its window opens must be
        confirmed in it. Someone who already knows they will not come (``no_show_unconfirmed_share`` of
        those who miss) leaves it unanswered, and the booking is released at ``confirm_by``."""
        starts_at = booking.slot.draw_slot(self.m.start).starts_at
        booked_at = datetime.combine(self.m.start + timedelta(days=day), time(9), tzinfo=UTC)
        window = confirmation.for_booking(self.confirm_window, starts_at=starts_at, booked_at=booked_at)
        if window.confirm_by is None or window.confirmed_at is not None:
            return  # no rule, or confirmed by accepting
        assert booking.pid is not None
        booking.will_miss = self.rng.random() < self.by_pid[booking.pid].no_show_probability
        if booking.will_miss and self.rng.random() < self.s.applicants.no_show_unconfirmed_share:
            release_day = (window.confirm_by.date() - self.m.start).days
            self.unconfirmed[release_day].append(booking)

    def _release_unconfirmed(self, day: int) -> None:
        """Bookings not confirmed by ``confirm_by``: released, the slot back to a draw, no no-show penalty."""
        for booking in self.unconfirmed.pop(day, []):
            assert booking.pid is not None and booking.request is not None
            self.appointments[booking.slot.day].remove(booking)
            self.released += 1
            person = self.by_pid[booking.pid]
            self.booked.discard(person.pid)
            self.waiting[person.pid] = person
            self._close(booking.request)
            self._file(person, day)  # the released request is closed: they may file again
            self.returned.append((day, booking.slot))

    def _owns(self, person: Person, identity: str) -> bool:
        return any(self._identity(person.pid, doc) == identity for doc in range(person.documents))

    def _identity(self, pid: int, doc: int) -> str:
        return identity_key(self.pepper, f"P{pid:07d}D{doc}", BIRTH_DATE)

    def _person_key(self, pid: int) -> str:
        """The same names and birth date on every document a person holds: one person key."""
        return person_key(self.pepper, f"FAMILY{pid:07d}", "GIVEN", BIRTH_DATE)

    def _file(self, person: Person, day: int) -> None:
        """A person files with each document they hold. Intake refuses a second active request per identity
        key and, under Fairslot, per person key (``409 duplicate_person``: the other document is refused)."""
        who = self._person_key(person.pid) if self.mechanism == "fairslot" else None
        for doc in range(person.documents):
            key = self._identity(person.pid, doc)
            if key in self.active or self.excluded_until.get(key, day) > day:
                continue
            if who is not None and (who in self.active_person or self.excluded_until.get(who, day) > day):
                continue
            self.filings += 1
            request = _Request(f"E{self.filings}", person.pid, key, day, person_key=who)
            self.requests[request.entry] = request
            self.active[key] = request
            if who is not None:
                self.active_person[who] = request
            self.of_person[person.pid].append(request)

    def _close(self, request: _Request) -> None:
        request.open = False
        if self.active.get(request.identity) is request:
            del self.active[request.identity]
        if request.person_key is not None and self.active_person.get(request.person_key) is request:
            del self.active_person[request.person_key]

    def _straw(self, day: int, weighted: bool) -> None:
        """Resellers file straw-name entries: invented documents, each its own identity key."""
        r = self.s.resellers
        per = r.fairslot_straw_entries_per_week if weighted else r.straw_entries_per_week
        cost = r.cost_per_verified_entry_eur if weighted else r.cost_per_entry_eur
        for rid in range(r.count):
            if day - self.last_sale[rid] > 7 * r.give_up_after_weeks:
                # Nothing sold for weeks: this reseller stops, and withdraws its straw requests (left
                # pending they would keep taking offers that expire unanswered: fake identities' harm).
                for request in self.of_reseller.pop(rid, []):
                    self._close(request)
                continue
            self.cost += r.weekly_cost_eur
            for k in range(per):
                key = identity_key(self.pepper, f"STRAW{rid}W{day}N{k}", BIRTH_DATE)
                self.filings += 1
                request = _Request(f"E{self.filings}", None, key, day, reseller=rid)
                self.requests[request.entry] = request
                self.active[key] = request
                self.of_reseller[rid].append(request)
                self.cost += cost

    def _entries(self, day: int, weighted: bool) -> tuple[list[lottery.DrawEntry], dict[str, _Request]]:
        """The draw's entries: open requests filed before the draw day (the uniform lottery: every submission)."""
        entries: list[lottery.DrawEntry] = []
        owner: dict[str, _Request] = {}
        cache: dict[tuple[int | None, bool, int, int | None, str], Weight] = {}
        self._weights: dict[str, Weight] = {}
        one = Decimal(1)
        for request in self.active.values():
            if request.submitted_day >= day:
                continue
            person = self.by_pid[request.pid] if request.pid is not None else None
            if not weighted:
                copies = 1 if person is None else person.unbound_entries
                for k in range(copies):
                    name = f"{request.entry}.{k}"
                    entries.append(lottery.DrawEntry(name, one))
                    owner[name] = request
                continue
            declared = day + 20 if person is None else person.declared_expiry_day  # straw names claim urgency
            permit = registry_status(person) if self.before_draw else ClaimStatus.DECLARED
            key = (
                declared,
                bool(person and person.vulnerable),
                request.lost,
                self.last_no_show.get(request.identity),
                permit,
            )
            weight = cache.get(key)
            if weight is None:
                weight = cache[key] = weigh(
                    policy=self.policy,
                    start=self.m.start,
                    day=day,
                    declared_expiry_day=key[0],
                    vulnerable=key[1],
                    draws_lost=key[2],
                    last_no_show_day=key[3],
                    # A verifier sees a vulnerable person's evidence before the draw.
                    claims={ClaimKind.PERMIT_EXPIRY: permit, ClaimKind.VULNERABILITY: ClaimStatus.CONFIRMED},
                )
            entries.append(lottery.DrawEntry(request.entry, weight.total))
            owner[request.entry] = request
            self._weights[request.entry] = weight
        return entries, owner

    def _draw(self, day: int, slots: list[Slot], weighted: bool) -> None:
        entries, owner = self._entries(day, weighted)
        per_person = Counter(r.pid for r in owner.values() if r.pid is not None)
        self.most_entries_per_person = max(self.most_entries_per_person, *per_person.values(), 0)
        if not entries:
            self.returned.extend((day, s) for s in slots)
            return
        by_sid = {str(s.sid): s for s in slots}
        results = lottery.run_draw(
            seed=draw_seed(self.seed, self.mechanism, day),
            beacon="",
            entries=entries,
            slots=[s.draw_slot(self.m.start) for s in slots],
        )
        if weighted:
            total = sum(float(e.weight) for e in entries)
            self.draws.append(
                DrawStat(day, len(slots), len(entries), total, release=len(slots) >= self.m.slots_per_week)
            )
        ttl = self.m.offer_ttl_days
        r = self.s.resellers
        won: set[int] = set()
        sold_by: dict[int, list[Slot]] = defaultdict(list)
        seen: set[int] = set()
        for result in results:
            request = owner[result.entry]
            if request.pid is not None and request.pid not in seen:
                seen.add(request.pid)
                self.entered[request.pid] += 1
            if result.outcome != lottery.OFFERED:
                if weighted:
                    request.lost += 1
                continue
            assert result.slot is not None
            slot = by_sid[result.slot]
            if request.pid is None:
                self.reseller_held += 1
                if weighted:
                    # Bound to the straw identity: a buyer's document does not open it, and a cancelled
                    # slot returns to the next draw, never to the buyer. The reseller lets it go.
                    assert not same_document(self.pepper, request.identity, "BUYER", BIRTH_DATE)
                    self.returned.append((day + ttl, slot))
                else:
                    assert request.reseller is not None
                    sold_by[request.reseller].append(slot)
                continue
            person = self.by_pid[request.pid]
            self.draws_before_offer.setdefault(person.pid, self.entered[person.pid] - 1)
            if person.pid in won or person.pid not in self.waiting:
                self.returned.append((day, slot))  # declined: already holds a booking
                continue
            won.add(person.pid)
            booking = _Booking(
                slot, request, person.pid, self._weights.get(request.entry) if weighted else None, day
            )
            if booking.won_with is not None and overclaimed(
                self.policy, person, booking.won_with, self.m.start + timedelta(days=day), self.m.start
            ):
                self.outcomes[person.pid].false_claim_wins += 1
            self.book(person, slot, booking)
            if weighted:
                self._ask_confirmation(booking, day)
        # Uniform lottery: a booking is a confirmation anyone can bring; resellers sell theirs.
        bought: set[int] = set()
        for rid, their in sold_by.items():
            buyers = self.buyers(day, self.prices[rid], bought | won)
            for slot in their:
                if buyers and self.rng.random() < r.transfer_success:
                    buyer = buyers.pop()
                    bought.add(buyer.pid)
                    self.last_sale[rid] = day
                    self.revenue += self.prices[rid]
                    self.reseller_slots += 1
                    self.outcomes[buyer.pid].bought_eur += self.prices[rid]
                    self.book(buyer, slot, _Booking(slot, None, buyer.pid))
                else:
                    self.returned.append((day + ttl, slot))


def registry_status(person: Person | None) -> ClaimStatus:
    """What the office's permit registry says of a declared expiry before the draw (``claims import``).

    The registry holds the real date of every permit the office issued: an honest declaration is confirmed,
    a false one refuted (it counts 1, with no penalty: it won nothing), and a straw name's invented document
    is not in it (the claim stays declared and counts 1).
    """
    if person is None:
        return ClaimStatus.DECLARED
    return ClaimStatus.REFUTED if person.false_claim else ClaimStatus.CONFIRMED


def run_all(
    scenario: Scenario, people: list[Person], seed: int, mechanisms: Iterable[str] = MECHANISMS
) -> dict[str, Result]:
    """Every mechanism on the same people."""
    return {name: run(name, scenario, people, seed) for name in mechanisms}
