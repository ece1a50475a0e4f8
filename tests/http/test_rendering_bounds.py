"""Expensive renderings are bounded per address and per process: forty parallel receipt downloads from one
address get two at a time and 429 for the rest, and another address is served meanwhile; a waiting rendering
is served in turn, or refused with 503 busy_retry; a booking's QR code is drawn once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from app.domain.errors import BusyRetry, RateLimited
from app.domain.proofs.qr import qr_svg
from app.http.renderings import Gate
from app.runtime import Runtime
from app.services import scheduler
from tests.factories import World, auth
from tests.web.helpers import live_server


def test_past_its_share_an_address_is_refused_at_once_with_a_429_and_others_still_render() -> None:
    gate = Gate(per_process=4, per_address=1)
    gate.enter("203.0.113.7")

    with pytest.raises(RateLimited) as refused:
        gate.enter("203.0.113.7")
    gate.enter("198.51.100.9")  # another address renders meanwhile

    assert refused.value.extra["headers"] == {"Retry-After": "1"}
    gate.leave("203.0.113.7")
    gate.enter("203.0.113.7")  # its rendering done, the address has its share again


def test_with_no_slot_free_a_rendering_waits_its_turn_then_is_refused_with_a_503() -> None:
    async def main() -> tuple[list[str], BusyRetry]:
        gate = Gate(per_process=1, per_address=5, wait_seconds=0.2)
        order: list[str] = []
        await gate.acquire()  # the slot is taken

        async def waiter(name: str) -> None:
            await gate.acquire()
            order.append(name)
            gate.release()

        async with anyio.create_task_group() as group:
            group.start_soon(waiter, "first")
            await anyio.sleep(0.01)
            group.start_soon(waiter, "second")
            await anyio.sleep(0.01)
            gate.release()  # handed over in the order they asked
        await gate.acquire()
        with pytest.raises(BusyRetry) as refused:
            await gate.acquire()  # nobody releases it within the wait
        return order, refused.value

    order, refused = anyio.run(main)

    assert order == ["first", "second"]
    assert refused.status == 503 and refused.extra["headers"] == {"Retry-After": "1"}


def test_a_bookings_qr_code_is_drawn_once_however_often_its_page_is_shown(
    client: TestClient, runtime: Runtime, clock: Any
) -> None:
    world = World(client, runtime)
    applicant = world.applicant()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    client.post(f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"]))
    qr_svg.cache_clear()

    for _ in range(5):
        shown = client.get(
            f"/api/v1/requests/{applicant['id']}/booking/qr.svg", headers=auth(applicant["access_code"])
        )
        assert shown.status_code == 200

    assert (qr_svg.cache_info().misses, qr_svg.cache_info().hits) == (1, 4)


async def _download(base: str, path: str, address: str, times: int, headers: dict[str, str]) -> list[Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return list(
            await asyncio.gather(
                *(http.get(path, headers={**headers, "X-Forwarded-For": address}) for _ in range(times))
            )
        )


@pytest.mark.once
def test_forty_parallel_receipts_from_one_address_do_not_starve_another(
    client: TestClient, runtime: Runtime
) -> None:
    world = World(client, runtime)
    flooder = world.applicant()
    other = world.applicant()
    path = "/api/v1/requests/{}/receipt.pdf"

    async def both(base: str) -> tuple[list[Any], list[Any], list[Any]]:
        flood = asyncio.create_task(
            _download(base, path.format(flooder["id"]), "203.0.113.7", 40, auth(flooder["access_code"]))
        )
        await asyncio.sleep(0.2)  # the flood is under way
        receipt = await _download(
            base, path.format(other["id"]), "198.51.100.9", 1, auth(other["access_code"])
        )
        read = await _download(base, "/api/v1/offices", "198.51.100.9", 1, {})
        return await flood, receipt, read

    # The defaults: two at once for an address, four for the process.
    assert (runtime.settings.renderings_per_address, runtime.settings.renderings_per_process) == (2, 4)
    with live_server(runtime) as base:
        flood, (receipt,), (read,) = asyncio.run(both(base))

    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    assert read.status_code == 200
    statuses = sorted(r.status_code for r in flood)
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) >= 1 and statuses.count(429) >= 30  # served two by two, the rest refused
    refusal = next(r for r in flood if r.status_code == 429)
    assert refusal.headers["content-type"].startswith("application/problem+json")
    assert refusal.json()["code"] == "rate_limited" and refusal.headers["retry-after"] == "1"
