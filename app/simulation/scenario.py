"""A simulated market's parameters, read from a TOML file (``default.toml`` ships in this package).

Every figure of the model is a parameter with a comment in the file, so a reader can see what was assumed
and change it. Unknown sections or keys are refused: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from app.domain import confirmation
from app.domain.claims import VerifyClaims
from app.domain.weights import WeightPolicy
from app.simulation.adversaries.strategies import STRATEGIES
from app.simulation.people import KINDS

DEFAULT_SCENARIO = "default.toml"


class ScenarioError(ValueError):
    """A scenario file that cannot be used (the message names the key)."""


@dataclass(frozen=True)
class Market:
    """The releases: when, how many slots, how offers and returned slots are handled."""

    start: date = date(2027, 1, 4)
    weeks: int = 16
    slots_per_week: int = 60
    oversubscription: float = 10.0
    arrivals_per_slot: float = 1.0
    lead_days: int = 7
    offer_ttl_days: int = 2
    redraw_after_days: int = 1


@dataclass(frozen=True)
class Applicants:
    """The applicant population every mechanism faces (the same people, drawn once per seed)."""

    no_permit_share: float = 0.3
    expiry_days: tuple[int, int] = (0, 240)
    vulnerable_share: float = 0.05
    no_show_probability: float = 0.06
    no_show_unconfirmed_share: float = 0.5
    poll_hours: tuple[float, float] = (1.0, 8.0)
    value_of_time_eur_per_day: tuple[float, float] = (2.0, 20.0)
    urgent_premium: float = 2.0
    reseller_reach: float = 0.5
    patience_weeks: float = 0.0


@dataclass(frozen=True)
class Resellers:
    """Resellers: the strategies they may play, their prices and costs (see ``app.simulation.adversaries``)."""

    count: int = 3
    strategies: tuple[str, ...] = STRATEGIES
    price_eur: tuple[float, float] = (100.0, 350.0)
    poll_seconds: float = 5.0
    bookings_per_week: int = 10
    straw_entries_per_week: int = 100
    verified_entries_per_week: int = 20
    transfer_success: float = 0.95
    cost_per_booking_eur: float = 2.0
    cost_per_entry_eur: float = 0.5
    sim_cards: int = 60
    sim_card_eur: float = 10.0
    rental_eur: float = 50.0
    forgery_eur: float = 30.0
    weekly_cost_eur: float = 50.0
    give_up_after_weeks: int = 4


@dataclass(frozen=True)
class Desk:
    """What the desk does with declared claims at check-in."""

    verification: str = "at_desk"
    detection: float = 1.0


@dataclass(frozen=True)
class Scenario:
    """One market to simulate under the three mechanisms."""

    market: Market = field(default_factory=Market)
    applicants: Applicants = field(default_factory=Applicants)
    #: Applicant kinds beyond honest ones: kind name -> its parameters (``share`` and the kind's own).
    agents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    resellers: Resellers = field(default_factory=Resellers)
    desk: Desk = field(default_factory=Desk)
    sweep: tuple[float, ...] = (1, 2, 3, 5, 7, 10, 15, 20)
    #: The service's ``weight_policy`` overrides, exactly as the API takes them (empty: the default policy).
    policy: Mapping[str, Any] = field(default_factory=dict)
    #: Bibliographic sources the file's comments cite as ``[src: key]``.
    sources: Mapping[str, str] = field(default_factory=dict)
    name: str = "default"

    def weight_policy(self) -> WeightPolicy:
        """The weight policy the Fairslot mechanism draws with; ``[desk] verification`` sets its
        ``verify_claims`` (``before_draw``: claims count once the registry confirmed them)."""
        verify = VerifyClaims.BEFORE_DRAW if self.desk.verification == "before_draw" else VerifyClaims.AT_DESK
        return replace(WeightPolicy.from_overrides(self.policy), verify_claims=verify)

    def confirm_window(self) -> confirmation.ConfirmWindow | None:
        """Fairslot's confirm-or-release window: the policy's ``confirm_window_days`` (default ``[7, 2]``)."""
        return confirmation.window_of(self.policy)

    def with_desk(self, *, verification: str | None = None, detection: float | None = None) -> Scenario:
        """The same scenario with claims checked otherwise (``[desk]``)."""
        desk = replace(
            self.desk,
            verification=self.desk.verification if verification is None else verification,
            detection=self.desk.detection if detection is None else float(detection),
        )
        return replace(self, desk=desk)

    def with_demand(self, oversubscription: float) -> Scenario:
        """The same scenario at another oversubscription."""
        return replace(self, market=replace(self.market, oversubscription=float(oversubscription)))

    def as_dict(self) -> dict[str, Any]:
        """The scenario as JSON-ready data (it heads ``summary.json``)."""
        data = asdict(self)
        data["market"]["start"] = self.market.start.isoformat()
        data["agents"] = {k: dict(v) for k, v in self.agents.items()}
        data["sources"] = dict(self.sources)
        return data


def load(path: Path | None = None) -> Scenario:
    """The scenario in ``path``, or the default one shipped with Fairslot."""
    if path is None:
        text = resources.files("app.simulation").joinpath(DEFAULT_SCENARIO).read_text(encoding="utf-8")
        name = "default"
    else:
        text = path.read_text(encoding="utf-8")
        name = path.stem
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{name}: not valid TOML ({exc})") from exc
    return parse(data, name=name)


def parse(data: Mapping[str, Any], *, name: str = "scenario") -> Scenario:
    """A scenario from parsed TOML data; raises ScenarioError naming the first bad key."""
    known = {"market", "applicants", "agents", "resellers", "desk", "sweep", "policy", "sources"}
    if unknown := set(data) - known:
        raise ScenarioError(f"unknown section(s): {', '.join(sorted(unknown))}")
    agents: dict[str, dict[str, Any]] = {}
    for kind, params in dict(data.get("agents", {})).items():
        if kind not in KINDS:
            raise ScenarioError(f"agents.{kind}: unknown applicant kind (known: {', '.join(sorted(KINDS))})")
        if not isinstance(params, Mapping) or not 0 <= float(params.get("share", 0)) <= 1:
            raise ScenarioError(f"agents.{kind}.share must be a number between 0 and 1")
        agents[kind] = dict(params)
    if sum(float(p.get("share", 0)) for p in agents.values()) > 1:
        raise ScenarioError("agents: the shares add up to more than 1")
    sweep = data.get("sweep", {}).get("oversubscription", Scenario.sweep)
    scenario = Scenario(
        market=_section(Market, data, "market"),
        applicants=_section(Applicants, data, "applicants"),
        agents=agents,
        resellers=_section(Resellers, data, "resellers"),
        desk=_section(Desk, data, "desk"),
        sweep=tuple(float(x) for x in sweep),
        policy=_policy(data.get("policy", {})),
        sources={str(k): str(v) for k, v in dict(data.get("sources", {})).items()},
        name=name,
    )
    _check(scenario)
    return scenario


def _policy(overrides: Mapping[str, Any]) -> dict[str, Any]:
    known = {*WeightPolicy().as_dict(), confirmation.POLICY_KEY}
    if unknown := set(overrides) - known:
        raise ScenarioError(f"policy: unknown key(s) {', '.join(sorted(unknown))}")
    if "verify_claims" in overrides:
        raise ScenarioError(
            'policy.verify_claims: set it as [desk] verification ("at_desk" or "before_draw")'
        )
    try:
        WeightPolicy.from_overrides(overrides)
        confirmation.window_of(overrides)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ScenarioError(f"policy: {exc}") from exc
    return dict(overrides)


def _section(cls: type[Any], data: Mapping[str, Any], section: str) -> Any:
    values = dict(data.get(section, {}))
    names = {f.name: f for f in fields(cls)}
    if unknown := set(values) - set(names):
        raise ScenarioError(f"{section}: unknown key(s) {', '.join(sorted(unknown))}")
    default = cls()
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        current = getattr(default, key)
        try:
            if key == "strategies":
                chosen = tuple(str(v) for v in value)
                if not chosen or set(chosen) - set(STRATEGIES):
                    raise ValueError(f"a non-empty list among {', '.join(STRATEGIES)}")
                parsed[key] = chosen
            elif isinstance(current, tuple):
                low, high = (type(current[0])(v) for v in value)
                if low > high:
                    raise ValueError("range must be [low, high]")
                parsed[key] = (low, high)
            elif isinstance(current, date):
                if not isinstance(value, date):
                    raise ValueError("a TOML date, e.g. 2027-01-04")
                parsed[key] = value
            else:
                parsed[key] = type(current)(value)
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"{section}.{key}: {exc}") from exc
    return cls(**parsed)


def _check(s: Scenario) -> None:
    m = s.market
    problems = []
    if m.weeks < 1 or m.slots_per_week < 1:
        problems.append("market.weeks and market.slots_per_week must be at least 1")
    if m.oversubscription <= 0 or m.arrivals_per_slot < 0:
        problems.append("market.oversubscription must be positive, market.arrivals_per_slot not negative")
    if not 1 <= m.offer_ttl_days < 7 or not 0 <= m.redraw_after_days < 7:
        problems.append("market: offer_ttl_days must be 1-6 and redraw_after_days 0-6")
    if m.lead_days < 7:
        problems.append("market.lead_days must be at least 7 (a release's slots follow its draw week)")
    if s.desk.verification not in {"at_desk", "before_draw", "off"}:
        problems.append('desk.verification must be "at_desk", "before_draw" or "off"')
    shares = ("no_permit_share", "vulnerable_share", "no_show_probability", "no_show_unconfirmed_share")
    for share in (*shares, "reseller_reach"):
        if not 0 <= getattr(s.applicants, share) <= 1:
            problems.append(f"applicants.{share} must be between 0 and 1")
    r = s.resellers
    counts = (
        "count",
        "bookings_per_week",
        "straw_entries_per_week",
        "verified_entries_per_week",
        "sim_cards",
    )
    costs = ("cost_per_booking_eur", "cost_per_entry_eur", "sim_card_eur", "rental_eur", "forgery_eur")
    for name in (*counts, *costs, "weekly_cost_eur", "give_up_after_weeks"):
        if getattr(r, name) < 0:
            problems.append(f"resellers.{name} must not be negative")
    if r.price_eur[0] < 0:
        problems.append("resellers.price_eur must not be negative")
    if not 0 <= s.resellers.transfer_success <= 1 or not 0 <= s.desk.detection <= 1:
        problems.append("resellers.transfer_success and desk.detection must be between 0 and 1")
    if problems:
        raise ScenarioError("; ".join(problems))
