"""The desk's pages through the TestClient: the day's list, its search and filter, the scan, the check-in by
hand, absences, refusals that keep what was typed, the downloads and the day sheet, and who sees what."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from openpyxl import load_workbook

from app.clock import FrozenClock
from app.main import create_app
from app.runtime import Runtime
from tests.conftest import test_settings
from tests.desk import BIRTH, DAY, book, started, urgent
from tests.factories import World, auth, create_key, create_office
from tests.web.helpers import sign_in, text_of


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _status(world: World, booking: dict) -> str:
    items = world.client.get(
        f"/api/v1/offices/{world.office}/bookings",
        params={"date": DAY.isoformat()},
        headers=auth(world.admin),
    ).json()["items"]
    return next(i["status"] for i in items if i["booking_id"] == booking["id"])


def _on_the_day(clock: FrozenClock, *bookings: dict) -> None:
    """Twenty minutes before the first of ``bookings``: the desk's today is their day (and a web session,
    which ends after 30 idle minutes, outlives the wait until the first slot starts)."""
    clock.set(min(started(b) for b in bookings) - timedelta(minutes=20))


def _by_hand(client: TestClient, csrf: str, booking: dict, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf,
        "outcome": "attended",
        "document_number": booking["document"],
        "birth_date": BIRTH,
    }
    data.update(fields)
    return client.post(f"/desk/bookings/{booking['id']}/attendance?lang=en", data=data)


def _scan(client: TestClient, csrf: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/desk/check-in?lang=en", data={"csrf_token": csrf, **fields})


def test_the_desk_opens_on_todays_list_of_its_office_in_french_and_english(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    first, second = book(world, [{"document": "OPEN0001", "family": "Benali"}, {"document": "OPEN0002"}])
    sign_in(client, world.desk)

    before = client.get("/desk?lang=en")
    _on_the_day(clock, first, second)
    sign_in(client, world.desk)  # the web session ended while the clock moved two days
    english = client.get("/desk?lang=en")
    french = client.get("/desk?lang=fr")

    assert "0 appointments" in before.text
    assert english.status_code == french.status_code == 200
    assert "Appointments on 3 December 2026" in english.text
    assert "Rendez-vous du 3 décembre 2026" in french.text
    for page in (english, french):
        assert f'id="booking-{first["id"]}"' in page.text
        assert f'id="booking-{second["id"]}"' in page.text
        assert first["request"]["entry"] in page.text
    assert english.text.index("Benali") > 0
    assert 'id="desk-token"' in english.text
    assert "autofocus" in english.text.split('id="desk-token"', 1)[1].split(">", 1)[0]


def test_another_day_is_one_date_away_and_today_one_link_back(client: TestClient, world: World) -> None:
    (booking,) = book(world, [{"document": "OTHERDAY"}])
    sign_in(client, world.desk)

    page = client.get(f"/desk?lang=en&office={world.office}&date=2026-12-03")

    assert page.status_code == 200
    assert f'id="booking-{booking["id"]}"' in page.text
    assert html.escape(f"/desk?office={world.office}") in page.text  # back to today
    assert "Back to today" in page.text


def test_the_search_and_the_status_filter_narrow_the_list(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    muller, other = book(world, [{"document": "SEARCH01", "family": "Müller"}, {"document": "SEARCH02"}])
    _on_the_day(clock, muller, other)
    sign_in(client, world.desk)

    by_name = client.get("/desk?lang=en&q=MULLER")
    by_entry = client.get("/desk?lang=en&q=" + other["request"]["entry"].lower())
    attended = client.get("/desk?lang=en&status=attended")

    assert f'id="booking-{muller["id"]}"' in by_name.text
    assert f'id="booking-{other["id"]}"' not in by_name.text
    assert f'id="booking-{other["id"]}"' in by_entry.text
    assert f'id="booking-{muller["id"]}"' not in by_entry.text
    assert "No appointment matches on this day." in attended.text
    assert 'value="MULLER"' in by_name.text  # the search stays in its field


def test_a_search_with_html_or_sql_is_shown_escaped_and_finds_nothing(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "ESCAPE01"}])
    _on_the_day(clock, booking)
    sign_in(client, world.desk)

    for q in ("<script>alert(1)</script>", "' OR 1=1 --", '"><img src=x onerror=alert(1)>'):
        page = client.get("/desk", params={"lang": "en", "q": q})
        assert page.status_code == 200, q
        assert q not in page.text
        assert str(escape(q)) in page.text
        assert "No appointment matches on this day." in page.text

    assert f'id="booking-{booking["id"]}"' in client.get("/desk?lang=en").text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"date": "31/12/2026"}, "date"), ({"date": "2026-02-30"}, "date"), ({"status": "lost"}, "status")],
)
def test_a_date_that_is_not_a_date_or_an_unknown_status_is_said_in_the_page_and_kept(
    client: TestClient, world: World, params: dict[str, str], field: str
) -> None:
    sign_in(client, world.desk)

    page = client.get("/desk", params={"lang": "en", **params})

    assert page.status_code == 422
    assert 'class="error-summary"' in page.text
    assert f'href="#view-{field}"' in page.text
    assert f'id="view-{field}-error"' in page.text
    if field == "date":
        assert f'value="{params["date"]}"' in page.text


def test_a_code_sent_alone_names_the_booking_and_asks_its_claims_changing_nothing(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "READ0001", "family": "Okafor", **urgent()}])
    _on_the_day(clock, booking)
    csrf = sign_in(client, world.desk)

    page = _scan(client, csrf, token=booking["token"])

    assert page.status_code == 200
    assert 'id="scanned"' in page.text
    assert "Okafor" in page.text.split('id="scanned"', 1)[1].split("</div>", 1)[0]
    assert 'id="desk-claim_permit_expiry"' in page.text
    assert 'id="desk-claim_vulnerability"' in page.text
    assert booking["token"] in page.text  # kept in its field
    assert "autofocus" in page.text.split('id="desk-document_number"', 1)[1].split(">", 1)[0]
    assert _status(world, booking) == "confirmed"


def test_a_scan_with_the_document_checks_in_and_clears_the_form_for_the_next_person(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "SCAN0001"}])
    _on_the_day(clock, booking)
    csrf = sign_in(client, world.desk)

    page = _scan(client, csrf, token=booking["token"], document_number="scan 0001", birth_date=BIRTH)

    assert page.status_code == 200
    assert "verdict--ok" in page.text
    assert booking["token"] not in page.text
    assert _status(world, booking) == "attended"
    assert "Checked in · 08:40" in page.text


def test_a_scan_refusal_keeps_what_was_typed_and_a_mismatch_says_what_to_check_apart_from_a_refuted_claim(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    plain, claimed = book(world, [{"document": "KEEP0001"}, {"document": "KEEP0002", **urgent()}])
    _on_the_day(clock, plain, claimed)
    csrf = sign_in(client, world.desk)

    mismatch = _scan(client, csrf, token=plain["token"], document_number="KEEP9999", birth_date="1984-03-12")
    refuted = _scan(
        client,
        csrf,
        token=claimed["token"],
        document_number="KEEP0002",
        birth_date=BIRTH,
        claim_permit_expiry="refuted",
        claim_vulnerability="confirmed",
    )

    assert mismatch.status_code == 403
    assert text_of(mismatch.text, "verdict-reason").startswith("The document does not match this booking.")
    assert 'href="#desk-document_number"' in mismatch.text
    assert 'href="#desk-birth_date"' in mismatch.text
    assert 'value="KEEP9999"' in mismatch.text
    assert 'value="1984-03-12"' in mismatch.text
    assert html.escape(plain["token"]) in mismatch.text
    assert 'id="desk-document_number-error"' in mismatch.text
    assert refuted.status_code == 409
    reason = text_of(refuted.text, "verdict-reason")
    assert reason.startswith("A declared claim is contradicted by the document")
    assert "transferred" not in reason
    assert 'id="verdict-excluded"' in refuted.text
    assert _status(world, plain) == "confirmed"
    assert _status(world, claimed) == "forfeited"


def test_claims_left_unjudged_are_asked_again_with_the_verdicts_already_chosen(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "HALF0001", **urgent()}])
    _on_the_day(clock, booking)
    csrf = sign_in(client, world.desk)

    page = _scan(
        client,
        csrf,
        token=booking["token"],
        document_number="HALF0001",
        birth_date=BIRTH,
        claim_permit_expiry="confirmed",
    )

    assert page.status_code == 422
    assert 'href="#desk-claim_vulnerability"' in page.text
    assert 'name="claim_permit_expiry" value="confirmed" checked' in page.text
    assert _status(world, booking) == "confirmed"


def test_each_row_asks_its_claims_before_its_button_and_checks_in_by_hand(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    plain, claimed = book(world, [{"document": "ROW00001"}, {"document": "ROW00002", **urgent()}])
    _on_the_day(clock, plain, claimed)
    csrf = sign_in(client, world.desk)

    listing = client.get("/desk?lang=en").text
    row = listing.split(f'id="booking-{claimed["id"]}"', 1)[1].split("</li>", 1)[0]
    unjudged = _by_hand(client, csrf, claimed)
    judged = _by_hand(client, csrf, claimed, claim_permit_expiry="confirmed", claim_vulnerability="confirmed")
    plain_page = _by_hand(client, csrf, plain, document_number="row 00001")

    assert row.index(f'id="hand-{claimed["id"]}-claim_permit_expiry"') < row.index('type="submit"')
    assert unjudged.status_code == 422
    assert f'href="#hand-{claimed["id"]}-claim_vulnerability"' in unjudged.text
    assert '<details class="by-hand" open>' in unjudged.text
    assert judged.status_code == 200
    assert "verdict--ok" in judged.text
    assert plain_page.status_code == 200
    assert _status(world, claimed) == _status(world, plain) == "attended"


def test_a_by_hand_refusal_keeps_the_row_open_with_what_was_typed(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "TYPED001"}])
    _on_the_day(clock, booking)
    csrf = sign_in(client, world.desk)

    page = _by_hand(client, csrf, booking, birth_date="1984-03-12")
    twice = [_by_hand(client, csrf, booking), _by_hand(client, csrf, booking)]

    assert page.status_code == 403
    row = page.text.split(f'id="booking-{booking["id"]}"', 1)[1].split("</li>", 1)[0]
    assert '<details class="by-hand" open>' in row
    assert 'value="TYPED001"' in row
    assert 'value="1984-03-12"' in row
    assert f'href="#hand-{booking["id"]}-birth_date"' in page.text
    assert [r.status_code for r in twice] == [200, 409]
    assert "This booking has already been checked in." in twice[1].text


def test_bad_by_hand_fields_are_shown_in_the_row_and_change_nothing(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "BADROW01"}])
    _on_the_day(clock, booking)
    csrf = sign_in(client, world.desk)

    for fields, error in [
        ({"birth_date": "12/03/1984"}, "birth_date"),
        ({"document_number": ""}, "document_number"),
        ({"outcome": "maybe"}, "outcome"),
    ]:
        page = _by_hand(client, csrf, booking, **fields)
        assert page.status_code == 422, fields
        assert f'href="#hand-{booking["id"]}-{error}"' in page.text, fields

    assert _status(world, booking) == "confirmed"


def test_absent_is_offered_once_the_slot_started_and_asks_for_a_confirmation(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "ABSENT01"}])
    _on_the_day(clock, booking)
    csrf = sign_in(client, world.desk)
    absent = {"csrf_token": csrf, "outcome": "absent"}
    url = f"/desk/bookings/{booking['id']}/attendance?lang=en"

    early_list = client.get("/desk?lang=en").text
    early = client.post(url, data={**absent, "confirm": "yes"})
    clock.set(started(booking) + timedelta(minutes=1))
    asked = client.post(url, data=absent)
    status_after_asking = _status(world, booking)
    done = client.post(url, data={**absent, "confirm": "yes"})

    assert "Mark absent" not in early_list
    assert early.status_code == 409
    assert "has not started yet" in text_of(early.text, "verdict-reason")
    assert asked.status_code == 200
    assert f'id="confirm-absent-{booking["id"]}"' in asked.text
    assert status_after_asking == "confirmed"
    assert done.status_code == 200
    assert "verdict--absent" in done.text
    assert _status(world, booking) == "no_show"


def test_the_desk_of_another_office_sees_its_own_day_and_cannot_act_on_ours(
    client: TestClient, world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "ELSE0001"}])
    _on_the_day(clock, booking)
    elsewhere = create_office(client, world.admin, name="Other office")["code"]
    csrf = sign_in(client, create_key(runtime, "desk", [elsewhere]))

    own = client.get("/desk?lang=en")
    ours = client.get(f"/desk?lang=en&office={world.office}")
    acted = _by_hand(client, csrf, booking)
    exported = client.get(f"/desk/export?office={world.office}&format=csv")

    assert own.status_code == 200
    assert f'id="booking-{booking["id"]}"' not in own.text
    assert ours.status_code == 403
    assert "You cannot see the appointments of this office." in ours.text
    assert f'id="booking-{booking["id"]}"' not in ours.text
    assert acted.status_code == 409
    assert "This booking is for another office." in acted.text
    assert "Office of the booking: Test office" in acted.text
    assert exported.status_code == 403
    assert "text/html" in exported.headers["content-type"]
    assert _status(world, booking) == "confirmed"


def test_nobody_signed_in_is_sent_to_sign_in_and_changes_nothing(client: TestClient, world: World) -> None:
    (booking,) = book(world, [{"document": "ANON0001"}])
    csrf = sign_in(client, world.desk)
    client.post("/staff/sign-out", data={"csrf_token": csrf})

    for path in ("/desk", "/desk/day-sheet", f"/desk/export?office={world.office}&format=csv"):
        page = client.get(path)
        assert page.status_code == 200
        assert 'name="next" value="desk"' in page.text
    assert _status(world, booking) == "confirmed"


def test_a_planner_reads_the_day_downloads_it_and_checks_nobody_in(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "PLAN0001"}])
    _on_the_day(clock, booking)
    csrf = sign_in(client, world.planner)

    page = client.get("/desk?lang=en")
    acted = _by_hand(client, csrf, booking)
    scanned = _scan(client, csrf, token=booking["token"])
    download = client.get(f"/desk/export?office={world.office}&format=csv")

    assert page.status_code == 200
    assert f'id="booking-{booking["id"]}"' in page.text
    assert "Check in by hand" not in page.text
    assert 'action="/desk/check-in"' not in page.text
    assert acted.status_code == scanned.status_code == 403
    assert download.status_code == 200
    assert _status(world, booking) == "confirmed"


def test_the_page_downloads_the_rows_on_screen_with_no_formula(
    client: TestClient, world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    hostile, other = book(
        world, [{"document": "XPORT001", "family": "=SUM(A1)"}, {"document": "XPORT002", "family": "@cmd"}]
    )
    _on_the_day(clock, hostile, other)
    sign_in(client, create_key(runtime, "auditor"))

    as_csv = client.get(f"/desk/export?office={world.office}&q=sum&format=csv")
    as_xlsx = client.get(f"/desk/export?office={world.office}&format=xlsx")
    bad = client.get(f"/desk/export?office={world.office}&format=pdf")

    assert as_csv.status_code == 200
    assert as_csv.headers["content-disposition"] == (
        f'attachment; filename="fairslot-{world.office}-{DAY.isoformat()}.csv"'
    )
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [row[4] for row in rows[1:]] == ["'=SUM(A1)"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    names = sorted(str(line[4].value) for line in sheet.iter_rows(min_row=2))
    assert names == ["'=SUM(A1)", "'@cmd"]
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
    assert bad.status_code == 422


def test_the_day_sheet_lists_who_is_expected_with_a_box_each(
    client: TestClient, world: World, clock: FrozenClock
) -> None:
    came, expected, cancelled = book(world, [{"document": f"SHEET00{n}"} for n in range(3)])
    _on_the_day(clock, came, expected, cancelled)
    request = cancelled["request"]
    client.post(f"/api/v1/requests/{request['id']}/cancel", headers=auth(request["access_code"]))
    csrf = sign_in(client, world.desk)
    assert _by_hand(client, csrf, came).status_code == 200

    sheet = client.get(f"/desk/day-sheet?lang=en&office={world.office}&date=2026-12-03")

    assert sheet.status_code == 200
    assert "Day sheet: Test office" in sheet.text
    assert "2 appointments expected" in sheet.text
    assert f'id="sheet-{came["id"]}"' in sheet.text
    assert f'id="sheet-{expected["id"]}"' in sheet.text
    assert f'id="sheet-{cancelled["id"]}"' not in sheet.text
    assert expected["request"]["entry"] in sheet.text
    assert sheet.text.count('class="tick-box') == 2
    assert "print-page" in sheet.text


def test_a_booking_of_another_day_is_refused_by_hand_and_by_scan_with_the_reason_and_the_typed_kept(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    (booking,) = book(world, [{"document": "LATER001"}])  # two days away
    settings = test_settings(runtime.settings.database_url, check_in_opens_minutes_before=120)
    with TestClient(create_app(replace(runtime, settings=settings))) as desk:
        csrf = sign_in(desk, world.desk)

        by_hand = _by_hand(desk, csrf, booking, office=world.office, date=DAY.isoformat())
        scanned = _scan(desk, csrf, token=booking["token"], document_number="LATER001", birth_date=BIRTH)

    for page in (by_hand, scanned):
        assert page.status_code == 409
        assert text_of(page.text, "verdict-reason").startswith("This booking is not for now")
        assert 'value="LATER001"' in page.text
    assert _status(world, booking) == "confirmed"
