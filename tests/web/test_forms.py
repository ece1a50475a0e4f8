"""The form helpers: slots from a date range, times of day, the request form's body and errors."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from app.web.forms.apply_form import ApplyForm
from app.web.forms.release_form import parse_times, slot_starts


def test_parse_times() -> None:
    assert parse_times("14:00 9h30, 09:00;09:00") == [time(9, 0), time(9, 30), time(14, 0)]
    assert parse_times("") == []
    assert parse_times("25:00") is None
    assert parse_times("noon") is None


def test_slot_starts_follow_weekdays_and_local_time_across_a_dst_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    starts = slot_starts(date(2027, 3, 26), date(2027, 3, 29), {1, 5}, [time(9, 0), time(14, 0)], paris)
    assert [s.isoformat() for s in starts] == [
        "2027-03-26T09:00:00+01:00",
        "2027-03-26T14:00:00+01:00",
        "2027-03-29T09:00:00+02:00",
        "2027-03-29T14:00:00+02:00",
    ]
    assert slot_starts(date(2027, 3, 27), date(2027, 3, 28), {1}, [time(9, 0)], paris) == []


def test_apply_form_builds_the_api_body() -> None:
    form = FormData(
        [
            ("service", "renewal"),
            ("office_1", ""),
            ("office_2", "bobigny"),
            ("office_3", "paris"),
            ("document_type", "passport"),
            ("document_number", "P123 4567"),
            ("family_name", " Diallo "),
            ("given_names", "Aïcha"),
            ("birth_date", "1990-04-12"),
            ("weekdays", "2"),
            ("weekdays", "4"),
            ("vulnerabilities", "elderly"),
            ("language", "en"),
        ]
    )
    data, errors = ApplyForm.read(form).validate()
    assert errors == {}
    assert data is not None
    assert data.offices == ["bobigny", "paris"]
    assert data.identity.family_name == "Diallo"
    assert data.availability is not None
    assert data.availability.weekdays == [2, 4]
    assert data.contact is None
    assert data.language == "en"


def test_apply_form_places_errors_on_the_right_select() -> None:
    form = FormData(
        [
            ("office_1", ""),
            ("office_2", "a"),
            ("office_3", "a"),
            ("weekdays", "9"),
            ("vulnerabilities", "rich"),
        ]
    )
    _data, errors = ApplyForm.read(form).validate()
    assert errors["office_3"] == "Choose a different office for each choice."
    assert "office_1" not in errors
    assert errors["weekdays"] == "Choose days from the list."
    assert errors["vulnerabilities"] == "Choose only situations from the list."
    assert errors["family_name"] == "Enter your family name."


def test_apply_form_maps_service_errors_to_the_chosen_select() -> None:
    form = ApplyForm.read(FormData([("office_1", ""), ("office_2", "known"), ("office_3", "unknown")]))
    placed = form.service_errors([{"path": "offices.1", "message": "unknown office 'unknown'"}])
    assert placed == {"office_3": "Choose an office from the list."}
