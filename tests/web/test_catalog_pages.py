"""The admin page edits offices' practical information and services' names and papers, as the API does."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from tests.factories import World
from tests.web.helpers import sign_in


def _office(client: TestClient, code: str) -> dict[str, object]:
    return {o["code"]: o for o in client.get("/api/v1/offices").json()}[code]


def _service(client: TestClient, code: str) -> dict[str, object]:
    return {s["code"]: s for s in client.get("/api/v1/services").json()}[code]


def test_an_admin_edits_an_offices_practical_information_on_the_page(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, world.admin)
    page = client.get("/staff?lang=en").text
    assert f'action="/staff/offices/{world.office}"' in page

    saved = client.post(
        f"/staff/offices/{world.office}?lang=en",
        data={
            "csrf_token": token,
            "name": "Préfecture de La Réunion",
            "address": "6 rue des Messageries, Saint-Denis",
            "phone": "0262 40 75 75",
            "access_notes": "Entrée rue de Paris\r\nRampe à gauche",
            "holiday_region": "RE",
        },
    )

    assert saved.status_code == 200, saved.text
    assert f"Office {world.office} is updated." in saved.text
    assert _office(client, world.office) | {"code": "", "timezone": ""} == {
        "code": "",
        "timezone": "",
        "name": "Préfecture de La Réunion",
        "address": "6 rue des Messageries, Saint-Denis",
        "phone": "+262262407575",
        "access_notes": "Entrée rue de Paris\nRampe à gauche",
        "holiday_region": "RE",
    }


def test_a_bad_phone_or_region_is_shown_in_the_page_with_what_was_typed_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, world.admin)
    before = _office(client, world.office)

    refused = client.post(
        f"/staff/offices/{world.office}?lang=fr",
        data={
            "csrf_token": token,
            "name": "Bureau",
            "phone": "12",
            "holiday_region": "XX",
            "address": "1 rue",
        },
    )

    assert refused.status_code == 422
    prefix = f"office-{world.office}"
    assert f'id="{prefix}-phone-error"' in refused.text
    assert f'id="{prefix}-holiday_region-error"' in refused.text
    assert "Choisissez une région de jours fériés dans la liste." in html.unescape(refused.text)
    assert 'value="1 rue"' in refused.text
    assert _office(client, world.office) == before


def test_an_admin_gives_a_services_names_and_papers_per_language(client: TestClient, world: World) -> None:
    token = sign_in(client, world.admin)
    data = {
        "csrf_token": token,
        "name": "Renouvellement",
        "slot_minutes": "20",
        "names_fr": "Renouvellement de titre",
        "names_en": "Permit renewal",
        "documents_fr": "Passeport\n\n  Justificatif de domicile  \n",
        "documents_uk": "Паспорт",
    }

    saved = client.post(f"/staff/services/{world.service}?lang=en", data=data)

    assert saved.status_code == 200, saved.text
    service = _service(client, world.service)
    assert service["names"] == {"fr": "Renouvellement de titre", "en": "Permit renewal"}
    assert service["documents"] == {"fr": ["Passeport", "Justificatif de domicile"], "uk": ["Паспорт"]}
    assert service["slot_minutes"] == 20
    without_french = client.post(
        f"/staff/services/{world.service}?lang=en", data={**data, "names_fr": "", "documents_fr": ""}
    )
    assert without_french.status_code == 422
    assert f'id="service-{world.service}-names_fr-error"' in without_french.text
    assert f'id="service-{world.service}-documents_fr-error"' in without_french.text
    assert _service(client, world.service) == service


def test_a_planner_cannot_edit_an_office_on_the_page(client: TestClient, world: World) -> None:
    token = sign_in(client, world.planner)
    before = _office(client, world.office)

    refused = client.post(f"/staff/offices/{world.office}", data={"csrf_token": token, "name": "Mine"})

    assert refused.status_code == 403
    assert _office(client, world.office) == before


def _policy_fields(**change: str) -> dict[str, str]:
    fields = {
        "band_days_1": "30",
        "band_multiplier_1": "100",
        "band_days_2": "60",
        "band_multiplier_2": "20",
        "vulnerability": "2",
        "waiting_step": "0.25",
        "waiting_cap": "3",
        "no_show": "0.5",
        "no_show_window_days": "180",
        "office_cancelled_factor": "8",
        "verify_claims": "before_draw",
        "false_claim_exclusion_days": "90",
        "entry_verification": "none",
        "max_requests_per_phone": "3",
        "verify_within_days": "7",
        "beacon": "none",
        "confirm": "on",
        "confirm_opens": "10",
        "confirm_closes": "3",
    }
    fields.update(change)
    return fields


def test_the_weight_policy_is_a_form_validated_by_the_apis_own_schema(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, world.admin)
    page = client.get("/staff?lang=en").text
    assert 'name="band_multiplier_1"' in page
    assert 'id="service-office_cancelled_factor"' in page

    created = client.post(
        "/staff/services?lang=en",
        data={"csrf_token": token, "code": "busy", "name": "Busy", "slot_minutes": "20", **_policy_fields()},
    )

    assert created.status_code == 201, created.text
    policy = _service(client, "busy")["weight_policy"]
    assert [(b["within_days"], b["multiplier"]) for b in policy["expiry_bands"]] == [(30, "100"), (60, "20")]
    assert policy["verify_claims"] == "before_draw"
    assert policy["office_cancelled_factor"] == "8"
    assert policy["confirm_window_days"] == [10, 3]
    assert policy["false_claim_exclusion_days"] == 90


def test_editing_the_policy_turns_confirmation_off_and_bad_figures_are_shown_where_typed(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, world.admin)
    base = {"csrf_token": token, "name": "Test service", "slot_minutes": "30", "names_fr": "Service"}
    unticked = {k: v for k, v in _policy_fields().items() if k != "confirm"}

    saved = client.post(f"/staff/services/{world.service}?lang=en", data={**base, **unticked})
    assert saved.status_code == 200, saved.text
    assert _service(client, world.service)["weight_policy"]["confirm_window_days"] is None
    before = _service(client, world.service)

    refused = client.post(
        f"/staff/services/{world.service}?lang=en",
        data={**base, **_policy_fields(band_multiplier_2="1000", waiting_cap="0.5")},
    )
    window = client.post(
        f"/staff/services/{world.service}?lang=en", data={**base, **_policy_fields(confirm_opens="2")}
    )

    prefix = f"service-{world.service}"
    assert refused.status_code == 422
    for name in ("band_days_2", "waiting_cap"):
        assert f'id="{prefix}-{name}-error"' in refused.text, name
    assert 'value="1000"' in refused.text
    assert window.status_code == 422
    assert f'id="{prefix}-confirm_opens-error"' in window.text
    assert _service(client, world.service) == before


def test_the_news_after_each_draw_go_by_sms_too_when_the_admin_ticks_it(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, world.admin)
    base = {"csrf_token": token, "name": "Test service", "slot_minutes": "30", "names_fr": "Service"}
    page = client.get("/staff?lang=fr").text
    assert f'id="service-{world.service}-sms_not_selected"' in page

    ticked = client.post(
        f"/staff/services/{world.service}?lang=en",
        data={**base, **_policy_fields(), "news_shown": "on", "sms_not_selected": "on"},
    )
    assert ticked.status_code == 200, ticked.text
    assert _service(client, world.service)["weight_policy"]["sms_not_selected"] is True
    unticked = client.post(
        f"/staff/services/{world.service}?lang=en", data={**base, **_policy_fields(), "news_shown": "on"}
    )
    assert unticked.status_code == 200
    assert _service(client, world.service)["weight_policy"]["sms_not_selected"] is False


def test_the_policy_form_offers_registry_only_entries_and_saves_them_as_the_api_does(
    client: TestClient, world: World
) -> None:
    token = sign_in(client, world.admin)
    page = client.get("/staff?lang=en").text
    assert 'value="registry"' in page and "a match in the office's permit registry" in page
    assert "une correspondance dans le registre des titres du bureau" in client.get("/staff?lang=fr").text

    created = client.post(
        "/staff/services?lang=en",
        data={
            "csrf_token": token,
            "code": "renewals",
            "name": "Renewals",
            "slot_minutes": "20",
            **_policy_fields(entry_verification="registry", verify_within_days="35"),
        },
    )

    assert created.status_code == 201, created.text
    policy = _service(client, "renewals")["weight_policy"]
    assert policy["entry_verification"] == "registry" and policy["verify_within_days"] == 35
    refused = client.post(
        "/staff/services?lang=en",
        data={
            "csrf_token": token,
            "code": "renewals-2",
            "name": "Renewals 2",
            "slot_minutes": "20",
            **_policy_fields(entry_verification="registers"),
        },
    )
    assert refused.status_code == 422
    assert "renewals-2" not in {s["code"] for s in client.get("/api/v1/services").json()}
