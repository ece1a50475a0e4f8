"""The weight a request shows is the weight the draw uses, whatever its claims' statuses and the policy."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import DrawEntry
from app.services import scheduler
from tests.conftest import START, empty_tables
from tests.factories import World, auth, create_key, create_service
from tests.strategies import VULNERABILITY_KINDS

TODAY = date(2026, 12, 1)

applicants = st.lists(
    st.tuples(
        st.none() | st.integers(-10, 120),  # permit expiry, days from today
        st.lists(st.sampled_from(VULNERABILITY_KINDS), max_size=2, unique=True),
        st.sampled_from(["declared", "confirmed", "refuted"]),  # the verifier's verdict on each claim
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=applicants, verify=st.sampled_from(["at_desk", "before_draw"]))
def test_the_weight_shown_before_a_draw_is_the_weight_the_draw_record_uses(
    client, runtime, clock, people, verify
):
    empty_tables(runtime.engine)
    clock.set(START)
    world = World(client, runtime)
    world.service = create_service(client, world.admin, weight_policy={"verify_claims": verify})["code"]
    verifier = create_key(runtime, "verifier", [world.office])
    shown: dict[str, str] = {}
    for expiry, kinds, verdict in people:
        declared = {"vulnerabilities": kinds}
        if expiry is not None:
            declared["permit_expires_on"] = (TODAY + timedelta(days=expiry)).isoformat()
        created = world.applicant(**declared)
        for claim in created["claims"]:
            if verdict != "declared":
                response = client.post(
                    f"/api/v1/requests/{created['id']}/claims",
                    json={"claim": claim["claim"], "verdict": verdict},
                    headers=auth(verifier),
                )
                assert response.status_code == 200, response.text
        view = client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"])).json()
        shown[created["entry"]] = view["weight"]["total"]
    world.release(slots=1, draw_in=timedelta(minutes=30))
    clock.advance(timedelta(minutes=30))
    scheduler.tick(runtime)

    with session_scope(runtime.engine) as session:
        used = {e.entry: e.weight for e in session.exec(select(DrawEntry)).all()}
    assert used == shown
