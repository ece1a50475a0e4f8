"""Urgency weights: the default policy of the design, per-service overrides, and the reasons shown.

The weight is the product of its factors, rounded to 4 decimals. Every factor carries why it applies twice:
a stable ``code`` with its ``params`` (what pages render in the reader's language, and what a client can
rely on), and the same explanation as a plain English ``reason`` for an applicant or an auditor reading the
JSON. The codes, and the params each carries:

=========================  ==========================================================
``no_expiry_date``         (none)
``permit_expired``         ``days`` (since the expiry)
``permit_expires_within``  ``days`` (left), ``within_days`` (the band that applies)
``permit_expires_later``   ``days`` (left; no band applies)
``vulnerability_declared`` ``vulnerabilities`` (the declared codes, sorted)
``no_vulnerability``       (none)
``no_draw_lost``           (none)
``draws_lost``             ``draws`` (entered and not won), ``capped`` (the cap applies)
``no_show_within``         ``missed_on`` (ISO date), ``window_days``
``no_no_show``             ``window_days``
=========================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

FOUR_PLACES = Decimal("0.0001")
ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class ExpiryBand:
    """Permits expiring within ``within_days`` of the draw (or already expired) get ``multiplier``."""

    within_days: int
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class WeightPolicy:
    """The weighting rules of one service (the design's default table unless overridden)."""

    expiry_bands: tuple[ExpiryBand, ...] = (
        ExpiryBand(30, Decimal(4)),
        ExpiryBand(60, Decimal(3)),
        ExpiryBand(90, Decimal(2)),
    )
    vulnerability: Decimal = Decimal("1.5")
    waiting_step: Decimal = Decimal("0.25")
    waiting_cap: Decimal = Decimal(3)
    no_show: Decimal = Decimal("0.5")
    no_show_window_days: int = 180

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None) -> WeightPolicy:
        """The default policy with a service's overrides applied (validated at the API edge)."""
        if not overrides:
            return cls()
        changes: dict[str, Any] = {}
        if (bands := overrides.get("expiry_bands")) is not None:
            parsed = tuple(ExpiryBand(int(b["within_days"]), Decimal(str(b["multiplier"]))) for b in bands)
            changes["expiry_bands"] = tuple(sorted(parsed, key=lambda b: b.within_days))
        for name in ("vulnerability", "waiting_step", "waiting_cap", "no_show"):
            if (value := overrides.get(name)) is not None:
                changes[name] = Decimal(str(value))
        if (window := overrides.get("no_show_window_days")) is not None:
            changes["no_show_window_days"] = int(window)
        return replace(cls(), **changes)

    def as_dict(self) -> dict[str, Any]:
        """The policy as plain JSON-ready data (decimals as plain strings, e.g. "1.5", "100")."""
        return {
            "expiry_bands": [
                {"within_days": b.within_days, "multiplier": plain(b.multiplier)} for b in self.expiry_bands
            ],
            "vulnerability": plain(self.vulnerability),
            "waiting_step": plain(self.waiting_step),
            "waiting_cap": plain(self.waiting_cap),
            "no_show": plain(self.no_show),
            "no_show_window_days": self.no_show_window_days,
        }


def plain(value: Decimal) -> str:
    """A decimal as plain text, without trailing zeros or exponent ("1.50" -> "1.5", "1E+2" -> "100")."""
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Factor:
    """One multiplier of a weight and why it applies (``code`` and ``params``; ``reason`` in English)."""

    name: str
    value: Decimal
    reason: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Weight:
    """A weight as of one day: the rounded product and its factors."""

    total: Decimal
    factors: tuple[Factor, ...] = field(default_factory=tuple)


def compute_weight(
    *,
    policy: WeightPolicy,
    on: date,
    permit_expires_on: date | None,
    vulnerabilities: Sequence[str] = (),
    draws_lost: int = 0,
    last_no_show_on: date | None = None,
) -> Weight:
    """The weight of a request as of ``on`` (the intake day or the draw date)."""
    factors = (
        _expiry_factor(policy, on, permit_expires_on),
        _vulnerability_factor(policy, vulnerabilities),
        _waiting_factor(policy, draws_lost),
        _no_show_factor(policy, on, last_no_show_on),
    )
    total = ONE
    for factor in factors:
        total *= factor.value
    return Weight(total=total.quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN), factors=factors)


def _expiry_factor(policy: WeightPolicy, on: date, expires: date | None) -> Factor:
    if expires is None:
        return Factor("expiry", ONE, "no permit expiry date given", "no_expiry_date")
    days_left = (expires - on).days
    for band in policy.expiry_bands:
        if days_left <= band.within_days:
            if days_left < 0:
                reason = f"permit expired {-days_left} days ago"
                return Factor("expiry", band.multiplier, reason, "permit_expired", {"days": -days_left})
            reason = f"permit expires in {days_left} days (within {band.within_days})"
            params = {"days": days_left, "within_days": band.within_days}
            return Factor("expiry", band.multiplier, reason, "permit_expires_within", params)
    reason = f"permit expires in {days_left} days"
    return Factor("expiry", ONE, reason, "permit_expires_later", {"days": days_left})


def _vulnerability_factor(policy: WeightPolicy, vulnerabilities: Sequence[str]) -> Factor:
    if vulnerabilities:
        codes = sorted(set(vulnerabilities))
        return Factor(
            "vulnerability",
            policy.vulnerability,
            f"declared vulnerability ({', '.join(codes)}), checked at the desk",
            "vulnerability_declared",
            {"vulnerabilities": codes},
        )
    return Factor("vulnerability", ONE, "no vulnerability declared", "no_vulnerability")


def _waiting_factor(policy: WeightPolicy, draws_lost: int) -> Factor:
    value = min(ONE + policy.waiting_step * draws_lost, policy.waiting_cap)
    if draws_lost == 0:
        return Factor("waiting", value, "no draw entered and lost yet", "no_draw_lost")
    capped = value == policy.waiting_cap
    reason = f"{draws_lost} draws entered and not won{' (capped)' if capped else ''}"
    return Factor("waiting", value, reason, "draws_lost", {"draws": draws_lost, "capped": capped})


def _no_show_factor(policy: WeightPolicy, on: date, last_no_show_on: date | None) -> Factor:
    window_start = on - timedelta(days=policy.no_show_window_days)
    if last_no_show_on is not None and last_no_show_on >= window_start:
        window = policy.no_show_window_days
        return Factor(
            "no_show",
            policy.no_show,
            f"missed appointment on {last_no_show_on.isoformat()} (within {window} days)",
            "no_show_within",
            {"missed_on": last_no_show_on.isoformat(), "window_days": window},
        )
    reason = f"no missed appointment in {policy.no_show_window_days} days"
    return Factor("no_show", ONE, reason, "no_no_show", {"window_days": policy.no_show_window_days})
