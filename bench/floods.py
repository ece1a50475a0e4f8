"""Clients for the flood benchmarks, each leaving from a loopback source address of its own.

wrk cannot choose its source address, and every connection from 127.0.0.1 looks like one client to the edge
and to the application. These clients bind 127.0.1.x (bots) and 127.0.2.x (real applicants), so that nginx's
per-address zones and the application's limits see the clients production would see. They speak plain
HTTP/1.1 over asyncio streams (uvloop when installed), reuse their connections, and count every answer.

- :func:`bot_flood` (run in a process of its own per bot address): ``connections`` kept-alive connections
  posting intake submissions, each with a fresh identity, as fast as answers come, for ``seconds``.
- :func:`applicants`: a real applicant every ``every`` seconds, each from the next address of its own: a
  new connection, a submission, then one look at the request with its access code; both timed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _name(number: int) -> str:
    """A family name of its own for each number (one person per submission, never a duplicate person)."""
    letters = []
    while True:
        number, digit = divmod(number, 26)
        letters.append(_LETTERS[digit])
        if not number:
            break
    return "Diallo-" + "".join(letters).capitalize()


def intake_body(number: str, serial: int) -> bytes:
    """An intake submission with a fresh identity: its own document number and its own person."""
    return json.dumps(
        {
            "service": "bench",
            "offices": ["bench"],
            "identity": {
                "document_type": "passport",
                "document_number": number,
                "family_name": _name(serial),
                "given_names": "Aicha",
                "birth_date": (date(1950, 1, 1) + timedelta(days=serial % 20_000)).isoformat(),
            },
            "contact": {"email": "a@example.org"},
            "language": "fr",
        }
    ).encode()


def request_bytes(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    """One HTTP/1.1 request, kept alive."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def _loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


@dataclass
class BotCounts:
    """What one bot address got."""

    address: str
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    seconds: float = 0.0

    @property
    def entries(self) -> int:
        """Submissions the service took in (201)."""
        return self.statuses[201]


def bot_flood(address: str, port: int, connections: int, seconds: float) -> dict[str, Any]:
    """Flood intake from ``address`` with ``connections`` connections for ``seconds``; the counts as a dict."""
    counts = BotCounts(address)
    prefix = f"B{address.rsplit('.', 1)[1]:0>3}{uuid.uuid4().hex[:6]}"
    numbers = itertools.count()
    salt = int(uuid.uuid4().int % 10**12)
    # Bots run on machines of their own on a real day: here they give way to the service and to the
    # applicants' measuring client on the shared cores (their Python client costs far more than wrk's C).
    os.nice(19)

    async def connection() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
            except OSError:
                counts.failures += 1
                await asyncio.sleep(0.05)
                continue
            try:
                while time.monotonic() < deadline:
                    serial = next(numbers)
                    body = intake_body(f"{prefix}{serial:08d}", salt + serial)
                    writer.write(request_bytes("POST", "/api/v1/requests", body))
                    status, headers, _ = await read_answer(reader)
                    counts.statuses[status] += 1
                    if headers.get("connection", "").lower() == "close":
                        break
            except (OSError, asyncio.IncompleteReadError, ValueError):
                counts.failures += 1
            finally:
                writer.close()

    async def flood() -> None:
        started = time.monotonic()
        await asyncio.gather(*(connection() for _ in range(connections)))
        counts.seconds = time.monotonic() - started

    loop = _loop()
    try:
        loop.run_until_complete(flood())
    finally:
        loop.close()
    return {
        "address": address,
        "statuses": dict(counts.statuses),
        "failures": counts.failures,
        "seconds": counts.seconds,
    }


@dataclass
class ApplicantFigures:
    """Real applicants' latencies (seconds) and answers."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def percentile(self, share: float) -> float:
        """The latency below which ``share`` of the requests were answered, in ms."""
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] * 1000


async def applicants(port: int, seconds: float, every: float = 0.1) -> ApplicantFigures:
    """A real applicant every ``every`` seconds for ``seconds``, each from an address of its own."""
    figures = ApplicantFigures()
    addresses = (f"127.0.2.{host}" for host in itertools.cycle(range(1, 251)))

    async def one(address: str, number: str, person: int) -> None:
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
        except OSError:
            figures.statuses["connect failed"] += 1
            return
        try:
            writer.write(request_bytes("POST", "/api/v1/requests", intake_body(number, person)))
            status, _, body = await read_answer(reader)
            figures.latencies.append(time.perf_counter() - started)
            figures.statuses[f"POST {status}"] += 1
            if status != 201:
                return
            created = json.loads(body)
            started = time.perf_counter()
            headers = {"Authorization": f"Bearer {created['access_code']}"}
            writer.write(request_bytes("GET", f"/api/v1/requests/{created['id']}", headers=headers))
            status, _, _ = await read_answer(reader)
            figures.latencies.append(time.perf_counter() - started)
            figures.statuses[f"GET {status}"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            figures.statuses["connection lost"] += 1
        finally:
            writer.close()

    tasks = []
    deadline = time.monotonic() + seconds
    serial = uuid.uuid4().hex[:6]
    salt = int(uuid.uuid4().int % 10**12) + 10**13  # persons no bot uses
    for n in itertools.count():
        if time.monotonic() >= deadline:
            break
        tasks.append(asyncio.create_task(one(next(addresses), f"R{serial}{n:07d}", salt + n)))
        await asyncio.sleep(every)
    await asyncio.gather(*tasks)
    return figures
