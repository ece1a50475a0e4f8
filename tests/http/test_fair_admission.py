"""Fair admission: under saturation, a request from a source with nothing in flight goes in before the backlog
of a source that floods, and one source cannot fill the queue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.http.admission import AdmissionMiddleware, FairQueue, QueueFull, Ticket

BLOCKS = ["127.0.1.0/24", "127.0.2.0/24", "127.0.3.0/24", "2001:db8::/56"]


@st.composite
def schedules(draw: Callable[..., Any]) -> tuple[int, list[tuple[str, int]]]:
    """A limit and steps: ("arrive", block index), ("finish", which admitted), ("give up", which waiting)."""
    limit = draw(st.integers(1, 4))
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(["arrive", "arrive", "finish", "give up"]), st.integers(0, 50)),
            max_size=80,
        )
    )
    return limit, steps


@settings(max_examples=300)
@given(schedules())
def test_a_freed_place_goes_to_the_least_busy_block_and_first_come_within_it(
    schedule: tuple[int, list[tuple[str, int]]],
) -> None:
    limit, steps = schedule
    queue = FairQueue(limit)
    admitted: list[Ticket] = []
    waiting: list[Ticket] = []
    for action, number in steps:
        before = {b: queue.in_flight.get(b, 0) for b in queue.waiting}
        heads = {b: q[0].order for b, q in queue.waiting.items()}
        if action == "arrive":
            try:
                ticket = queue.arrive(BLOCKS[number % len(BLOCKS)])
            except QueueFull:
                assert len(queue.waiting[BLOCKS[number % len(BLOCKS)]]) == limit
                continue
            (admitted if ticket.admitted else waiting).append(ticket)
            assert ticket.admitted or queue.admitted == limit or len(waiting) > 1
            continue
        pool = admitted if action == "finish" else waiting
        if not pool:
            continue
        gone = pool.pop(number % len(pool))
        if gone.admitted:
            before[gone.block] = before.get(gone.block, queue.in_flight[gone.block]) - 1
        newly = queue.leave(gone)
        for ticket in newly:
            # The chosen block had the fewest in flight of all waiting blocks, then the earliest arrival.
            assert all(
                (before[ticket.block], heads[ticket.block]) <= (before[b], heads[b])
                for b in heads
                if b in before
            )
            assert ticket.order == heads[ticket.block]  # first come within its block
            waiting.remove(ticket)
            admitted.append(ticket)
            before[ticket.block] += 1
            queue_of_block = queue.waiting.get(ticket.block)
            if queue_of_block:
                heads[ticket.block] = queue_of_block[0].order
            else:
                heads.pop(ticket.block)
        assert queue.admitted == len(admitted) <= limit
        assert sum(queue.in_flight.values()) == queue.admitted
        assert queue.admitted == limit or not queue.waiting  # nobody waits while there is room
        assert all(len(q) <= limit for q in queue.waiting.values())


def _scope(address: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/", "headers": [], "client": (address, 40000)}


def test_under_saturation_a_new_source_goes_before_a_flooding_sources_backlog() -> None:
    async def scenario() -> tuple[list[str], list[int]]:
        served: list[str] = []
        release: dict[str, asyncio.Event] = {}

        async def app(scope: Any, receive: Any, send: Any) -> None:
            name = scope["client"][0]
            served.append(name)
            release[name] = asyncio.Event()
            await release[name].wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        statuses: list[int] = []

        async def call(address: str) -> None:
            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])
                if message["type"] == "http.response.body" and message.get("body"):
                    assert json.loads(message["body"])["code"] == "busy_retry"

            await middleware(_scope(address), receive, send)

        middleware = AdmissionMiddleware(app, limit=2, wait_seconds=30)
        tasks = []
        for address in ("127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.1.5"):  # one /24 floods
            tasks.append(asyncio.create_task(call(address)))
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(call("127.0.2.7")))  # a person, from elsewhere, arrives last
        await asyncio.sleep(0.01)
        for _ in range(5):  # finish the oldest request in service, one at a time
            current = next(name for name in served if not release[name].is_set())
            release[current].set()
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        return served, statuses

    served, statuses = asyncio.run(asyncio.wait_for(scenario(), 20))

    # Two admitted, two of the same block waiting (its share), the fifth refused at once; the person goes
    # in as soon as a place frees, ahead of the flood's backlog.
    assert served == ["127.0.1.1", "127.0.1.2", "127.0.2.7", "127.0.1.3", "127.0.1.4"]
    assert statuses.count(503) == 1
    assert statuses.count(200) == 5


def test_without_saturation_requests_go_straight_in() -> None:
    queue = FairQueue(3)
    tickets = [queue.arrive("127.0.1.0/24") for _ in range(3)]

    assert all(t.admitted for t in tickets)
    assert queue.in_flight == {"127.0.1.0/24": 3}
    assert queue.waiting == {}
