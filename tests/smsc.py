"""A real SMSC on 127.0.0.1 for the suite: SMPP 3.4 over TCP on smpplib's PDU codec.

It binds transceivers (checking system_id and password), answers ``submit_sm`` with a message id,
records every submit (with its decoded segment), and sends a delivery receipt (``deliver_sm`` with the
receipt bit) for each one that asked for it, keeping it until a ``deliver_sm_resp`` takes it and sending
the kept ones again on the next bind (as an SMSC stores receipts). Modes, set on the instance: ``drop_after`` takes the next
submit once that many have arrived, then closes the link without answering it (a link dropped mid-batch,
once: the sender cannot know the submit was taken), ``throttle``
answers ``ESME_RTHROTTLED`` to that many submits, ``undeliverable`` lists destinations whose receipts
say ``UNDELIV``, ``refuse_binds`` answers every bind with ``ESME_RINVPASWD``, and ``receipts`` turns
receipts off.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import struct
import threading
from collections import defaultdict
from dataclasses import dataclass

from smpplib import consts, smpp
from smpplib.client import SimpleSequenceGenerator
from smpplib.gsm import GSM_CHARACTER_TABLE

SYSTEM_ID = "fairslot"
PASSWORD = "secret"


def gsm_decode(data: bytes) -> str:
    """Unpacked GSM 03.38 septets back to text (the escape table included)."""
    out = []
    escape = False
    for byte in data:
        if escape:
            out.append(GSM_CHARACTER_TABLE[byte + 0x80])
            escape = False
        elif byte == 0x1B:
            escape = True
        else:
            out.append(GSM_CHARACTER_TABLE[byte])
    return "".join(out)


@dataclass(frozen=True)
class Submitted:
    """One submit_sm as the SMSC received it."""

    message_id: str
    destination: str
    source: str
    data_coding: int
    esm_class: int
    registered_delivery: int
    short_message: bytes
    connection: int

    @property
    def udh(self) -> tuple[int, int, int] | None:
        """(reference, total, number) of a concatenated segment."""
        if not self.esm_class & consts.SMPP_GSMFEAT_UDHI:
            return None
        header = self.short_message
        assert header[:3] == b"\x05\x00\x03", header[:6]
        return header[3], header[4], header[5]

    @property
    def text(self) -> str:
        """The segment's text, decoded."""
        body = self.short_message[6:] if self.udh else self.short_message
        return (
            body.decode("utf-16-be")
            if self.data_coding == consts.SMPP_ENCODING_ISO10646
            else gsm_decode(body)
        )


class Smsc:
    """The test SMSC; ``start()`` it, point ``FAIRSLOT_SMPP_URL`` at ``url``, ``stop()`` it."""

    def __init__(self) -> None:
        self.submits: list[Submitted] = []
        self.binds = 0
        self.refused_binds = 0
        self.refuse_binds = False
        self.drop_after: int | None = None
        self.throttle = 0
        self.throttled = 0
        self.undeliverable: set[str] = set()
        self.receipts = True
        #: Receipts sent and not yet acknowledged by a deliver_sm_resp: sent again on the next bind, as
        #: an SMSC stores receipts until the ESME takes them.
        self._unacked: dict[str, Submitted] = {}
        self._ids = itertools.count(1)
        self._connections = itertools.count(1)
        self._lock = threading.Lock()
        smsc = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                smsc._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The SMPP URL of this SMSC."""
        return f"smpp://{SYSTEM_ID}:{PASSWORD}@127.0.0.1:{self.port}?source_addr=Fairslot"

    def start(self) -> Smsc:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def messages(self) -> list[tuple[str, str]]:
        """Every whole message received, as (destination, text), segments joined in order; a segment
        received twice counts once within its message."""
        whole: list[tuple[str, str]] = []
        parts: dict[tuple[str, int, int], dict[int, str]] = defaultdict(dict)
        joined: set[tuple[str, int, int]] = set()
        with self._lock:
            submits = list(self.submits)
        for submit in submits:
            if submit.udh is None:
                whole.append((submit.destination, submit.text))
                continue
            reference, total, number = submit.udh
            key = (submit.destination, reference, total)
            parts[key][number] = submit.text
            if len(parts[key]) == total and key not in joined:
                joined.add(key)
                whole.append((submit.destination, "".join(parts[key][n] for n in range(1, total + 1))))
        return whole

    # --- the protocol ------------------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        generator = SimpleSequenceGenerator()
        connection = next(self._connections)
        sent_to: dict[int, str] = {}  # receipt sequence -> message id
        bound = False
        try:
            while True:
                header = _recv(sock, 4)
                if header is None:
                    return
                (length,) = struct.unpack(">L", header)
                body = _recv(sock, length - 4)
                if body is None:
                    return
                pdu = smpp.parse_pdu(header + body, client=generator, allow_unknown_opt_params=True)
                command = pdu.command
                if command in ("bind_transceiver", "bind_transmitter", "bind_receiver"):
                    ok = (
                        _text(pdu.system_id) == SYSTEM_ID
                        and _text(pdu.password) == PASSWORD
                        and not self.refuse_binds
                    )
                    status = consts.SMPP_ESME_ROK if ok else consts.SMPP_ESME_RINVPASWD
                    with self._lock:
                        if ok:
                            self.binds += 1
                        else:
                            self.refused_binds += 1
                    answer = _answer(f"{command}_resp", generator, pdu.sequence, status, system_id="TestSMSC")
                    sock.sendall(answer.generate())
                    bound = ok
                    if not ok:
                        return
                    with self._lock:
                        stored = list(self._unacked.values())
                    for submitted in stored:
                        self._receipt(sock, generator, submitted, sent_to)
                elif command == "submit_sm":
                    if not bound:
                        return
                    if not self._submit(sock, generator, pdu, connection, sent_to):
                        return
                elif command == "deliver_sm_resp":
                    with self._lock:
                        self._unacked.pop(sent_to.pop(pdu.sequence, ""), None)
                elif command == "enquire_link":
                    sock.sendall(_answer("enquire_link_resp", generator, pdu.sequence).generate())
                elif command == "unbind":
                    sock.sendall(_answer("unbind_resp", generator, pdu.sequence).generate())
                    return
                # deliver_sm_resp and enquire_link_resp need nothing
        except OSError:
            return
        finally:
            sock.close()

    def _submit(
        self,
        sock: socket.socket,
        generator: SimpleSequenceGenerator,
        pdu,
        connection: int,
        sent_to: dict[int, str],
    ) -> bool:
        with self._lock:
            drop = self.drop_after is not None and len(self.submits) >= self.drop_after
            if drop:
                self.drop_after = None
            if self.throttle > 0:
                self.throttle -= 1
                self.throttled += 1
                answer = _answer("submit_sm_resp", generator, pdu.sequence, consts.SMPP_ESME_RTHROTTLED)
                sock.sendall(answer.generate())
                return True
            message_id = f"M{next(self._ids):08d}"
            submitted = Submitted(
                message_id=message_id,
                destination=_text(pdu.destination_addr),
                source=_text(pdu.source_addr),
                data_coding=int(pdu.data_coding or 0),
                esm_class=int(pdu.esm_class or 0),
                registered_delivery=int(pdu.registered_delivery or 0),
                short_message=bytes(pdu.short_message or b""),
                connection=connection,
            )
            self.submits.append(submitted)
        if drop:
            return False  # taken, then the link drops before the answer: the sender cannot know
        answer = _answer("submit_sm_resp", generator, pdu.sequence, message_id=message_id)
        sock.sendall(answer.generate())
        if self.receipts and submitted.registered_delivery & 0x03:
            with self._lock:
                self._unacked[message_id] = submitted
            self._receipt(sock, generator, submitted, sent_to)
        return True

    def _receipt(
        self,
        sock: socket.socket,
        generator: SimpleSequenceGenerator,
        submitted: Submitted,
        sent_to: dict[int, str],
    ) -> None:
        message_id = submitted.message_id
        failed = submitted.destination in self.undeliverable
        stat = "UNDELIV" if failed else "DELIVRD"
        receipt = smpp.make_pdu(
            "deliver_sm",
            client=generator,
            source_addr_ton=consts.SMPP_TON_INTL,
            source_addr_npi=consts.SMPP_NPI_ISDN,
            source_addr=submitted.destination,
            dest_addr_ton=consts.SMPP_TON_ALNUM,
            destination_addr=submitted.source,
            esm_class=0x04,
            short_message=(
                f"id:{message_id} sub:001 dlvrd:{'000' if failed else '001'} submit date:2612010900 "
                f"done date:2612010901 stat:{stat} err:000 text:"
            ).encode("ascii"),
            receipted_message_id=message_id,
            message_state=5 if failed else 2,
        )
        sent_to[receipt.sequence] = message_id
        sock.sendall(receipt.generate())


def _answer(name: str, generator: SimpleSequenceGenerator, sequence: int, status: int = 0, **fields: object):
    """A response PDU (smpplib's constructor keeps its own sequence and status: set them after)."""
    pdu = smpp.make_pdu(name, client=generator, **fields)
    pdu.sequence = sequence
    pdu.status = status
    return pdu


def _recv(sock: socket.socket, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("ascii", "replace")
    return str(value or "")
