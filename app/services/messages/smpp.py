"""An SMPP 3.4 link to the operator's SMSC, on smpplib's client and PDU codec.

One link per worker process: bound as a transceiver, so the same connection submits messages and
receives their delivery receipts (``deliver_sm`` with the receipt bit of ``esm_class``). Each
``submit_sm`` asks for a receipt (registered delivery); up to ``WINDOW`` of them await their
``submit_sm_resp`` at once (SMPP windowing); receipts and
``enquire_link`` from the SMSC are answered as they come. When the link drops or cannot be bound, the
link waits before the next try, doubling the wait up to ``MAX_BACKOFF`` (reset by a successful bind).
A throttling answer (``ESME_RTHROTTLED``) pauses the link a moment; the message is tried again later.
"""

from __future__ import annotations

import contextlib
import logging
import re
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from smpplib import consts, exceptions, smpp
from smpplib.client import Client

from app.services.messages.sms_encoding import Segment

log = logging.getLogger("fairslot.smpp")

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
THROTTLE_PAUSE = 1.0
#: Segments awaiting their answer at once (SMPP windowing: a round trip per segment would cap throughput).
WINDOW = 10
#: Answers after which the same submit would fail again: the message is given up at once.
PERMANENT = frozenset(
    {
        consts.SMPP_ESME_RINVDSTADR,
        consts.SMPP_ESME_RINVSRCADR,
        consts.SMPP_ESME_RINVMSGLEN,
        consts.SMPP_ESME_RINVESMCLASS,
    }
)
_DELIVERED = {"DELIVRD"}
_FAILED = {"UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN"}
_STAT = re.compile(rb"stat:(\w+)")
_ID = re.compile(rb"id:(\S+)")
_RECEIPT_BIT = 0x04  # esm_class message type "SMSC delivery receipt" (SMPP 3.4 §5.2.12)
# message_state TLV values (SMPP 3.4 §5.3.2.35)
_STATE = {2: "delivered", 3: "failed", 5: "failed", 8: "failed", 4: "failed"}


class LinkDown(Exception):
    """The SMSC link is not usable now (dropped, refused, or waiting before the next try)."""


class Throttled(Exception):
    """The SMSC asked us to slow down."""


class Refused(Exception):
    """The SMSC refused a segment with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"SMSC status 0x{status:08X}: {consts.DESCRIPTIONS.get(status, 'unknown')}")
        self.status = status

    @property
    def permanent(self) -> bool:
        """Whether trying again cannot help."""
        return self.status in PERMANENT


class ReceiptStatus(StrEnum):
    """What a delivery receipt says of a segment."""

    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: the SMSC's message id of one segment and its final state."""

    receipt_id: str
    status: ReceiptStatus


@dataclass(frozen=True)
class SmppConfig:
    """``smpp://system_id:password@host:port?source_addr=Fairslot``."""

    host: str
    port: int
    system_id: str
    password: str
    source_addr: str
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 10.0) -> SmppConfig:
        """Parse ``FAIRSLOT_SMPP_URL``."""
        parsed = urlparse(url)
        if parsed.scheme != "smpp":
            raise ValueError("FAIRSLOT_SMPP_URL must look like smpp://system_id:password@host:port")
        query = parse_qs(parsed.query)
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 2775,
            system_id=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            source_addr=query.get("source_addr", ["Fairslot"])[0],
            timeout=timeout,
        )


def parse_receipt(pdu: Any) -> Receipt | None:
    """The receipt a ``deliver_sm`` carries, or None for anything else (a mobile-originated text)."""
    if not int(pdu.esm_class or 0) & _RECEIPT_BIT:
        return None
    text = pdu.short_message or b""
    receipt_id = getattr(pdu, "receipted_message_id", None)
    if isinstance(receipt_id, bytes):
        receipt_id = receipt_id.rstrip(b"\x00").decode("ascii", "replace")
    if not receipt_id and (found := _ID.search(text)):
        receipt_id = found.group(1).decode("ascii", "replace")
    state = getattr(pdu, "message_state", None)
    status: str | None = _STATE.get(int(state)) if state else None
    if status is None and (stat := _STAT.search(text)):
        word = stat.group(1).decode("ascii", "replace")
        status = "delivered" if word in _DELIVERED else "failed" if word in _FAILED else None
    if not receipt_id or status is None:
        return None
    return Receipt(str(receipt_id), ReceiptStatus(status))


@dataclass
class SmppLink:
    """A bound transceiver session, reconnected with backoff; receipts pile up in ``receipts``."""

    config: SmppConfig
    monotonic: Callable[[], float] = time.monotonic
    receipts: list[Receipt] = field(default_factory=list)
    _client: Client | None = None
    _failures: int = 0
    _not_before: float = 0.0
    _last_io: float = 0.0

    @property
    def ready(self) -> bool:
        """Whether a submit may be tried now (bound, or the wait before the next bind has passed)."""
        return self.monotonic() >= self._not_before

    def _open(self) -> Client:
        if self._client is not None:
            return self._client
        if not self.ready:
            raise LinkDown("waiting before reconnecting to the SMSC")
        client = Client(
            self.config.host, self.config.port, timeout=self.config.timeout, allow_unknown_opt_params=True
        )
        try:
            client.connect()
            client.bind_transceiver(system_id=self.config.system_id, password=self.config.password)
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            self._drop(client)
            raise LinkDown(f"cannot bind to the SMSC: {exc}") from exc
        log.info("bound to SMSC %s:%s", self.config.host, self.config.port)
        self._client = client
        self._failures = 0
        self._last_io = self.monotonic()
        return client

    def _drop(self, client: Client | None = None) -> None:
        client = client or self._client
        self._client = None
        if client is not None:
            with contextlib.suppress(OSError):
                client.disconnect()
        self._failures += 1
        wait = min(FIRST_BACKOFF * 2 ** (self._failures - 1), MAX_BACKOFF)
        self._not_before = self.monotonic() + wait

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (after a throttling answer)."""
        self._not_before = max(self._not_before, self.monotonic() + seconds)

    def submit(self, segment: Segment, destination: str) -> str:
        """Submit one segment and wait for its answer; returns the SMSC's message id."""
        (result,) = self.submit_many([(segment, destination)])
        if isinstance(result, Exception):
            raise result
        assert result is not None
        return result

    def submit_many(
        self, items: list[tuple[Segment, str]], window: int = WINDOW
    ) -> list[str | LinkDown | Throttled | Refused | None]:
        """Submit segments with up to ``window`` awaiting their answer (SMPP windowing); for each, the
        SMSC's message id, the error it met, or None when it was not sent (throttled meanwhile).

        A segment whose answer never came (the link dropped) is a ``LinkDown``: the SMSC may have taken
        it, so sending it again is the at-least-once part of the boundary.
        """
        results: list[str | LinkDown | Throttled | Refused | None] = [None] * len(items)
        if not items:
            return results
        try:
            client = self._open()
        except LinkDown as exc:
            return [exc] * len(items)
        waiting: dict[int, int] = {}
        sent = 0
        throttled = False
        try:
            while (sent < len(items) and not throttled) or waiting:
                while sent < len(items) and not throttled and len(waiting) < window:
                    segment, destination = items[sent]
                    pdu = client.send_message(
                        source_addr_ton=_source_ton(self.config.source_addr),
                        source_addr_npi=consts.SMPP_NPI_ISDN
                        if self.config.source_addr.isdigit()
                        else consts.SMPP_NPI_UNK,
                        source_addr=self.config.source_addr,
                        dest_addr_ton=consts.SMPP_TON_INTL,
                        dest_addr_npi=consts.SMPP_NPI_ISDN,
                        destination_addr=destination.lstrip("+"),
                        short_message=segment.short_message,
                        data_coding=segment.data_coding,
                        esm_class=segment.esm_class,
                        registered_delivery=consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
                    )
                    waiting[pdu.sequence] = sent
                    sent += 1
                answer = self._read(client)
                index = waiting.pop(answer.sequence, None)
                if index is None or answer.command not in ("submit_sm_resp", "generic_nack"):
                    continue
                status = int(answer.status)
                if status == consts.SMPP_ESME_RTHROTTLED:
                    throttled = True
                    self.pause(THROTTLE_PAUSE)
                    results[index] = Throttled("the SMSC is throttling")
                elif status != consts.SMPP_ESME_ROK or answer.command == "generic_nack":
                    results[index] = Refused(status)
                else:
                    message_id = answer.message_id
                    if isinstance(message_id, bytes):
                        message_id = message_id.rstrip(b"\x00").decode("ascii", "replace")
                    results[index] = str(message_id)
        except (TimeoutError, exceptions.ConnectionError, OSError, exceptions.PDUError) as exc:
            self._drop()
            lost = LinkDown(f"SMSC link lost: {type(exc).__name__} {exc}")
            for index in list(waiting.values()) + list(range(sent, len(items))):
                results[index] = lost
        return results

    def _read(self, client: Client) -> Any:
        """Read up to the next PDU that answers us, handling what the SMSC sends on its own."""
        while True:
            pdu = self._read_one(client)
            if pdu is not None:
                return pdu

    def _read_one(self, client: Client) -> Any | None:
        """Read one PDU; answer receipts, enquire_link and unbind (then None), else return it."""
        pdu = client.read_pdu()
        self._last_io = self.monotonic()
        if pdu.command == "deliver_sm":
            receipt = parse_receipt(pdu)
            if receipt is not None:
                self.receipts.append(receipt)
            client.send_pdu(_answer("deliver_sm_resp", client, pdu.sequence))
            return None
        if pdu.command == "enquire_link":
            client.send_pdu(_answer("enquire_link_resp", client, pdu.sequence))
            return None
        if pdu.command == "unbind":
            client.send_pdu(_answer("unbind_resp", client, pdu.sequence))
            raise exceptions.ConnectionError("the SMSC unbound")
        if pdu.command == "enquire_link_resp":
            return None
        return pdu

    def poll(self, keepalive: float = 30.0) -> list[Receipt]:
        """Take the receipts that arrived (reading what waits on the socket); returns and clears them."""
        client = self._client
        if client is not None:
            try:
                while client._socket is not None and _readable(client._socket):
                    pdu = self._read_one(client)
                    if pdu is not None:
                        log.debug("unexpected %s from the SMSC", pdu.command)
                if self.monotonic() - self._last_io > keepalive:
                    client.send_pdu(smpp.make_pdu("enquire_link", client=client))
                    self._last_io = self.monotonic()
            except (TimeoutError, exceptions.ConnectionError, OSError, exceptions.PDUError) as exc:
                log.warning("SMSC link lost while reading receipts: %s", exc)
                self._drop()
        taken, self.receipts = self.receipts, []
        return taken

    def close(self) -> None:
        """Unbind and close the link."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(exceptions.ConnectionError, exceptions.PDUError, OSError):
                client.unbind()
            client.disconnect()


def _answer(name: str, client: Client, sequence: int) -> Any:
    # smpplib's constructor keeps the client's own sequence number: the answer's is set after.
    pdu = smpp.make_pdu(name, client=client)
    pdu.sequence = sequence
    return pdu


def _readable(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _source_ton(source: str) -> int:
    return consts.SMPP_TON_INTL if source.isdigit() else consts.SMPP_TON_ALNUM
