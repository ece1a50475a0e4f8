"""Published draw records as stored documents: built once, kept gzip-compressed, served without locks.

A draw of a million entries makes a record of some 150 MB of JSON. Streaming it from the ``draw_entry`` rows
at each download held a database session for the whole transfer (on SQLite every transaction takes the
write lock: one anonymous download froze every other request) and ran into the request timeout. Instead the
draw itself writes the record once, in its own transaction (:func:`compress`, then :func:`store`), as one gzip document with the
SHA-256 of its JSON text; a download reads that row in a read snapshot (never the write lock) and sends the
stored bytes: with ``ETag`` (the digest) for ``If-None-Match``, and byte ``Range`` requests on the gzip form
so that an interrupted download resumes. Draws recorded before this table existed get their document built
from their rows on first download (:func:`load`).

The document is byte for byte what :func:`app.services.draws.drawing.record_json_chunks` renders from the rows (a
test pins the two together), and ``fairslot verify-draw`` recomputes it like any record.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from app.db.engine import read_snapshot
from app.db.models import Draw, DrawDocument, DrawEntry
from app.domain.draws import draw_record, lottery
from app.domain.errors import NotFound

_TABLE = DrawDocument.__table__  # type: ignore[attr-defined]
#: Entries rendered per piece handed to the compressor (fewer, larger calls are faster).
_PIECE = 2000
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Document:
    """A stored record: its digest, its JSON size and its gzip bytes."""

    draw_id: int
    digest: str
    size: int
    gzip_body: bytes

    @property
    def etag(self) -> str:
        """The strong ETag of the JSON representation."""
        return f'"{self.digest}"'

    @property
    def gzip_etag(self) -> str:
        """The strong ETag of the gzip representation (another representation, another tag)."""
        return f'"{self.digest}-gzip"'

    def json_chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The JSON text, decompressed piece by piece (for a client that does not take gzip)."""
        inflater = zlib.decompressobj(wbits=31)
        for start in range(0, len(self.gzip_body), size):
            piece = inflater.decompress(self.gzip_body[start : start + size])
            if piece:
                yield piece
        tail = inflater.flush()
        if tail:
            yield tail


def render(header: dict[str, Any], entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The record's JSON text in pieces: the header's fields, then ``entries`` in rank order."""
    head = json.dumps({**header, "entries": []}, ensure_ascii=False)
    yield head[: -len("[]}")] + "["
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    piece: list[str] = []
    first = True
    for entry in entries:
        piece.append(dumps(entry))
        if len(piece) >= _PIECE:
            yield ("" if first else ",") + ",".join(piece)
            first, piece = False, []
    if piece:
        yield ("" if first else ",") + ",".join(piece)
    yield "]}"


#: An entry's fields in the draw's own terms: entry, weight text, availability as JSON text, rank,
#: outcome, slot id or None.
Row = tuple[str, str, str, int, str, str | None]


def _string(text: str) -> str:
    """``json.dumps(text, ensure_ascii=False)``, without its cost for the plain text a draw holds."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def render_rows(header: dict[str, Any], rows: Iterable[Row]) -> Iterator[str]:
    """:func:`render` for the draw's own rows, without building a dict per entry (a million entries in a
    fraction of the time); a test pins its text to :func:`render`'s."""

    # Weights, availabilities and outcomes repeat: each distinct one is rendered once.
    middles: dict[tuple[str, str], str] = {}
    tails: dict[str, str] = {}

    def entries() -> Iterator[str]:
        for entry, weight, availability, rank, outcome, slot in rows:
            middle = middles.get((weight, availability))
            if middle is None:
                middle = middles[(weight, availability)] = (
                    f'", "weight": {_string(weight)}, "availability": {availability}, "rank": '
                )
            tail = tails.get(outcome)
            if tail is None:
                tail = tails[outcome] = f', "outcome": {_string(outcome)}, "slot": '
            yield (
                f'{{"entry": {_string(entry)[:-1]}{middle}{int(rank)}{tail}'
                f"{'null' if slot is None else _string(slot)}}}"
            )

    head = json.dumps({**header, "entries": []}, ensure_ascii=False)
    yield head[: -len("[]}")] + "["
    piece: list[str] = []
    first = True
    for text in entries():
        piece.append(text)
        if len(piece) >= _PIECE:
            yield ("" if first else ",") + ",".join(piece)
            first, piece = False, []
    if piece:
        yield ("" if first else ",") + ",".join(piece)
    yield "]}"


def compress(pieces: Iterable[str]) -> tuple[str, int, bytes]:
    """The SHA-256 (hex), the byte size and the gzip form of a text given in pieces."""
    digest = hashlib.sha256()
    size = 0
    deflater = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    out: list[bytes] = []
    for text in pieces:
        data = text.encode("utf-8")
        digest.update(data)
        size += len(data)
        out.append(deflater.compress(data))
    out.append(deflater.flush())
    return digest.hexdigest(), size, b"".join(out)


def build(session: Session, draw_id: int, header: dict[str, Any], rows: Iterable[Row]) -> None:
    """Store a draw's document in the caller's transaction (the draw's own)."""
    store(session, draw_id, *compress(render_rows(header, rows)))


def store(session: Session, draw_id: int, digest: str, size: int, body: bytes) -> None:
    """Store a document :func:`compress` made, in the caller's transaction (the draw's own)."""
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(
        insert(_TABLE)
        .values(draw_id=draw_id, digest=digest, size=size, gzip_body=body)
        .on_conflict_do_nothing()
    )


def _stored(engine: Engine, draw_id: int) -> tuple[Document | None, bool]:
    """The stored document, and whether the draw exists, read in a snapshot (no write lock)."""
    with read_snapshot(engine) as conn:
        row = conn.execute(
            select(_TABLE.c.digest, _TABLE.c.size, _TABLE.c.gzip_body).where(_TABLE.c.draw_id == draw_id)
        ).first()
        if row is not None:
            return Document(draw_id, row.digest, row.size, bytes(row.gzip_body)), True
        exists = conn.execute(select(col(Draw.id)).where(col(Draw.id) == draw_id)).first() is not None
    return None, exists


def load(engine: Engine, draw_id: int) -> Document:
    """The document of a draw (404 when there is no such draw); built once from its rows for older draws."""
    document, exists = _stored(engine, draw_id)
    if document is not None:
        return document
    if not exists:
        raise NotFound(f"no draw {draw_id}")
    with read_snapshot(engine) as conn, Session(bind=conn) as reader:
        draw = reader.get(Draw, draw_id)
        assert draw is not None
        digest, size, body = compress(render(draw.header, record_entries(reader, draw_id)))
    with Session(engine) as writer:
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        writer.execute(
            insert(_TABLE)
            .values(draw_id=draw_id, digest=digest, size=size, gzip_body=body)
            .on_conflict_do_nothing()
        )
        writer.commit()
    return Document(draw_id, digest, size, body)


def record_entries(session: Session, draw_id: int) -> Iterator[dict[str, Any]]:
    """The record's entries in rank order, streamed from the database."""
    rows = session.execute(
        sa_select(
            col(DrawEntry.entry),
            col(DrawEntry.weight),
            col(DrawEntry.availability),
            col(DrawEntry.rank),
            col(DrawEntry.outcome),
            col(DrawEntry.slot_id),
        )
        .where(col(DrawEntry.draw_id) == draw_id)
        .order_by(col(DrawEntry.rank))
        .execution_options(yield_per=10_000)
    )
    for entry, weight, availability, rank, outcome, slot_id in rows:
        yield stored_entry_row(entry, weight, availability, rank, outcome, slot_id)


def stored_entry_row(
    entry: str, weight: str, availability: dict[str, Any] | None, rank: int, outcome: str, slot_id: int | None
) -> dict[str, Any]:
    """The record's entry for one stored ``draw_entry`` row (an unrestricted availability is stored as NULL)."""
    return draw_record.entry_row(
        entry=entry,
        weight=weight,
        availability=availability or lottery.ANY_DAY.as_dict(),
        rank=rank,
        outcome=outcome,
        slot=str(slot_id) if slot_id is not None else None,
    )


def entries_page(session: Session, draw_id: int, page: int, size: int) -> Sequence[DrawEntry]:
    """Ranks ``(page - 1) * size + 1`` to ``page * size`` of a draw (ranks count from 1, without gaps)."""
    first = (page - 1) * size + 1
    return session.exec(
        sqlmodel_select(DrawEntry)
        .where(DrawEntry.draw_id == draw_id, col(DrawEntry.rank) >= first, col(DrawEntry.rank) < first + size)
        .order_by(col(DrawEntry.rank))
    ).all()
