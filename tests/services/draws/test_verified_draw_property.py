"""Property: a draw's entries are exactly the verified pending requests of its office and service."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import empty_tables
from tests.factories import World, auth, create_key, create_office, create_service, request_body
from tests.verified import verify

_phones = itertools.count(10_000_000)

applicants = st.lists(
    st.fixed_dictionaries(
        {
            "service": st.sampled_from(["drawn", "other"]),
            "offices": st.sampled_from([("here",), ("there",), ("here", "there"), ("there", "here")]),
            "how": st.sampled_from(["unverified", "phone", "counter", "withdrawn", "verified-withdrawn"]),
        }
    ),
    max_size=8,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=applicants)
def test_a_draws_entries_are_exactly_the_verified_pending_requests_of_its_office_and_service(
    client, runtime, clock, people
):
    empty_tables(runtime.engine)
    world = World(client, runtime)
    offices = {"here": world.office, "there": create_office(client, world.admin)["code"]}
    services = {
        name: create_service(client, world.admin, weight_policy={"entry_verification": "phone"})["code"]
        for name in ("drawn", "other")
    }
    world.service = services["drawn"]
    agent = create_key(runtime, "agent", list(offices.values()))
    expected = set()
    for n, person in enumerate(people):
        listed = [offices[o] for o in person["offices"]]
        body = request_body(
            services[person["service"]], listed, 10_000 + n, contact={"phone": f"+336{next(_phones):08d}"}
        )
        if person["how"] == "counter":
            made = client.post("/api/v1/requests", json=body, headers=auth(agent))
        else:
            made = client.post("/api/v1/requests", json=body)
        assert made.status_code == 201, made.text
        request = made.json()
        if person["how"] in ("phone", "verified-withdrawn"):
            verify(world, request)
        if person["how"] in ("withdrawn", "verified-withdrawn"):
            cancel = client.post(
                f"/api/v1/requests/{request['id']}/cancel", headers=auth(request["access_code"])
            )
            assert cancel.status_code == 200
        counts = person["how"] in ("phone", "counter")
        if counts and person["service"] == "drawn" and "here" in person["offices"]:
            expected.add(request["entry"])
    release = world.release(slots=2, draw_in=timedelta(minutes=5))
    clock.advance(timedelta(minutes=5))
    drawn = client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
    assert drawn.status_code == 200, drawn.text
    record = client.get(f"/api/v1/draws/{drawn.json()['draw_id']}").json()
    assert {e["entry"] for e in record["entries"]} == expected
