"""drand relays on 127.0.0.1 for the suite: real published rounds served like drand's HTTP API.

``GET /{chain_hash}/info`` and ``GET /{chain_hash}/public/{round}`` answer as the League's relays do (404
for a round the relay does not have). A relay can also misbehave on purpose: hang without answering, trickle
its answer a byte at a time (each byte well inside any read timeout, the whole taking minutes), serve a
forged signature, or serve a round of another chain under the asked chain's hash.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app.domain.draws import beacon

DATA = Path(__file__).parent / "data" / "drand"
CHAINS: dict[str, dict[str, Any]] = {
    k: v for k, v in json.loads((DATA / "chains.json").read_text()).items() if not k.startswith("_")
}
ROUNDS: dict[str, dict[str, Any]] = {
    k: v for k, v in json.loads((DATA / "rounds.json").read_text()).items() if not k.startswith("_")
}

#: A source of rounds: (chain hash, round) -> the JSON body to serve, or None for 404.
RoundSource = Callable[[str, int], dict[str, Any] | None]


def recorded(chain_hash: str, round_number: int) -> dict[str, Any] | None:
    """The recorded real rounds (quicknet 657413, mainnet 3311596)."""
    for name, published in ROUNDS.items():
        if CHAINS[name]["hash"] == chain_hash and published["round"] == round_number:
            return dict(published)
    return None


def forged(chain_hash: str, round_number: int) -> dict[str, Any] | None:
    """The recorded round with one signature byte changed (and a randomness to match it)."""
    body = recorded(chain_hash, round_number)
    if body is None:
        return None
    signature = bytearray(bytes.fromhex(body["signature"]))
    signature[-1] ^= 0x01
    body["signature"] = signature.hex()
    body["randomness"] = beacon.Round(round_number, signature.hex()).randomness
    return body


def other_chain(chain_hash: str, round_number: int) -> dict[str, Any] | None:
    """Another chain's real round, relabelled with the asked round number."""
    for name, published in ROUNDS.items():
        if CHAINS[name]["hash"] != chain_hash:
            return {**published, "round": round_number}
    return None


def signing(secret_key: bytes, chain: beacon.Chain) -> RoundSource:
    """A chain of a test key, publishing each round once its (real) time has come."""

    def source(chain_hash: str, round_number: int) -> dict[str, Any] | None:
        if chain_hash != chain.chain_hash or chain.round_time(round_number).timestamp() > time.time():
            return None
        published = beacon.sign_round(secret_key, round_number)
        return {"round": round_number, "signature": published.signature, "randomness": published.randomness}

    return source


class Relay:
    """One relay server; ``url`` is its base (``http://127.0.0.1:PORT``)."""

    def __init__(self, rounds: RoundSource, *, hang: bool = False, trickle: bool = False) -> None:
        self.rounds = rounds
        self.hang = hang
        self.trickle = trickle
        self.asked: list[str] = []
        self.released = threading.Event()
        #: Set when a client hung up on a trickled answer before its end.
        self.cut = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                relay.asked.append(self.path)
                if relay.hang:
                    relay.released.wait(60)
                    return
                if relay.trickle:
                    self._trickle()
                    return
                parts = self.path.strip("/").split("/")
                body: dict[str, Any] | None = None
                if len(parts) == 2 and parts[1] == "info":
                    body = next((c for c in CHAINS.values() if c["hash"] == parts[0]), None)
                elif len(parts) == 3 and parts[1] == "public" and parts[2].isdigit():
                    body = relay.rounds(parts[0], int(parts[2]))
                payload = json.dumps(body or {"error": "not found"}).encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _trickle(self) -> None:
                padding = b"x" * 4000
                answer = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: "
                    + padding
                    + b"\r\nContent-Length: 4000\r\n\r\n"
                    + b" " * 4000
                )
                try:
                    for byte in answer:  # a byte every 20 ms: minutes for the whole answer
                        if relay.released.wait(0.02):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:
                    relay.cut.set()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Relay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def relays(*sources: tuple[RoundSource, bool], trickle: bool = False) -> Iterator[list[Relay]]:
    """Relays for ``(rounds, hang)`` pairs (all trickling with ``trickle``), started and stopped around the
    block."""
    started = [Relay(rounds, hang=hang, trickle=trickle).start() for rounds, hang in sources]
    try:
        yield started
    finally:
        for relay in started:
            relay.stop()
