"""Five allocation mechanisms at equal capacity, day by day over weeks of releases.

- ``fcfs``: first-come booking. Slots appear at a known time; whoever looks first books. Resellers' bots
  look every few seconds, people every few hours; resellers book under other names and hand a slot to a
  buyer by cancelling it at an agreed second while the buyer's booking grabs it, or book in the buyer's name.
- ``uniform``: a lottery with equal weights and nothing binding an entry or a booking to an identity: a
  bot's twenty submissions are twenty entries, a booking is handed over with its confirmation.
- ``batch``: the mechanism of Hakimov, Heller, Kübler and Kurino (AER 2021): a week's entries drawn with
  equal weights and no ageing, one entry per identity key, a booking bound to it (as under Fairslot), no
  claims, no person key, no confirm or release.
- ``fairslot``: the project's own rules: one active request per identity key
  (:func:`app.domain.identity.identity_key`) and per person key (:func:`app.domain.identity.person_key`:
  a second document does not buy a second chance), the weight policy (:mod:`app.domain.weights`), the draw
  ``fairslot-draw-v1`` (:func:`app.domain.draws.lottery.run_draw`), declined or expired offers and cancelled
  bookings back to the next draw (never first-come), a no-show halving the weight for 180 days, a
  booking valid only with its holder's document (:func:`app.domain.identity.same_document`), confirm or
  release (:mod:`app.domain.confirmation`: a booking left unconfirmed goes back to a draw), declared
  claims checked at the desk (:mod:`app.simulation.desk`) or by the registry before the draw, entries
  verified as the policy's ``entry_verification`` says.
- ``fairslot_fcfs_returns``: Fairslot whose returned slots go first come the moment they are back.

Resellers play the strategies of :mod:`app.simulation.adversaries.strategies`, each week the best so far
(or one alone, for the ``adversaries`` table), and sell only to buyers for whom the purchase adds enough to
their own chance of being seen in time.

Offers are answered at once by people (accepted unless they already hold a booking); a reseller's
straw-name offer is accepted and then cancelled once the hand-over fails, so its slot returns after the
offer's answer time. Returned slots are drawn again (the service schedules a re-draw when no release is
due soon) while their day is still ahead.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from app.domain import confirmation
from app.domain.claims import ClaimKind, ClaimStatus, VerifyClaims
from app.domain.draws import lottery
from app.domain.identity import identity_key, person_key, same_document
from app.domain.weights import Weight, WeightPolicy, compute_weight
from app.simulation.adversaries.strategies import HAND_OVER, BestResponse, added_chance, enters
from app.simulation.desk import FALSE_CLAIM_EXCLUSION_DAYS, REFUTED, DeskCheck, desk_for, overclaimed
from app.simulation.people import Person
from app.simulation.scenario import Scenario

MECHANISMS = ("fcfs", "uniform", "batch", "fairslot", "fairslot_fcfs_returns")
#: Mechanisms whose draws weigh entries by the service's policy (the others: equal weights, no ageing).
WEIGHTED = frozenset({"fairslot", "fairslot_fcfs_returns"})
#: Mechanisms that bind a request and its booking to one identity (the uniform lottery binds nothing).
BOUND = frozenset({"batch", "fairslot", "fairslot_fcfs_returns"})
#: Mechanisms whose returned slots go first come instead of to the next draw.
FIRST_COME_RETURNS = frozenset({"fairslot_fcfs_returns"})
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
    #: Resellers' profit per strategy (EUR, all resellers together) and the reseller-weeks each was played.
    strategy_profit_eur: dict[str, float] = field(default_factory=dict)
    strategy_weeks: dict[str, int] = field(default_factory=dict)
    #: Slots handed over per strategy.
    strategy_slots: dict[str, int] = field(default_factory=dict)

    @property
    def reseller_profit_eur(self) -> float:
        """Revenue minus costs, all resellers together."""
        return self.reseller_revenue_eur - self.reseller_cost_eur


def run(
    mechanism: str, scenario: Scenario, people: list[Person], seed: int, strategy: str | None = None
) -> Result:
    """Simulate ``mechanism`` on ``people`` (reproducible for a given seed).

    ``strategy``: every reseller plays it alone; None, each plays the best so far each week.
    """
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown mechanism {mechanism!r}")
    market = _Market(mechanism, scenario, people, seed, strategy)
    if mechanism == "fcfs":
        market.run_fcfs()
    else:
        market.run_lottery()
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
    #: The reseller's strategy that filed it.
    strategy: str = ""
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
    def __init__(
        self, mechanism: str, scenario: Scenario, people: list[Person], seed: int, strategy: str | None
    ) -> None:
        self.mechanism = mechanism
        self.weighted = mechanism in WEIGHTED
        self.bound = mechanism in BOUND
        self.first_come_returns = mechanism in FIRST_COME_RETURNS
        self.s = scenario
        self.m = scenario.market
        self.people = people
        self.by_pid = {p.pid: p for p in people}
        self.seed = seed
        self.rng = random.Random(f"{mechanism}:{seed}")
        self.policy = scenario.weight_policy()
        # What an online request needs to enter draws: the service's policy under Fairslot; nothing under
        # the uniform lottery and the batch (the paper binds an entry to a document, it checks none).
        self.verification = self.policy.entry_verification.value if self.weighted else "none"
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
        r = scenario.resellers
        self.prices = [self.rng.uniform(*r.price_eur) for _ in range(r.count)]
        self.reseller_slots = 0
        self.reseller_held = 0
        self.revenue = 0.0
        self.cost = 0.0
        self.dynamic = BestResponse(
            count=r.count, strategies=r.strategies, fixed=strategy, give_up_after_weeks=r.give_up_after_weeks
        )
        self.strategy_slots: Counter[str] = Counter()
        #: This week's strategy of each active reseller, and how many returned slots it may still grab.
        self.playing: dict[int, str] = {}
        self.grabs: dict[int, int] = {}
        #: Per person: their own chance of an appointment per release (the last one's), for what they pay.
        self.own_chance: dict[int, float] = {}
        self.chance_per_release = 1.0
        self.last_release_draw: DrawStat | None = None
        #: Declared expiry days bought from a forger (this run only: the people are shared).
        self.forged: dict[int, int] = {}
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
        self.of_reseller: dict[int, list[_Request]] = defaultdict(list)
        detection = scenario.desk.detection
        checks = random.Random(f"registry:{seed}")
        #: Whether the registry (or the desk) would catch this person's false or forged date.
        self.caught = {p.pid: checks.random() < detection for p in people}
        self.weight_cache: dict[tuple[int | None, bool, int, bool, str], Weight] = {}
        self.widest_band = max((b.within_days for b in self.policy.expiry_bands), default=0)
        step = float(self.policy.waiting_step)
        self.lost_cap = math.ceil((float(self.policy.waiting_cap) - 1) / step) if step > 0 else 0
        self.keys: dict[tuple[int, int], str] = {}
        self.person_keys: dict[int, str] = {}

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
            strategy_profit_eur={k: round(v, 2) for k, v in self.dynamic.by_strategy().items()},
            strategy_weeks=self.dynamic.reseller_weeks(),
            strategy_slots={name: self.strategy_slots[name] for name in self.s.resellers.strategies},
        )

    def release(self, day: int) -> list[Slot]:
        """A release's slots: the five working days from ``day + lead_days``, spread evenly."""
        slots = []
        for i in range(self.m.slots_per_week):
            slots.append(Slot(self.next_sid, day + self.m.lead_days + i % 5))
            self.next_sid += 1
        self.slots += len(slots)
        return slots

    def _spend(self, rid: int, strategy: str, amount: float) -> None:
        self.cost += amount
        self.dynamic.spend(rid, strategy, amount)

    def _weekly(self, day: int) -> None:
        """Each reseller picks this week's strategy (or stops, withdrawing its entries) and pays its week."""
        r = self.s.resellers
        self.playing = {}
        for rid in range(r.count):
            strategy = self.dynamic.choose(rid, day)
            if strategy is None:
                # It stops, and withdraws its requests (left pending they would keep taking offers that
                # expire unanswered: fake identities' harm).
                for request in self.of_reseller.pop(rid, []):
                    self._close(request)
                continue
            self.playing[rid] = strategy
            self.grabs[rid] = r.bookings_per_week
            self._spend(rid, strategy, r.weekly_cost_eur)

    def chance(self, person: Person) -> float:
        """The person's own chance of an appointment per release, without buying anything."""
        return self.own_chance.get(person.pid, self.chance_per_release)

    def buyers(self, day: int, price: float, taken: set[int], bought: float = 1.0) -> list[Person]:
        """People who know where to buy and for whom a purchase is worth ``price``, in random order.

        A buyer pays at most what the purchase adds to their own chance of being seen in time
        (:func:`added_chance`) times what an appointment now is worth to them. ``bought``: their chance
        per release with the purchase (1: a booking in hand).
        """
        premium = self.s.applicants.urgent_premium
        found = [
            p
            for p in self.waiting.values()
            if p.knows_reseller
            and p.pid not in taken
            and p.willingness_to_pay(day, premium) * added_chance(self.chance(p), bought) >= price
        ]
        self.rng.shuffle(found)
        return found

    def _sell(self, rid: int, strategy: str, buyer: Person, day: int) -> None:
        price = self.prices[rid]
        self.revenue += price
        self.dynamic.earn(rid, strategy, price, day)
        self.reseller_slots += 1
        self.strategy_slots[strategy] += 1
        self.outcomes[buyer.pid].bought_eur += price

    def leave(self, day: int) -> None:
        """People who give up seeking: out of the queue, their requests withdrawn."""
        for p in self.leaving.get(day, ()):
            if self.waiting.pop(p.pid, None) is not None:
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
                    person=self._as_declared(person),
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

    def _as_declared(self, person: Person) -> Person:
        """The person as intake saw them (a forged date bought in this run replaces the declared one)."""
        if person.pid not in self.forged:
            return person
        return replace(person, declared_expiry_day=self.forged[person.pid])

    # -- first come ---------------------------------------------------------------------------------

    def run_fcfs(self) -> None:
        for day in range(self.first_day, self.end_day + 1):
            for p in self.arrivals.get(day, ()):
                self.waiting[p.pid] = p
            self.leave(day)
            if day >= 0 and day % 7 == 0 and day // 7 < self.m.weeks:
                self._weekly(day)
                self._fcfs_release(day, self.release(day))
            self.check_ins(day, desk=False)

    def _fcfs_release(self, day: int, slots: list[Slot]) -> None:
        r = self.s.resellers
        rng = self.rng
        # A person's own chance at this release: the slots against everyone looking.
        self.chance_per_release = min(1.0, len(slots) / max(1, len(self.waiting)))
        looks: list[tuple[float, int, int]] = []  # (seconds after release, kind 0=reseller 1=person, id)
        for rid in self.playing:
            looks.append((rng.uniform(0, r.poll_seconds), 0, rid))
        for p in self.waiting.values():
            # Two documents, two accounts: the first of them to look.
            delay = min(rng.uniform(0, p.poll_seconds) for _ in range(p.documents))
            looks.append((delay, 1, p.pid))
        looks.sort()
        free = list(slots)
        held: dict[int, list[Slot]] = defaultdict(list)
        queue: list[Person] = []  # people in the order they look, for slots that come back
        bought: set[int] = set()
        for _delay, kind, ident in looks:
            if kind == 0:
                strategy = self.playing[ident]
                if strategy in HAND_OVER:
                    take = min(r.bookings_per_week, len(free))
                    held[ident].extend(free[:take])
                    del free[:take]
                    self._spend(ident, strategy, take * self._unit_cost(strategy))
                    self.reseller_held += take
                elif strategy == "apply_for_buyer":
                    # Their bots book in the buyer's own name at the release's first second.
                    for buyer in self.buyers(day, self.prices[ident], bought)[: r.bookings_per_week]:
                        if not free:
                            break
                        slot = free.pop(0)
                        bought.add(buyer.pid)
                        self._spend(ident, strategy, r.cost_per_booking_eur)
                        self._sell(ident, strategy, buyer, day)
                        self.book(buyer, slot, _Booking(slot, None, buyer.pid))
                # forged_urgency: under first come urgency weighs nothing, nobody buys a forged date.
            elif ident not in self.waiting:
                continue  # bought an appointment from a reseller's bot
            elif free:
                slot = free.pop(0)
                self.book(self.by_pid[ident], slot, _Booking(slot, None, ident))
            else:
                queue.append(self.by_pid[ident])
        # Resellers sell; a hand-over is a cancel-and-rebook at an agreed second: mostly the buyer's,
        # otherwise whoever looks next takes the freed slot. Unsold slots are cancelled: first come again.
        for rid, their in held.items():
            buyers = self.buyers(day, self.prices[rid], bought)
            for slot in their:
                if buyers and rng.random() < r.transfer_success:
                    buyer = buyers.pop()
                    bought.add(buyer.pid)
                    self._sell(rid, self.playing[rid], buyer, day)
                    self.book(buyer, slot, _Booking(slot, None, buyer.pid))
                else:
                    self._give_next(queue, slot)

    def _unit_cost(self, strategy: str) -> float:
        """What one booking or entry costs a reseller under ``strategy``."""
        r = self.s.resellers
        if strategy == "identity_rental":
            return r.rental_eur
        if strategy == "sim_farm":
            return r.sim_card_eur / self.policy.max_requests_per_phone + r.cost_per_entry_eur
        if strategy == "forged_urgency":
            return r.forgery_eur
        if self.mechanism == "fcfs" or strategy == "apply_for_buyer":
            return r.cost_per_booking_eur
        return r.cost_per_entry_eur

    def _give_next(self, queue: list[Person], slot: Slot) -> None:
        while queue:
            person = queue.pop(0)
            if person.pid in self.waiting:
                self.book(person, slot, _Booking(slot, None, person.pid))
                return

    # -- lotteries ----------------------------------------------------------------------------------

    def run_lottery(self) -> None:
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
                self._weekly(day)
                self._straw(day)
                self._forge(day)
            # Returned slots are re-drawn once back for redraw_after_days, while their day is ahead (or,
            # in the variant, go first come the moment they are back); those whose day has come are lost.
            due = 0 if self.first_come_returns else self.m.redraw_after_days
            back = [s for since, s in self.returned if since + due <= day and s.day > day]
            self.returned = [(since, s) for since, s in self.returned if since + due > day and s.day > day]
            if new or (back and not self.first_come_returns):
                self._draw(day, new if self.first_come_returns else new + back)
            if back and self.first_come_returns:
                self._first_come(day, back)
            self.check_ins(day, desk=self.weighted)

    def _first_come(self, day: int, slots: list[Slot]) -> None:
        """Returned slots offered first come: a reseller's bot grabs them for a paying buyer (in the buyer's
        own name, so the booking binds them), else whoever looks first among those waiting books it."""
        r = self.s.resellers
        taken: set[int] = set()
        free = list(slots)
        for rid in sorted(self.playing, key=lambda _: self.rng.random()):
            if self.playing[rid] != "apply_for_buyer":
                continue
            for buyer in self.buyers(day, self.prices[rid], taken)[: self.grabs[rid]]:
                if not free:
                    break
                slot = free.pop(0)
                taken.add(buyer.pid)
                self.grabs[rid] -= 1
                self._spend(rid, "apply_for_buyer", r.cost_per_booking_eur)
                self._sell(rid, "apply_for_buyer", buyer, day)
                self._book_first_come(buyer, slot, day)
        if not free:
            return
        looks = sorted(
            (self.rng.uniform(0, p.poll_seconds), p.pid) for p in self.waiting.values() if p.pid not in taken
        )
        for _delay, pid in looks[: len(free)]:
            self._book_first_come(self.by_pid[pid], free.pop(0), day)

    def _book_first_come(self, person: Person, slot: Slot, day: int) -> None:
        request = next((q for q in self.of_person.get(person.pid, []) if q.open), None)
        booking = _Booking(slot, request, person.pid, None, day)
        self.book(person, slot, booking)
        if request is not None:
            self._ask_confirmation(booking, day)

    def _ask_confirmation(self, booking: _Booking, day: int) -> None:
        """Confirm or release (:mod:`app.domain.confirmation`): a booking made before its window opens must be
        confirmed in it. Someone who already knows they will not come (``no_show_unconfirmed_share`` of
        those who miss) leaves it unanswered, and the booking is released at ``confirm_by``."""
        if not self.weighted:
            return
        starts_at = booking.slot.draw_slot(self.m.start).starts_at
        booked_at = datetime.combine(self.m.start + timedelta(days=day), time(9), tzinfo=UTC)
        window = confirmation.for_booking(self.confirm_window, starts_at=starts_at, booked_at=booked_at)
        if window.confirm_by is None or window.confirmed_at is not None:
            return  # no rule, or confirmed by accepting
        assert booking.pid is not None
        booking.will_miss = self.rng.random() < self.by_pid[booking.pid].no_show_probability
        if booking.will_miss and self.rng.random() < self.s.applicants.no_show_unconfirmed_share:
            release_day = max(day + 1, (window.confirm_by.date() - self.m.start).days)
            self.unconfirmed[release_day].append(booking)

    def _release_unconfirmed(self, day: int) -> None:
        """Bookings not confirmed by ``confirm_by``: released, the slot back to a draw, no no-show penalty."""
        for booking in self.unconfirmed.pop(day, []):
            assert booking.pid is not None and booking.request is not None
            if booking not in self.appointments[booking.slot.day]:
                continue
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
        key = self.keys.get((pid, doc))
        if key is None:
            key = self.keys[pid, doc] = identity_key(self.pepper, f"P{pid:07d}D{doc}", BIRTH_DATE)
        return key

    def _person_key(self, pid: int) -> str:
        """The same names and birth date on every document a person holds: one person key."""
        key = self.person_keys.get(pid)
        if key is None:
            key = self.person_keys[pid] = person_key(self.pepper, f"FAMILY{pid:07d}", "GIVEN", BIRTH_DATE)
        return key

    def _file(self, person: Person, day: int) -> None:
        """A person files with each document they hold. Intake refuses a second active request per identity
        key and, under Fairslot, per person key (``409 duplicate_person``: the other document is refused)."""
        who = self._person_key(person.pid) if self.weighted else None
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

    def _straw(self, day: int) -> None:
        """Resellers who hold entries under other identities file this week's: invented names (entering
        only where nothing is verified), rented people (real identities) or SIM-farm identities (through
        phone verification, at most ``max_requests_per_phone`` per rented number)."""
        r = self.s.resellers
        for rid, strategy in self.playing.items():
            if strategy not in HAND_OVER or not enters(strategy, self.verification):
                continue
            per = r.straw_entries_per_week if strategy == "straw_names" else r.verified_entries_per_week
            if strategy == "sim_farm" and self.verification == "phone":
                live = sum(1 for q in self.of_reseller[rid] if q.open)
                per = min(per, max(0, r.sim_cards * self.policy.max_requests_per_phone - live))
            for k in range(per):
                key = identity_key(self.pepper, f"{strategy}{rid}W{day}N{k}", BIRTH_DATE)
                self.filings += 1
                request = _Request(f"E{self.filings}", None, key, day, reseller=rid, strategy=strategy)
                self.requests[request.entry] = request
                self.active[key] = request
                self.of_reseller[rid].append(request)
                self._spend(rid, strategy, self._unit_cost(strategy))

    def _forge(self, day: int) -> None:
        """Resellers selling forged expiry evidence: a buyer declares a permit expiring within 20 days.

        It adds to a buyer's chance only where urgency weighs, and only when the check misses it
        (``[desk] detection``): the buyer counts that in what they pay."""
        r = self.s.resellers
        last = self.last_release_draw
        if not self.weighted or last is None:
            return
        miss = 1 - self.s.desk.detection
        sold: set[int] = set()
        for rid, strategy in self.playing.items():
            if strategy != "forged_urgency":
                continue
            candidates = [p for p in self.waiting.values() if p.pid not in self.forged and p.knows_reseller]
            self.rng.shuffle(candidates)
            count = 0
            for person in candidates:
                if count >= r.bookings_per_week:
                    break
                if person.pid in sold:
                    continue
                forged = self._forged_chance(person, day, last)
                own = self.chance(person)
                added = miss * added_chance(own, forged)
                value = person.willingness_to_pay(day, self.s.applicants.urgent_premium) * added
                if value < self.prices[rid]:
                    continue
                count += 1
                sold.add(person.pid)
                self.forged[person.pid] = day + 20
                self._spend(rid, strategy, r.forgery_eur)
                self._sell(rid, strategy, person, day)

    def _forged_chance(self, person: Person, day: int, last: DrawStat) -> float:
        """A person's chance per release if a forged date within 20 days counted."""
        weight = weigh(
            policy=self.policy,
            start=self.m.start,
            day=day,
            declared_expiry_day=day + 20,
            vulnerable=person.vulnerable,
            draws_lost=0,
            last_no_show_day=None,
            claims={
                ClaimKind.PERMIT_EXPIRY: ClaimStatus.CONFIRMED,
                ClaimKind.VULNERABILITY: ClaimStatus.CONFIRMED,
            },
        )
        return min(1.0, last.slots * float(weight.total) / max(last.total_weight, 1e-9))

    def _entries(self, day: int) -> tuple[list[lottery.DrawEntry], dict[str, _Request]]:
        """The draw's entries: open requests filed before the draw day (the uniform lottery: every submission)."""
        entries: list[lottery.DrawEntry] = []
        owner: dict[str, _Request] = {}
        self._weights: dict[str, Weight] = {}
        one = Decimal(1)
        for request in self.active.values():
            if request.submitted_day >= day:
                continue
            person = self.by_pid[request.pid] if request.pid is not None else None
            if not self.weighted:
                copies = 1 if person is None or self.bound else person.unbound_entries
                for k in range(copies):
                    name = f"{request.entry}.{k}"
                    entries.append(lottery.DrawEntry(name, one))
                    owner[name] = request
                continue
            if person is None:
                # Invented names claim urgency; rented people are real and declare their real, distant date.
                declared = None if request.strategy == "identity_rental" else day + 20
            else:
                declared = self.forged.get(person.pid, person.declared_expiry_day)
            permit = self._registry_status(person, declared) if self.before_draw else ClaimStatus.DECLARED
            # The weight depends on the days left (clipped: beyond the widest band, or past, all alike), the
            # draws lost (up to the cap) and whether a no-show is recent: one computation per class, reused.
            left = None if declared is None else min(max(declared - day, -1), self.widest_band + 1)
            missed = self.last_no_show.get(request.identity)
            recent = missed is not None and day - missed <= self.policy.no_show_window_days
            key = (left, bool(person and person.vulnerable), min(request.lost, self.lost_cap), recent, permit)
            weight = self.weight_cache.get(key)
            if weight is None:
                weight = self.weight_cache[key] = weigh(
                    policy=self.policy,
                    start=self.m.start,
                    day=day,
                    declared_expiry_day=None if left is None else day + left,
                    vulnerable=key[1],
                    draws_lost=key[2],
                    last_no_show_day=missed if recent else None,
                    # A verifier sees a vulnerable person's evidence before the draw.
                    claims={ClaimKind.PERMIT_EXPIRY: permit, ClaimKind.VULNERABILITY: ClaimStatus.CONFIRMED},
                )
            entries.append(lottery.DrawEntry(request.entry, weight.total))
            owner[request.entry] = request
            self._weights[request.entry] = weight
        return entries, owner

    def _registry_status(self, person: Person | None, declared: int | None) -> ClaimStatus:
        """What the office's permit registry says of a declared expiry before the draw (``claims import``).

        The registry holds the real date of every permit the office issued: an honest declaration is
        confirmed, a false or forged one refuted when the check catches it (``[desk] detection``; refuted
        counts 1, with no penalty: it won nothing), and an invented document is not in it (the claim stays
        declared and counts 1)."""
        if person is None:
            return ClaimStatus.DECLARED
        false = declared is not None and (person.expiry_day is None or declared < person.expiry_day)
        if false and self.caught[person.pid]:
            return ClaimStatus.REFUTED
        return ClaimStatus.CONFIRMED

    def _draw(self, day: int, slots: list[Slot]) -> None:
        weighted = self.weighted
        entries, owner = self._entries(day)
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
        total = sum(float(e.weight) for e in entries)
        stat = DrawStat(day, len(slots), len(entries), total, release=len(slots) >= self.m.slots_per_week)
        if weighted:
            self.draws.append(stat)
        if stat.release:
            # Each person's own chance per release, for what a purchase would add to it.
            self.last_release_draw = stat
            self.chance_per_release = min(1.0, stat.slots / max(total, 1e-9))
            weight_of: dict[int, float] = defaultdict(float)
            for e in entries:
                request = owner[e.entry]
                if request.pid is not None:
                    weight_of[request.pid] += float(e.weight)
            self.own_chance = {pid: min(1.0, stat.slots * w / total) for pid, w in weight_of.items()}
        ttl = self.m.offer_ttl_days
        won: set[int] = set()
        held_by: dict[int, list[tuple[Slot, str]]] = defaultdict(list)
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
                assert request.reseller is not None
                if self.bound and not self.first_come_returns:
                    # Bound to the straw identity: a buyer's document does not open it, and a cancelled
                    # slot returns to the next draw, never to the buyer. The reseller lets it go.
                    assert not same_document(self.pepper, request.identity, "BUYER", BIRTH_DATE)
                    self.returned.append((day + ttl, slot))
                else:
                    # Unbound: the confirmation is handed over. Returned slots first come: cancelled at
                    # an agreed second, the reseller's bot books it in the buyer's name.
                    held_by[request.reseller].append((slot, request.strategy))
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
                self.policy,
                self._as_declared(person),
                booking.won_with,
                self.m.start + timedelta(days=day),
                self.m.start,
            ):
                self.outcomes[person.pid].false_claim_wins += 1
            self.book(person, slot, booking)
            self._ask_confirmation(booking, day)
        r = self.s.resellers
        bought: set[int] = set()
        for rid, their in held_by.items():
            buyers = self.buyers(day, self.prices[rid], bought | won)
            for slot, strategy in their:
                if buyers and self.rng.random() < r.transfer_success:
                    buyer = buyers.pop()
                    bought.add(buyer.pid)
                    self._sell(rid, strategy, buyer, day)
                    if self.first_come_returns:
                        self._book_first_come(buyer, slot, day)
                    else:
                        self.book(buyer, slot, _Booking(slot, None, buyer.pid))
                else:
                    self.returned.append((day + (0 if self.first_come_returns else ttl), slot))


def run_all(
    scenario: Scenario,
    people: list[Person],
    seed: int,
    mechanisms: Iterable[str] = MECHANISMS,
    strategy: str | None = None,
) -> dict[str, Result]:
    """Every mechanism on the same people (resellers adapting, or all playing ``strategy``)."""
    return {name: run(name, scenario, people, seed, strategy) for name in mechanisms}
