"""One small scenario through the real services (API, database, draws) and through the simulation's engine.

The simulation weighs entries with :func:`app.simulation.market.weigh` and draws them with the domain's
``run_draw``; the services do the same from their database rows. Two releases, applicants with and without
urgency and vulnerability, a declined offer (declining does not count as a lost draw), the losers of the
first draw aging in the second: the published records equal what the engine computes. Then the shipped
scenario's policy (urgency first, claims counted once a verifier confirmed them): the same agreement.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from app.domain.draws import lottery
from app.domain.weights import WeightPolicy
from app.simulation import scenario
from app.simulation.market import weigh
from tests.factories import World, auth, create_key, create_service, days_from

# (days to permit expiry from the first draw, or None; vulnerable)
APPLICANTS = [(10, False), (45, False), (80, True), (None, False), (None, True), (200, False), (-5, False)]


def _draw(world: World, release: dict) -> dict:
    response = world.client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
    assert response.status_code == 200, response.text
    record = world.client.get(f"/api/v1/draws/{response.json()['draw_id']}")
    assert record.status_code == 200
    return record.json()


def _engine(
    record: dict,
    inputs: dict[str, tuple[int | None, bool, int]],
    start: date,
    day: int,
    policy: WeightPolicy | None = None,
    claims: dict[str, dict[str, str]] | None = None,
) -> dict:
    """What the simulation's engine gives for the same entries, seed and slots (``claims``: per entry)."""
    weights = {
        entry: weigh(
            policy=policy or WeightPolicy(),
            start=start,
            day=day,
            declared_expiry_day=expiry,
            vulnerable=vulnerable,
            draws_lost=lost,
            last_no_show_day=None,
            claims=(claims or {}).get(entry),
        ).total
        for entry, (expiry, vulnerable, lost) in inputs.items()
    }
    results = lottery.run_draw(
        seed=bytes.fromhex(record["seed"]),
        beacon=record["beacon"],
        entries=[lottery.DrawEntry(entry, weight) for entry, weight in weights.items()],
        slots=[lottery.DrawSlot(s["slot"], _at(s["starts_at"])) for s in record["slots"]],
    )
    return {
        "weights": {e: format(w, "f") for e, w in weights.items()},
        "outcomes": {r.entry: (r.rank, r.outcome, r.slot) for r in results},
    }


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _published(record: dict) -> dict:
    return {
        "weights": {e["entry"]: e["weight"] for e in record["entries"]},
        "outcomes": {e["entry"]: (e["rank"], e["outcome"], e["slot"]) for e in record["entries"]},
    }


def test_the_engine_weighs_and_draws_exactly_as_the_services_over_two_releases(client, runtime, clock):
    world = World(client, runtime)
    first_day = (world.now + timedelta(hours=1)).date()  # the draw date (Paris and UTC agree at 09:00)
    people = {}
    for expiry, vulnerable in APPLICANTS:
        body: dict = {"vulnerabilities": ["disability"] if vulnerable else []}
        if expiry is not None:
            body["permit_expires_on"] = days_from(first_day, expiry)
        made = world.applicant(**body)
        people[made["entry"]] = (made, expiry, vulnerable)

    release = world.release(slots=3)
    clock.advance(timedelta(hours=2))
    record = _draw(world, release)
    inputs = {entry: (expiry, vulnerable, 0) for entry, (_m, expiry, vulnerable) in people.items()}
    assert _published(record) == _engine(record, inputs, first_day, 0)

    # One winner declines: it stays pending without a lost draw; the losers lost one.
    winners = [e["entry"] for e in record["entries"] if e["outcome"] == "offered"]
    decliner = people[winners[0]][0]
    declined = client.post(
        f"/api/v1/requests/{decliner['id']}/decline", headers=auth(decliner["access_code"])
    )
    assert declined.status_code == 200, declined.text

    clock.advance(timedelta(days=6))
    second = world.release(slots=2)
    clock.advance(timedelta(hours=2))
    record2 = _draw(world, second)
    day = (world.now.date() - first_day).days
    assert day == 6
    # Entries reference requests again pending: the two losers' of the first draw plus the decliner.
    pending = {e["entry"] for e in record2["entries"]}
    expected = {e["entry"] for e in record["entries"] if e["outcome"] != "offered"} | {winners[0]}
    assert pending == expected
    inputs2 = {
        entry: (people[entry][1], people[entry][2], 0 if entry == winners[0] else 1) for entry in pending
    }
    engine = _engine(record2, inputs2, first_day, day)
    assert _published(record2) == engine
    assert any(Decimal(w) != Decimal(record["entries"][0]["weight"]) for w in engine["weights"].values())


def test_the_engine_agrees_with_the_services_under_the_shipped_scenarios_policy(client, runtime, clock):
    """Urgency first, claims counted once confirmed before the draw: a verifier confirms some, refutes one,
    leaves others declared; the record equals the engine's, fed the same statuses."""
    shipped = scenario.load()
    policy = shipped.weight_policy()
    assert policy.verify_claims == "before_draw"
    world = World(client, runtime)
    world.service = create_service(
        client, world.admin, weight_policy={**shipped.policy, "verify_claims": "before_draw"}
    )["code"]
    verifier = create_key(runtime, "verifier", [world.office])
    first_day = (world.now + timedelta(hours=1)).date()
    # (expiry, vulnerable, the verifier's verdicts)
    cases = [
        (10, False, {"permit_expiry": "confirmed"}),
        (45, True, {"permit_expiry": "confirmed", "vulnerability": "confirmed"}),
        (20, False, {"permit_expiry": "refuted"}),
        (80, True, {}),
        (None, True, {"vulnerability": "confirmed"}),
        (None, False, {}),
    ]
    inputs, statuses = {}, {}
    for expiry, vulnerable, verdicts in cases:
        body: dict = {"vulnerabilities": ["disability"] if vulnerable else []}
        if expiry is not None:
            body["permit_expires_on"] = days_from(first_day, expiry)
        made = world.applicant(**body)
        for claim, verdict in verdicts.items():
            judged = client.post(
                f"/api/v1/requests/{made['id']}/claims",
                json={"claim": claim, "verdict": verdict},
                headers=auth(verifier),
            )
            assert judged.status_code == 200, judged.text
        inputs[made["entry"]] = (expiry, vulnerable, 0)
        statuses[made["entry"]] = {"permit_expiry": "declared", "vulnerability": "declared", **verdicts}
    release = world.release(slots=2)
    clock.advance(timedelta(hours=2))
    record = _draw(world, release)
    engine = _engine(record, inputs, first_day, 0, policy=policy, claims=statuses)
    assert _published(record) == engine
    # Only the confirmed urgency counted x100: the refuted and the declared dates weigh as no date.
    weights = {e: Decimal(w) for e, w in engine["weights"].items()}
    by_case = dict(zip(range(len(cases)), inputs, strict=True))
    assert weights[by_case[0]] == 100 and weights[by_case[1]] == Decimal("30")
    assert weights[by_case[2]] == 1 and weights[by_case[3]] == 1 and weights[by_case[4]] == Decimal("1.5")
