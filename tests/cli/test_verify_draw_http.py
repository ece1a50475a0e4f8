"""``fairslot verify-draw URL`` over real sockets: same-origin redirects only, a size cap, a deadline."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.cli import RecordRefused, fetch_record
from tests.cli.test_cli import _fairslot, _published_record


class _Handler(BaseHTTPRequestHandler):
    record: bytes = b"{}"
    other_origin = ""

    def log_message(self, *_args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/record":
            self._send(
                200, gzip.compress(self.record), Content_Type="application/json", Content_Encoding="gzip"
            )
        elif self.path == "/moved":
            self._send(302, b"", Location="/record")
        elif self.path == "/away":
            self._send(302, b"", Location=f"{self.other_origin}/record")
        elif self.path == "/huge":
            self._send(200, b'{"entries": "' + b"x" * (3 * 2**20) + b'"}')
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass


@pytest.fixture
def server(client: Any, runtime: Any, clock: Any) -> Iterator[str]:
    """A plain HTTP server holding a genuine record; its base URL."""
    _Handler.record = json.dumps(_published_record(client, runtime, clock)).encode()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    _Handler.other_origin = f"http://localhost:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_record_is_read_gzip_and_through_a_same_origin_redirect(server: str) -> None:
    assert fetch_record(f"{server}/record") == json.loads(_Handler.record)
    assert fetch_record(f"{server}/moved") == json.loads(_Handler.record)


def test_a_redirect_to_another_origin_is_not_followed(server: str) -> None:
    with pytest.raises(RecordRefused, match="another origin"):
        fetch_record(f"{server}/away")


def test_a_record_past_the_size_cap_is_refused(server: str) -> None:
    with pytest.raises(RecordRefused, match="larger than 1 MB"):
        fetch_record(f"{server}/huge", max_mb=1)


def test_a_drip_feeding_server_is_cut_off_at_the_deadline(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(RecordRefused, match="took over 1 s"):
        fetch_record(f"{server}/drip", deadline=1)
    print(f"cut off after {time.monotonic() - started:.2f} s")


def test_verify_draw_over_http_exits_0_on_a_genuine_record_and_1_on_a_slow_server(
    server: str, runtime: Any, tmp_path: Any
) -> None:
    genuine = _fairslot(runtime.settings.database_url, "verify-draw", f"{server}/record", cwd=tmp_path)
    slow = _fairslot(
        runtime.settings.database_url, "verify-draw", "--timeout", "1", f"{server}/drip", cwd=tmp_path
    )

    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert slow.returncode == 1
    assert "took over 1 s" in slow.stderr
