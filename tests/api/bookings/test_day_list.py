"""The desk's day: an office's appointments of one day, searched and filtered, for its staff alone."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.runtime import Runtime
from app.services.bookings.day_list import local_day_bounds
from tests.assertions import assert_problem
from tests.desk import DAY, attend, book, day_list, started, urgent
from tests.factories import World, auth, create_key, create_office, named_for


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def test_the_day_lists_each_booking_in_start_order_with_its_holder_service_and_claims_to_check(
    world: World,
) -> None:
    plain, claimed, third = book(
        world, [{"document": "DAY00001"}, {"document": "DAY00002", **urgent()}, {"document": "DAY00003"}]
    )

    response = day_list(world.client, world.desk, world.office)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["office"] == world.office
    assert body["date"] == DAY.isoformat()
    items = body["items"]
    assert [i["starts_at"] for i in items] == sorted(i["starts_at"] for i in items)
    assert {i["booking_id"] for i in items} == {plain["id"], claimed["id"], third["id"]}
    mine = next(i for i in items if i["booking_id"] == claimed["id"])
    assert mine == {
        "booking_id": claimed["id"],
        "entry": claimed["request"]["entry"],
        "service": world.service,
        "starts_at": claimed["starts_at"],
        "family_name": named_for("Haddad", "DAY00002"),
        "given_names": "Samir",
        "status": "confirmed",  # booked inside its confirmation window: confirmed by accepting
        "claims_to_check": [
            {"claim": "permit_expiry", "declared": "2026-12-11"},
            {"claim": "vulnerability", "declared": ["pregnancy"]},
        ],
        "checked_in_at": None,
    }
    assert next(i for i in items if i["booking_id"] == plain["id"])["claims_to_check"] == []


def test_each_status_shows_as_the_desk_reads_it_and_the_filter_keeps_that_status_alone(
    world: World, clock: FrozenClock
) -> None:
    came, away, cancelled, waiting = book(world, [{"document": f"STA0000{n}"} for n in range(4)])
    assert attend(world.client, world.desk, came).status_code == 200
    request = cancelled["request"]
    assert (
        world.client.post(
            f"/api/v1/requests/{request['id']}/cancel", headers=auth(request["access_code"])
        ).status_code
        == 200
    )
    clock.set(started(away) + timedelta(minutes=5))
    assert (
        attend(
            world.client, world.desk, away, outcome="absent", document_number=None, birth_date=None
        ).status_code
        == 200
    )

    items = day_list(world.client, world.desk, world.office).json()["items"]

    shown = {i["booking_id"]: (i["status"], i["checked_in_at"]) for i in items}
    assert shown[came["id"]][0] == "attended"
    assert shown[came["id"]][1] is not None
    assert shown[away["id"]] == ("no_show", None)
    assert shown[cancelled["id"]] == ("cancelled", None)
    assert shown[waiting["id"]] == ("confirmed", None)
    for status, expected in [
        ("attended", {came["id"]}),
        ("no_show", {away["id"]}),
        ("cancelled", {cancelled["id"]}),
        ("confirmed", {waiting["id"]}),
        ("booked", set()),
        ("forfeited", set()),
    ]:
        found = day_list(world.client, world.desk, world.office, status=status).json()["items"]
        assert {i["booking_id"] for i in found} == expected, status


def test_a_booked_booking_not_yet_confirmed_shows_booked(world: World, runtime: Runtime) -> None:
    (booking,) = book(world, [{"document": "UNCONF01"}])
    with runtime.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE booking SET confirmed_at = NULL")

    items = day_list(world.client, world.desk, world.office).json()["items"]
    assert [(i["booking_id"], i["status"]) for i in items] == [(booking["id"], "booked")]
    only_booked = day_list(world.client, world.desk, world.office, status="booked").json()["items"]
    assert [i["booking_id"] for i in only_booked] == [booking["id"]]


def test_without_a_date_the_list_is_today_in_the_office_and_other_days_hold_nothing_of_this_one(
    world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "TODAY001"}])
    url = f"/api/v1/offices/{world.office}/bookings"

    assert world.client.get(url, headers=auth(world.desk)).json()["items"] == []
    assert day_list(world.client, world.desk, world.office, date="2026-12-02").json()["items"] == []
    assert day_list(world.client, world.desk, world.office, date="2026-12-04").json()["items"] == []
    clock.set(started(booking) - timedelta(hours=8))  # 01:00 in Paris that day, still the 2nd in UTC
    today = world.client.get(url, headers=auth(world.desk)).json()
    assert today["date"] == DAY.isoformat()
    assert [i["booking_id"] for i in today["items"]] == [booking["id"]]


def test_the_search_ignores_accents_and_case_in_the_family_name_and_finds_an_entry_as_read_out(
    world: World,
) -> None:
    muller, nguyen = book(
        world,
        [
            {"document": "SRCH0001", "family": "Müller-Ségur"},
            {"document": "SRCH0002", "family": "NGUYỄN Văn"},
        ],
    )

    def found(q: str) -> list[str]:
        response = day_list(world.client, world.desk, world.office, q=q)
        assert response.status_code == 200, response.text
        return [i["booking_id"] for i in response.json()["items"]]

    assert found("muller") == [muller["id"]]
    assert found("MÜLLER-SEGUR") == [muller["id"]]
    assert found("  Ségur ") == [muller["id"]]
    assert found("nguyen") == [nguyen["id"]]
    assert found("nguyen van") == [nguyen["id"]]
    entry = nguyen["request"]["entry"]
    assert found(entry.lower()) == [nguyen["id"]]
    assert found(entry.replace("-", " ")) == [nguyen["id"]]
    assert found("Samir") == []  # given names are not searched
    assert sorted(found("")) == sorted([muller["id"], nguyen["id"]])


#: Searches that try SQL, LIKE wildcards and HTML: each finds nothing and changes nothing.
HOSTILE_SEARCHES = [
    "' OR '1'='1",
    "x'; DROP TABLE booking; --",
    "%",
    "_",
    "\\",
    "<script>alert(1)</script>",
    '" onmouseover="alert(1)',
]


def test_a_search_with_sql_wildcards_or_html_in_it_finds_nothing_and_changes_nothing(world: World) -> None:
    (booking,) = book(world, [{"document": "INJECT01"}])

    for q in HOSTILE_SEARCHES:
        response = day_list(world.client, world.desk, world.office, q=q)
        assert response.status_code == 200, (q, response.text)
        assert response.json()["items"] == [], q

    listed = day_list(world.client, world.desk, world.office).json()["items"]
    assert [i["booking_id"] for i in listed] == [booking["id"]]


def test_a_search_for_a_name_holding_a_wildcard_finds_it_literally(world: World) -> None:
    percent, other = book(
        world,
        [{"document": "WILD0001", "family": "Dupont%Durand"}, {"document": "WILD0002", "family": "Dupontx"}],
    )
    found = day_list(world.client, world.desk, world.office, q="dupont%").json()["items"]
    assert [i["booking_id"] for i in found] == [percent["id"]]
    assert other["id"] not in {i["booking_id"] for i in found}


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"date": "2026-13-03"}, "query.date"),
        ({"date": "tomorrow"}, "query.date"),
        ({"date": "03/12/2026"}, "query.date"),
        ({"date": "20261203"}, "query.date"),
        ({"date": "0001-01-01"}, "query.date"),
        ({"status": "lost"}, "query.status"),
        ({"format": "pdf"}, "query.format"),
        ({"q": "a\x00b"}, "query.q"),
        ({"q": "x" * 101}, "query.q"),
    ],
)
def test_bad_parameters_are_a_422_naming_them(world: World, params: dict[str, str], path: str) -> None:
    problem = assert_problem(
        day_list(world.client, world.desk, world.office, **params), 422, "validation_error"
    )
    assert [e["path"] for e in problem["errors"]] == [path]


def test_an_unknown_office_is_404_for_whom_may_read_any(world: World) -> None:
    assert_problem(day_list(world.client, world.admin, "nowhere"), 404, "not_found")


#: Who reads an office's day: (role, whose office the key names: own, another, none), its answer.
READERS = [
    ("desk", "own", 200),
    ("desk", "another", 403),
    ("planner", "own", 200),
    ("planner", "another", 403),
    ("auditor", "none", 200),
    ("auditor", "another", 403),
    ("admin", "none", 200),
    ("agent", "own", 403),
    ("verifier", "own", 403),
]


def test_the_desk_planner_and_auditor_of_the_office_and_admins_read_the_day_and_nobody_else(
    world: World, runtime: Runtime
) -> None:
    book(world, [{"document": "ROLE0001"}])
    elsewhere = create_office(world.client, world.admin)["code"]
    offices = {"own": [world.office], "another": [elsewhere], "none": []}

    for role, scope, status in READERS:
        key = create_key(runtime, role, offices[scope])
        for kind in ("json", "csv", "xlsx"):
            response = day_list(world.client, key, world.office, format=kind)
            assert response.status_code == status, (role, scope, kind, response.text)
            if status == 403:
                assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("credential", [None, "fsk_not-a-key", "an-access-code"])
def test_without_a_staff_key_the_day_is_401(world: World, credential: str | None) -> None:
    response = day_list(world.client, credential, world.office)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_list_of_a_desk_of_another_office_is_403_even_for_an_office_that_does_not_exist(
    world: World, runtime: Runtime
) -> None:
    agent = create_key(runtime, "agent", [world.office])
    assert_problem(day_list(world.client, agent, "nowhere"), 403, "forbidden")


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2027-03-28", 23), ("2027-10-31", 25), ("2027-03-16", 24)],
    ids=["spring-forward", "fall-back", "plain"],
)
def test_an_office_day_runs_from_its_local_midnight_to_the_next_whatever_the_clock_change(
    day: str, hours: int
) -> None:
    start, end = local_day_bounds(date.fromisoformat(day), ZoneInfo("Europe/Paris"))
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)
    assert (start.hour, end.hour, start.date().isoformat()) == (0, 0, day)
