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
``draw_days_lost``         ``days`` (draw days entered and not won), ``capped`` (the cap applies)
``no_show_within``         ``missed_on`` (ISO date), ``window_days``
``no_no_show``             ``window_days``
``office_cancelled``       ``cancelled_on`` (ISO date)
=========================  ==========================================================

Waiting is counted in **draw days**, not draws: the distinct office-local dates on which the request was
in a draw and offered nothing (:func:`draw_days_lost`). Listing more offices gives more chances on a date,
not a faster-growing weight; a date on which it won a slot (even a slot later given back) does not count.
A draw counts the dates before its own, so every draw of one date weighs a request alike whatever order
the offices draw in; the request's view counts the dates through today (today's lost draws show at once).

The ``office_cancelled`` factor appears only on a request whose booking or offer the office cancelled (a
closure of its day), until its next offer: it goes back to the queue ahead of the others.

A factor that rests on a claim the policy does not let count yet (see ``app.domain.claims``) is held at 1;
its params then add ``held_back``: the claim's status (``declared``, ``refuted`` or ``not_evidenced``). A
claim-backed factor that does count says why in ``claim_status``: ``confirmed``, or ``declared`` (it counts
now and is checked at the desk on the day of the appointment, ``verify_claims: "at_desk"``). So the value
shown and its reason never disagree: what does not count yet reads 1 with why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from app.domain.claims import ClaimKind, ClaimStatus, VerifyClaims, may_raise
from app.domain.verification import (
    DEFAULT_MAX_REQUESTS_PER_PHONE,
    DEFAULT_VERIFY_WITHIN_DAYS,
    REGISTRY_VERIFY_WITHIN_DAYS,
    EntryVerification,
)

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
    #: When claims are verified: ``at_desk`` (they count in the draw, the desk checks the winner's) or
    #: ``before_draw`` (they count only once a verifier or the registry confirmed them).
    verify_claims: VerifyClaims = VerifyClaims.AT_DESK
    #: How long a refuted claim at the desk excludes the identity and the person from the service.
    false_claim_exclusion_days: int = 180
    #: What an online request needs before it enters draws (``app.domain.verification``): a one-time code
    #: by SMS (``phone``, the default of new services) or nothing (``none``, the services older than the rule).
    entry_verification: EntryVerification = EntryVerification.PHONE
    max_requests_per_phone: int = DEFAULT_MAX_REQUESTS_PER_PHONE
    verify_within_days: int = DEFAULT_VERIFY_WITHIN_DAYS
    #: The multiplier of a request whose booking or offer the office cancelled, until its next offer.
    office_cancelled_factor: Decimal = Decimal(10)
    #: Whether an entrant not selected by a draw is also told by SMS (always by e-mail).
    sms_not_selected: bool = False

    @property
    def needs_phone(self) -> bool:
        """Whether online requests must be verified by a code before they count."""
        return self.entry_verification == EntryVerification.PHONE

    @property
    def needs_verification(self) -> bool:
        """Whether online requests count only once verified (by a code, or by the permit registry)."""
        return self.entry_verification != EntryVerification.NONE

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None) -> WeightPolicy:
        """The default policy with a service's overrides applied (validated at the API edge)."""
        if not overrides:
            return cls()
        changes: dict[str, Any] = {}
        if (bands := overrides.get("expiry_bands")) is not None:
            parsed = tuple(ExpiryBand(int(b["within_days"]), Decimal(str(b["multiplier"]))) for b in bands)
            changes["expiry_bands"] = tuple(sorted(parsed, key=lambda b: b.within_days))
        for name in ("vulnerability", "waiting_step", "waiting_cap", "no_show", "office_cancelled_factor"):
            if (value := overrides.get(name)) is not None:
                changes[name] = Decimal(str(value))
        if (window := overrides.get("no_show_window_days")) is not None:
            changes["no_show_window_days"] = int(window)
        if (verify := overrides.get("verify_claims")) is not None:
            changes["verify_claims"] = VerifyClaims(verify)
        if (exclusion := overrides.get("false_claim_exclusion_days")) is not None:
            changes["false_claim_exclusion_days"] = int(exclusion)
        if (entry := overrides.get("entry_verification")) is not None:
            changes["entry_verification"] = EntryVerification(entry)
            if changes["entry_verification"] == EntryVerification.REGISTRY:
                # Renewals wait for the next registry import: a month, not a week.
                changes["verify_within_days"] = REGISTRY_VERIFY_WITHIN_DAYS
        for name in ("max_requests_per_phone", "verify_within_days"):
            if (number := overrides.get(name)) is not None:
                changes[name] = int(number)
        if (texted := overrides.get("sms_not_selected")) is not None:
            changes["sms_not_selected"] = bool(texted)
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
            "verify_claims": self.verify_claims.value,
            "false_claim_exclusion_days": self.false_claim_exclusion_days,
            "entry_verification": self.entry_verification.value,
            "max_requests_per_phone": self.max_requests_per_phone,
            "verify_within_days": self.verify_within_days,
            "office_cancelled_factor": plain(self.office_cancelled_factor),
            "sms_not_selected": self.sms_not_selected,
        }


def plain(value: Decimal) -> str:
    """A decimal as plain text, without trailing zeros or exponent ("1.50" -> "1.5", "1E+2" -> "100")."""
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Factor:
    """One multiplier of a weight and why it applies (``code`` and ``params``; ``reason`` in English);
    ``claim`` names the claim it rests on, if any, and ``claim_status`` that claim's status."""

    name: str
    value: Decimal
    reason: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    claim: str | None = None
    claim_status: str | None = None


@dataclass(frozen=True, slots=True)
class Weight:
    """A weight as of one day: the rounded product and its factors."""

    total: Decimal
    factors: tuple[Factor, ...] = field(default_factory=tuple)

    @property
    def unconfirmed_claims(self) -> tuple[str, ...]:
        """The claims that raised this weight without being confirmed (the desk must judge them)."""
        return tuple(
            f.claim
            for f in self.factors
            if f.claim is not None and f.value > ONE and f.claim_status != ClaimStatus.CONFIRMED
        )


def compute_weight(
    *,
    policy: WeightPolicy,
    on: date,
    permit_expires_on: date | None,
    vulnerabilities: Sequence[str] = (),
    draws_lost: int = 0,
    last_no_show_on: date | None = None,
    claims: Mapping[str, str] | None = None,
    strict_vulnerability: bool = False,
    office_cancelled_on: date | None = None,
) -> Weight:
    """The weight of a request as of ``on`` (the intake day or the draw date); ``draws_lost`` counts draw
    days (:func:`draw_days_lost`).

    ``claims`` maps each claim kind to its status (a declaration without an entry is ``declared``);
    ``strict_vulnerability``: the person's vulnerability counts only once confirmed (see ``claims``);
    ``office_cancelled_on``: the day the office cancelled its booking or offer, if it has had no offer since.
    """
    statuses = claims or {}
    permit_status = statuses.get(ClaimKind.PERMIT_EXPIRY, ClaimStatus.DECLARED)
    vulnerability_status = statuses.get(ClaimKind.VULNERABILITY, ClaimStatus.DECLARED)
    factors: tuple[Factor, ...] = (
        _as_claim(
            _expiry_factor(policy, on, permit_expires_on),
            ClaimKind.PERMIT_EXPIRY if permit_expires_on is not None else None,
            permit_status,
            policy.verify_claims,
            strict=False,
        ),
        _as_claim(
            _vulnerability_factor(policy, vulnerabilities),
            ClaimKind.VULNERABILITY if vulnerabilities else None,
            vulnerability_status,
            policy.verify_claims,
            strict=strict_vulnerability,
        ),
        _waiting_factor(policy, draws_lost),
        _no_show_factor(policy, on, last_no_show_on),
    )
    if office_cancelled_on is not None:
        factors += (_office_cancelled_factor(policy, office_cancelled_on),)
    total = ONE
    for factor in factors:
        total *= factor.value
    return Weight(total=total.quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN), factors=factors)


_COUNTS = {
    ClaimStatus.CONFIRMED: "the claim is confirmed",
    ClaimStatus.DECLARED: "counts now; checked at the desk on the day of the appointment",
}

_HELD_BACK = {
    ClaimStatus.DECLARED: "not counted until the claim is confirmed",
    ClaimStatus.REFUTED: "not counted: the claim was refuted",
    ClaimStatus.NOT_EVIDENCED: "not counted: the claim was not evidenced",
}


def _as_claim(
    factor: Factor, kind: ClaimKind | None, status: str, verify: VerifyClaims, *, strict: bool
) -> Factor:
    """The factor as its claim's status allows: above 1 only when the claim may raise a weight."""
    if kind is None:
        return factor
    if factor.value <= ONE:
        return replace(factor, claim=kind.value, claim_status=status)
    if may_raise(status, verify=verify, strict=strict):
        counts = _COUNTS.get(ClaimStatus(status), "")
        return replace(
            factor,
            reason=f"{factor.reason}; {counts}" if counts else factor.reason,
            params={**factor.params, "claim_status": status},
            claim=kind.value,
            claim_status=status,
        )
    held = _HELD_BACK.get(ClaimStatus(status), "not counted")
    return replace(
        factor,
        value=ONE,
        reason=f"{factor.reason}; {held}",
        params={**factor.params, "held_back": status},
        claim=kind.value,
        claim_status=status,
    )


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
            f"declared vulnerability ({', '.join(codes)})",
            "vulnerability_declared",
            {"vulnerabilities": codes},
        )
    return Factor("vulnerability", ONE, "no vulnerability declared", "no_vulnerability")


def draw_days_lost(entries: Iterable[tuple[date, bool]]) -> int:
    """The waiting count of a request from its draws as ``(office-local draw date, offered)``: the distinct
    dates it entered a draw on and was offered nothing."""
    entered: set[date] = set()
    won: set[date] = set()
    for day, offered in entries:
        entered.add(day)
        if offered:
            won.add(day)
    return len(entered - won)


def _waiting_factor(policy: WeightPolicy, days_lost: int) -> Factor:
    value = min(ONE + policy.waiting_step * days_lost, policy.waiting_cap)
    if days_lost == 0:
        return Factor("waiting", value, "no draw entered and lost yet", "no_draw_lost")
    capped = value == policy.waiting_cap
    reason = f"{days_lost} draw days entered and not won{' (capped)' if capped else ''}"
    return Factor("waiting", value, reason, "draw_days_lost", {"days": days_lost, "capped": capped})


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


def _office_cancelled_factor(policy: WeightPolicy, cancelled_on: date) -> Factor:
    return Factor(
        "office_cancelled",
        policy.office_cancelled_factor,
        f"the office cancelled this request's appointment or offer on {cancelled_on.isoformat()}",
        "office_cancelled",
        {"cancelled_on": cancelled_on.isoformat()},
    )
