"""``entry_verification: "registry"``: only identities the office's permit registry holds enter draws.

For services whose applicants the prefecture already knows (renewals): an online request is verified when
its identity matches the permit registry import (at the import, or at once when filed after it), never by a
phone code, so an invented identity never enters a draw.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services import scheduler
from app.services.claims import registry_import
from app.services.unit_of_work import unit_of_work
from tests.assertions import assert_problem
from tests.factories import World, auth
from tests.verified import ask_code, phone_world, request_row, texting
from tests.web.helpers import token_for


def _import(world: World, runtime, clock, text: str) -> registry_import.ImportSummary:
    rows, errors = registry_import.parse(text)
    assert not errors
    with unit_of_work(runtime.engine) as session:
        return registry_import.import_registry(
            session=session, office=world.office, rows=rows, pepper=runtime.pepper, now=clock.now()
        )


def test_under_registry_only_matched_identities_are_drawn_and_a_phone_verifies_nothing(
    client, runtime, clock
):
    world = phone_world(client, runtime, entry_verification="registry")
    policy = {s["code"]: s for s in client.get("/api/v1/services").json()}[world.service]["weight_policy"]
    assert policy["entry_verification"] == "registry" and policy["verify_within_days"] == 35

    known = texting(world, n=601)
    invented = texting(world, n=602, phone="+33698765432")
    for applicant in (known, invented):
        assert applicant["verification"]["status"] == "unverified"
    assert request_row(runtime, known["id"]).verify_by == clock.now() + timedelta(days=35)
    # A phone alone does not verify here: no code is sent, the answer says where to go instead.
    refused = ask_code(world, invented)
    assert_problem(refused, 422, "validation_error")
    assert "permit registry" in refused.json()["detail"]

    summary = _import(
        world, runtime, clock, "P00000601,1990-04-12,2027-06-30\nP00000603,1990-04-12,2027-05-01\n"
    )
    assert summary.verified == 1
    assert request_row(runtime, known["id"]).verification_method == "registry"
    # Filed after the import, an identity the registry holds is verified at once; another one is not.
    later = texting(world, n=603)
    stranger = texting(world, n=604)
    assert later["verification"] == {**later["verification"], "status": "verified", "method": "registry"}
    assert stranger["verification"]["status"] == "unverified"

    release = world.release(slots=4)
    clock.advance(timedelta(hours=1))
    drawn = world.client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
    assert drawn.status_code == 200, drawn.text
    record = world.client.get(f"/api/v1/draws/{drawn.json()['draw_id']}").json()
    assert sorted(e["entry"] for e in record["entries"]) == sorted([known["entry"], later["entry"]])


def test_under_the_phone_policy_the_same_filing_after_an_import_still_waits_for_its_code(
    client, runtime, clock
):
    world = phone_world(client, runtime)
    _import(world, runtime, clock, "P00000611,1990-04-12,2027-06-30\n")
    applicant = texting(world, n=611)
    assert applicant["verification"]["status"] == "unverified"  # the registry verifies only at an import
    assert ask_code(world, applicant).status_code == 202


@pytest.mark.parametrize("lang", ["fr", "uk"])
def test_the_status_page_of_an_unmatched_request_points_to_the_registry_not_to_a_code(client, runtime, lang):
    registry = phone_world(client, runtime, entry_verification="registry")
    waiting = texting(registry, n=621, language=lang)
    phone = phone_world(client, runtime)
    coded = texting(phone, n=622, language=lang)
    token = token_for(client)
    pages = {}
    for name, applicant in (("registry", waiting), ("phone", coded)):
        credentials = {
            "csrf_token": token,
            "request_id": applicant["id"],
            "access_code": applicant["access_code"],
        }
        page = client.post(f"/status?lang={lang}", data=credentials)
        assert page.status_code == 200
        pages[name] = page.text
    assert 'id="code-form"' not in pages["registry"] and 'id="code-form"' in pages["phone"]
    expected = {"fr": "registre des titres", "uk": "реєстр дозволів"}[lang]
    assert expected in pages["registry"] and expected not in pages["phone"]


def test_a_registry_only_request_nothing_matched_lapses_at_35_days_and_its_page_says_where_to_go(
    client, runtime, clock
):
    world = phone_world(client, runtime, entry_verification="registry")
    applicant = texting(world, n=631, language="en")
    clock.advance(timedelta(days=35))
    scheduler.tick(runtime)
    assert request_row(runtime, applicant["id"]).status == "lapsed"
    credentials = {
        "csrf_token": token_for(client),
        "request_id": applicant["id"],
        "access_code": applicant["access_code"],
    }
    page = client.post("/status?lang=en", data=credentials).text
    assert "permit registry did not hold your document in time" in page and "phone number" not in page
