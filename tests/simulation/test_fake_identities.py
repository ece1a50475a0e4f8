"""Fake-identity bots in the simulation: without verification a flood dilutes real applicants' chance in
proportion; with it, the entries a bot can verify are capped by its phone numbers."""

from __future__ import annotations

from app.simulation import fakes


def test_verification_caps_the_dilution_whatever_the_flood():
    points = fakes.run(real=300, slots=30, seed=1, trials=10, multiples=(10, 100, 1000), phones=50)
    baseline = points[0].chance_no_flood
    assert 0.08 < baseline < 0.12
    without = [p.chance_without for p in points]
    assert without[0] < baseline / 5 and without[1] < without[0] and without[2] <= without[1]
    for point in points:
        assert point.fakes_entered_verified == 150  # 50 numbers x 3 requests each
        assert point.chance_with > baseline / 2
        assert point.slots_to_fakes_with < point.slots_to_fakes_without
