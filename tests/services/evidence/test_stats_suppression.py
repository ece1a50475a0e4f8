"""Complementary suppression of the public statistics: no suppressed count of somebody (1 to 4) can be
recovered from the cells an item publishes.

The reader here is an integer program (scipy's ``milp``), written apart from the service's rule: it knows
every published value, every sum that ties the figures (months and bands against the totals, channels and
methods against the pending count, ``verified_share`` x ``pending``, the booking statuses against the
accepted count, an offer never above its entries), that counts are whole and never negative; a count is
recovered when no other value fits.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from scipy.optimize import Bounds, LinearConstraint, milp

from app.db.models import Office, Service
from app.domain import suppression
from app.schemas.stats import StatsItem
from app.services.evidence import stats
from app.services.evidence.stats import BANDS
from tests.strategies import StatsCase, stats_cases

METHODS = ("phone", "counter", "partner", "registry", "none")
STATUSES = ("attended", "no_show", "forfeited", "released")


def _item(case: StatsCase) -> StatsItem:
    office = Office(id=1, code="paris", name="Paris", timezone="Europe/Paris")
    service = Service(
        id=1, code="titre", name="Titre", slot_minutes=30, weight_policy={"entry_verification": case.policy}
    )
    return stats._item(office, service, case.draws, case.requests, case.bookings, None)


class Reader:
    """Integer unknowns, equalities and bounds: what a reader of one item can set up."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.rows: list[tuple[dict[str, float], float, float]] = []

    def var(self, name: str) -> str:
        if name not in self.names:
            self.names.append(name)
        return name

    def equal(self, terms: dict[str, float], value: float = 0.0) -> None:
        self.rows.append(({self.var(k): v for k, v in terms.items()}, value, value))

    def at_most(self, terms: dict[str, float], value: float) -> None:
        self.rows.append(({self.var(k): v for k, v in terms.items()}, -np.inf, value))

    def other_value_fits(self, name: str, value: int) -> bool:
        index = {n: i for i, n in enumerate(self.names)}
        for low, high in ((0, value - 1), (value + 1, np.inf)):
            if high < low:
                continue
            matrix = np.zeros((len(self.rows), len(self.names)))
            lower, upper = [], []
            for row, (terms, lo, hi) in enumerate(self.rows):
                for key, coefficient in terms.items():
                    matrix[row, index[key]] = coefficient
                lower.append(lo)
                upper.append(hi)
            bounds_low = np.zeros(len(self.names))
            bounds_high = np.full(len(self.names), np.inf)
            bounds_low[index[name]], bounds_high[index[name]] = low, high
            found = milp(
                c=np.zeros(len(self.names)),
                constraints=LinearConstraint(matrix, lower, upper),
                integrality=np.ones(len(self.names)),
                bounds=Bounds(bounds_low, bounds_high),
            )
            if found.status == 0:
                return True
        return False


def _reader(item: StatsItem, case: StatsCase) -> tuple[Reader, dict[str, tuple[int | None, int]]]:
    """The reader's program, and each cell's (published value, true value)."""
    reader = Reader()
    counted = {m.month for m in item.by_month if m.entries is not None}
    counted_offers = {m.month for m in item.by_month if m.offered is not None}
    true_bands = {(b, k): 0 for b in BANDS for k in ("entries", "offered")}
    for d in case.draws:
        for band, counts in d.by_band.items():
            if d.month in counted:
                true_bands[(band, "entries")] += counts["entries"]
            if d.month in counted_offers:
                true_bands[(band, "offered")] += counts["offered"]
    requests, bookings = case.requests, case.bookings
    cells: dict[str, tuple[int | None, int]] = {
        "entries": (item.entries, sum(true_bands[(b, "entries")] for b in BANDS)),
        "offered": (item.offered, sum(true_bands[(b, "offered")] for b in BANDS)),
        **{
            f"band:{u.band}:{k}": (getattr(u, k), true_bands[(u.band, k)])
            for u in item.by_urgency
            for k in ("entries", "offered")
        },
        "pending": (item.requests.pending, requests["pending"]),
        **{f"channel:{c}": (n, requests[f"channel:{c}"]) for c, n in item.requests.by_channel.items()},
        **{f"method:{m}": (n, requests[f"method:{m}"]) for m, n in item.requests.by_method.items()},
        "lapsed": (item.requests.lapsed, requests["lapsed"]),
        "accepted": (item.accepted, bookings["accepted"]),
        **{s: (getattr(item, s), bookings[s]) for s in STATUSES},
        **{
            f"claims:{s}": (getattr(item.claims, s), requests[f"claims:{s}"])
            for s in ("declared", "confirmed", "not_evidenced", "refuted")
        },
    }
    for name, (shown, _true) in cells.items():
        reader.var(name)
        if shown is not None:
            reader.equal({name: 1}, shown)
    for kind in ("entries", "offered"):
        reader.equal({kind: 1, **{f"band:{b}:{kind}": -1 for b in BANDS}})
    for band in BANDS:
        reader.at_most({f"band:{band}:offered": 1, f"band:{band}:entries": -1}, 0)
    reader.equal({"pending": 1, **{f"channel:{c}": -1 for c in ("online", "counter", "partner")}})
    reader.equal({"verified": 1, **{f"method:{m}": -1 for m in METHODS}})
    reader.equal({"pending": 1, "verified": -1, "unverified": -1})
    reader.equal({"channel:counter": 1, "method:counter": -1})
    reader.equal({"channel:partner": 1, "method:partner": -1})
    if case.policy == "none":
        reader.equal({"unverified": 1}, 0)
    share = item.requests.verified_share
    if share is not None and item.requests.pending is not None:
        reader.equal({"verified": 1}, round(share * item.requests.pending))
    reader.equal({"accepted": 1, **dict.fromkeys(STATUSES, -1), "booked_or_cancelled": -1})
    return reader, cells


@given(stats_cases())
def test_no_suppressed_count_of_somebody_can_be_recovered_from_what_an_item_publishes(
    case: StatsCase,
) -> None:
    item = _item(case)
    reader, cells = _reader(item, case)

    for name, (shown, true) in cells.items():
        assert shown is None or shown == true, name
        if shown is None and 0 < true < stats.MIN_COUNT:
            assert reader.other_value_fits(name, true), f"{name} = {true} can be recovered from {item}"


@given(stats_cases())
def test_a_month_below_five_is_left_out_of_every_total_so_no_window_reveals_it(case: StatsCase) -> None:
    item = _item(case)
    months = {m.month: m for m in item.by_month}

    assert item.entries in (None, sum(m.entries or 0 for m in months.values()))
    assert item.offered in (None, sum(m.offered or 0 for m in months.values()))


def test_the_three_recoveries_of_the_review_no_longer_work() -> None:
    cells = {"total": 23, "october": 3, "november": 20}
    assert suppression.suppress(cells, [suppression.Sum("total", ("october", "november"))], minimum=5) == {
        "october",
        "november",
    }
    bands = {"entries": 40, "within_30_days": 2, "later": 18, "no_expiry": 20}
    hidden = suppression.suppress(
        bands, [suppression.Sum("entries", ("within_30_days", "later", "no_expiry"))], minimum=5
    )
    assert hidden == {"within_30_days", "later"}
    verified = {"pending": 12, "verified": 3, "unverified": 9, "phone": 3}
    hidden = suppression.suppress(
        verified,
        [suppression.Sum("pending", ("verified", "unverified")), suppression.Sum("verified", ("phone",))],
        minimum=5,
        hidden={"unverified"},
    )
    assert "verified" in hidden
