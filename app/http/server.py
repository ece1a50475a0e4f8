"""Uvicorn's HTTP/1.1 protocol with a header timeout: a client gets ``FAIRSLOT_HEADER_TIMEOUT_SECONDS`` from the
moment it connects (or starts a new request on a kept-alive connection) to send its request's headers.

Uvicorn bounds idle kept-alive connections (``timeout_keep_alive``) and the number of concurrent
connections (``limit_concurrency``), but not the time a client takes to send its headers: a client that
connects and sends nothing, or drips a header a byte at a time, holds its connection forever, and a few
thousand of them exhaust the service (slowloris). A reverse proxy in front (nginx ``client_header_timeout``)
does this too; this protocol makes the service safe without one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.settings import get_settings


class HeaderTimeoutProtocol(H11Protocol):
    """:class:`H11Protocol` that closes a connection whose request headers do not arrive in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read here, in each worker process: the class itself travels to spawned workers by name.
        self.header_timeout = get_settings().header_timeout_seconds
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _waiting_for_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete)

    def _watch_headers(self) -> None:
        if not self._waiting_for_headers():
            self._stop_watching()
        elif self._header_timer is None and not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_watching(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()
