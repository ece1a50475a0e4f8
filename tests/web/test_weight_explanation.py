"""The weight explanation never contradicts itself: a factor that does not count yet reads x1 with why, and
one that counts says why it counts (confirmed, or counted now and checked at the desk)."""

from __future__ import annotations

import re

from tests.factories import World, auth, create_key, create_service
from tests.web.helpers import apply


def _factors(client, request_id: str, code: str, token: str) -> dict[str, tuple[str, str]]:
    page = client.post(
        "/status?lang=en", data={"csrf_token": token, "request_id": request_id, "access_code": code}
    )
    rows = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td>\u00d7 ([^<]+)</td><td>([^<]*)</td></tr>', page.text
    )
    assert rows, "no weight table"
    return {name: (value, why) for name, value, why in rows}


def _every_row_agrees_with_its_reason(factors: dict[str, tuple[str, str]]) -> None:
    for name, (value, why) in factors.items():
        if value == "1":
            assert "counts now" not in why and "confirmed" not in why, (name, why)
        else:
            assert "not counted" not in why, (name, why)


def test_a_claim_checked_at_the_desk_counts_now_and_says_so(client, runtime):
    world = World(client, runtime)
    service = create_service(client, world.admin, weight_policy={"verify_claims": "at_desk"})["code"]
    request_id, code, token = apply(client, service, world.office, vulnerabilities="disability")

    factors = _factors(client, request_id, code, token)

    assert factors["Vulnerability"] == (
        "1.5",
        "declared situation (Disability); counts now; checked at the desk on the day of the appointment",
    )
    _every_row_agrees_with_its_reason(factors)


def test_a_claim_checked_before_the_draw_reads_one_until_confirmed_then_counts(client, runtime):
    world = World(client, runtime)
    service = create_service(client, world.admin, weight_policy={"verify_claims": "before_draw"})["code"]
    request_id, code, token = apply(client, service, world.office, vulnerabilities="disability")

    before = _factors(client, request_id, code, token)
    verifier = create_key(runtime, "verifier", [world.office])
    confirmed = client.post(
        f"/api/v1/requests/{request_id}/claims",
        json={"claim": "vulnerability", "verdict": "confirmed"},
        headers=auth(verifier),
    )
    assert confirmed.status_code == 200, confirmed.text
    after = _factors(client, request_id, code, token)

    assert before["Vulnerability"] == (
        "1",
        "declared situation (Disability); not counted until the claim is checked",
    )
    assert after["Vulnerability"] == ("1.5", "declared situation (Disability); the claim is confirmed")
    _every_row_agrees_with_its_reason(before)
    _every_row_agrees_with_its_reason(after)
