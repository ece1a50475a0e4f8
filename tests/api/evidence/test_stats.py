"""``GET /api/v1/stats``: aggregates equal direct counts, small counts suppressed, no personal data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, Claim, DrawEntry, Offer
from app.services import scheduler
from app.services.evidence import stats
from tests.factories import World, auth, create_key, days_from, request_body


def _stats(world: World, **params: str) -> dict:
    stats.forget_cached()
    response = world.client.get("/api/v1/stats", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _drawn_world(client, runtime, clock, *, applicants: int, slots: int, accept: int) -> tuple[World, list]:
    world = World(client, runtime)
    today = world.now.date()
    made = []
    for i in range(applicants):
        body = {"permit_expires_on": days_from(today, 20)} if i % 2 == 0 else {}
        made.append(world.applicant(**body))
    world.release(slots=slots)
    clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)  # draws the due release and writes its statistics row
    offered = [
        a
        for a in made
        if client.get(f"/api/v1/requests/{a['id']}", headers=auth(a["access_code"])).json()["status"]
        == "offered"
    ]
    for a in offered[:accept]:
        answer = client.post(f"/api/v1/requests/{a['id']}/accept", headers=auth(a["access_code"]))
        assert answer.status_code == 200, answer.text
    return world, made


def test_the_published_aggregates_equal_a_direct_count_of_the_rows(client, runtime, clock):
    world, _made = _drawn_world(client, runtime, clock, applicants=16, slots=7, accept=6)
    for _ in range(5):  # five more requests that arrive after the draw: pending, no draw yet
        world.applicant()
    data = _stats(world, office=world.office, service=world.service, since=world.now.strftime("%Y-%m"))
    assert data["since"] == world.now.strftime("%Y-%m")
    (item,) = data["items"]
    with session_scope(runtime.engine) as session:
        entries = session.execute(select(func.count()).select_from(DrawEntry)).scalar_one()
        offered = session.execute(select(func.count()).select_from(Offer)).scalar_one()
        pending = session.execute(
            select(func.count()).where(AppointmentRequest.status == "pending")
        ).scalar_one()
        declared = session.execute(
            select(func.count()).select_from(Claim).where(Claim.status == "declared")
        ).scalar_one()
    assert (item["office"], item["service"]) == (world.office, world.service)
    assert item["entries"] == entries == 16
    assert item["offered"] == offered == 7
    assert item["accepted"] == 6
    assert item["requests"]["pending"] == pending == 14
    assert item["requests"]["by_channel"] == {"online": 14, "counter": None, "partner": None}  # 0 < 5
    assert item["claims"]["declared"] == declared == 8
    assert item["draws"] is None  # one draw: below 5
    assert item["by_month"] == [{"month": world.now.strftime("%Y-%m"), "entries": 16, "offered": 7}]
    bands = {b["band"]: b for b in item["by_urgency"]}
    assert bands["within_30_days"]["entries"] == 8
    assert bands["no_expiry"]["entries"] == 8
    assert sum(b["offered"] or 0 for b in bands.values()) <= 7
    assert item["draws_before_offer"] == {"p50": 0.0, "p90": 0.0}
    assert "staff" not in item


def test_counts_below_five_are_null_and_nothing_personal_is_published(client, runtime, clock):
    _world, made = _drawn_world(client, runtime, clock, applicants=4, slots=2, accept=1)
    response = client.get("/api/v1/stats")
    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert item["entries"] is None and item["offered"] is None and item["accepted"] is None
    assert item["requests"]["pending"] is None
    assert item["draws_before_offer"] == {"p50": None, "p90": None}
    assert all(b["entries"] is None for b in item["by_urgency"])
    text = response.text
    for a in made:
        assert a["id"] not in text and a["entry"] not in text
    assert "Diallo" not in text and "Aïcha" not in text and "@example.org" not in text


def test_since_takes_whole_months_only(client, runtime):
    for bad in ("2026-13", "2026-12-01", "26-12", "2026-1", "december"):
        response = client.get("/api/v1/stats", params={"since": bad})
        assert response.status_code == 422, bad
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "validation_error"
    assert client.get("/api/v1/stats", params={"since": "2026-12"}).status_code == 200


def test_months_before_since_are_left_out(client, runtime, clock):
    world, _made = _drawn_world(client, runtime, clock, applicants=6, slots=6, accept=0)
    later = (world.now + timedelta(days=40)).strftime("%Y-%m")
    data = _stats(world, since=later)
    for item in data["items"]:
        assert item["entries"] is None and item["by_month"] == []


def test_staff_who_may_read_statistics_also_see_exact_counts_by_channel(client, runtime, clock):
    world, _made = _drawn_world(client, runtime, clock, applicants=6, slots=3, accept=0)
    stats.forget_cached()
    auditor = create_key(runtime, "auditor")
    seen = client.get("/api/v1/stats", headers=auth(auditor)).json()["items"][0]
    assert seen["staff"] == {
        "pending_by_channel": {"online": 3, "counter": 0, "partner": 0},
        "pending_by_partner": {},
    }
    assert seen["requests"]["pending"] is None  # the public figure stays suppressed
    desk_view = client.get("/api/v1/stats", headers=auth(world.desk)).json()["items"][0]
    assert "staff" not in desk_view
    refused = client.get("/api/v1/stats", headers=auth("fsk_not-a-key"))
    assert refused.status_code == 401


def test_staff_see_pending_requests_per_partner_key_and_claims_by_status(client, runtime, clock):
    """A "partner" filing for a reseller shows up in the staff figures: its own pending count, by key."""
    world = World(client, runtime)
    partner = create_key(runtime, "partner", [world.office])
    for n in range(3):
        filed = client.post(
            "/api/v1/requests",
            json=request_body(world.service, [world.office], n=90_000 + n),
            headers=auth(partner),
        )
        assert filed.status_code == 201, filed.text
    stats.forget_cached()
    auditor = create_key(runtime, "auditor")
    seen = client.get("/api/v1/stats", headers=auth(auditor)).json()["items"][0]
    with session_scope(runtime.engine) as session:
        partner_id = (
            session.execute(
                select(AppointmentRequest.filed_by).where(AppointmentRequest.channel == "partner")  # type: ignore[call-overload]
            )
            .scalars()
            .first()
        )
        declared = session.execute(
            select(func.count()).select_from(Claim).where(Claim.status == "declared")
        ).scalar_one()
    assert seen["staff"]["pending_by_channel"]["partner"] == 3
    assert seen["staff"]["pending_by_partner"] == {str(partner_id): 3}
    assert seen["claims"]["declared"] == (declared if declared >= 5 else None)
