"""Claims: what an applicant declared that would raise their weight, and when it may count.

A factor above 1 that rests on a declaration (a permit's expiry date, a vulnerability) is a **claim**. Every
claim has a status: ``declared`` (nobody checked it yet), ``confirmed``, ``not_evidenced`` (the desk could
not judge a vulnerability) or ``refuted``. Whether a claim raises a weight depends on its status and on the
service's policy:

- ``verify_claims: "at_desk"`` (the default): a declared claim counts in the draw, and the desk must give a
  verdict on it before the booking it won is honoured; ``confirmed`` counts; ``refuted`` counts 1.
- ``verify_claims: "before_draw"``: only a ``confirmed`` claim counts; until then its factor is at most 1.
- A person whose vulnerability the desk could not judge (``not_evidenced``) is *strict* for that service from
  then on: their vulnerability claims count only once confirmed, whatever the policy.

A declared factor at or below 1 is not a claim in the design's sense (it does not raise anything), so it
applies as declared: nobody gains by waiting for its verification. This keeps the two promises of the rule:
an unconfirmed claim never raises a weight where verification comes first, and confirming never lowers one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class ClaimKind(StrEnum):
    """What a claim is about."""

    PERMIT_EXPIRY = "permit_expiry"
    VULNERABILITY = "vulnerability"


class ClaimStatus(StrEnum):
    """Where a claim stands."""

    DECLARED = "declared"
    CONFIRMED = "confirmed"
    NOT_EVIDENCED = "not_evidenced"
    REFUTED = "refuted"


class VerifyClaims(StrEnum):
    """When a service verifies claims."""

    AT_DESK = "at_desk"
    BEFORE_DRAW = "before_draw"


#: The verdicts each kind of claim accepts at the desk (a permit date is read on the document: no doubt).
DESK_VERDICTS: dict[ClaimKind, frozenset[ClaimStatus]] = {
    ClaimKind.PERMIT_EXPIRY: frozenset({ClaimStatus.CONFIRMED, ClaimStatus.REFUTED}),
    ClaimKind.VULNERABILITY: frozenset(
        {ClaimStatus.CONFIRMED, ClaimStatus.NOT_EVIDENCED, ClaimStatus.REFUTED}
    ),
}
#: The verdicts a verifier (or a registry import) gives before the draw.
VERIFIER_VERDICTS = frozenset({ClaimStatus.CONFIRMED, ClaimStatus.REFUTED})


@dataclass(frozen=True, slots=True)
class Declared:
    """One claim as declared: its kind, the declared value and its status."""

    kind: ClaimKind
    value: Any  # an ISO date string for permit_expiry, a sorted list of kinds for vulnerability
    status: ClaimStatus = ClaimStatus.DECLARED


def declared_claims(permit_expires_on: date | None, vulnerabilities: Sequence[str]) -> list[Declared]:
    """The claims a request's declarations make (one per declared factor), all ``declared``."""
    claims = []
    if permit_expires_on is not None:
        claims.append(Declared(ClaimKind.PERMIT_EXPIRY, permit_expires_on.isoformat()))
    if vulnerabilities:
        claims.append(Declared(ClaimKind.VULNERABILITY, sorted(set(vulnerabilities))))
    return claims


def may_raise(status: ClaimStatus | str | None, *, verify: VerifyClaims | str, strict: bool = False) -> bool:
    """Whether a claim in ``status`` may raise a weight under the policy (``strict``: not-evidenced before)."""
    if status is None or status == ClaimStatus.CONFIRMED:
        return status == ClaimStatus.CONFIRMED
    if status != ClaimStatus.DECLARED:
        return False  # refuted or not evidenced: counts 1
    return verify == VerifyClaims.AT_DESK and not strict


def check_verdict(current: ClaimStatus | str, verdict: ClaimStatus | str) -> bool:
    """Whether ``verdict`` changes a claim in ``current`` (False: the same verdict again, a no-op).

    A decided claim stays decided (a claim confirmed once stays confirmed for its request): another verdict
    on it is refused by the caller.
    """
    if current == ClaimStatus.DECLARED:
        return True
    if current == verdict:
        return False
    raise ValueError(f"the claim is already {current}")


def still_to_check(counted_unconfirmed: Iterable[str], statuses: Mapping[str, str]) -> list[str]:
    """The claims the desk must judge before admitting a booking: those its winning weight counted while
    they were not confirmed (``counted_unconfirmed``, from the draw entry) and that are still not confirmed
    (``statuses``: each declared claim's status by kind)."""
    return [
        kind for kind in counted_unconfirmed if kind in statuses and statuses[kind] != ClaimStatus.CONFIRMED
    ]
