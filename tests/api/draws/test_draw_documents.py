"""Draw records are built once, stored compressed and served without the write lock."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from app.clock import FrozenClock
from app.db.models import Draw, DrawDocument
from app.domain.draws import draw_record
from app.main import create_app
from app.runtime import Runtime
from app.services.draws import documents, drawing
from tests.conftest import test_settings
from tests.factories import World, auth
from tests.locks import locked_for
from tests.strategies import record_rows


@pytest.fixture
def drawn(client: TestClient, runtime: Runtime, clock: FrozenClock) -> int:
    """The id of a draw of seven applicants for three slots, one with a restricted availability."""
    world = World(client, runtime)
    for n in range(7):
        extra = {"availability": {"weekdays": [4, 5]}} if n == 0 else {}
        world.applicant(**extra)
    release = world.release(slots=3)
    clock.advance(timedelta(hours=2))
    summary = client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
    assert summary.status_code == 200, summary.text
    return int(summary.json()["draw_id"])


def _rendered_from_rows(runtime: Runtime, draw_id: int) -> bytes:
    with Session(runtime.engine) as session:
        draw = session.get(Draw, draw_id)
        assert draw is not None
        return "".join(drawing.record_json_chunks(session, draw)).encode()


def test_the_stored_document_is_byte_for_byte_the_record_rendered_from_the_rows(
    client: TestClient, runtime: Runtime, drawn: int
) -> None:
    with Session(runtime.engine) as session:
        stored = session.get(DrawDocument, drawn)
        assert stored is not None
        body = gzip.decompress(stored.gzip_body)

    assert body == _rendered_from_rows(runtime, drawn)
    assert stored.size == len(body)
    assert draw_record.verify_record(json.loads(body)) == []


def test_a_client_that_takes_gzip_gets_the_stored_bytes_and_one_without_gets_the_json(
    client: TestClient, runtime: Runtime, drawn: int
) -> None:
    zipped = client.get(f"/api/v1/draws/{drawn}", headers={"Accept-Encoding": "gzip"})
    plain = client.get(f"/api/v1/draws/{drawn}", headers={"Accept-Encoding": "identity"})

    assert zipped.status_code == plain.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.content == plain.content == _rendered_from_rows(runtime, drawn)  # httpx inflates
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert plain.headers["content-length"] == str(len(plain.content))


def test_if_none_match_with_the_etag_answers_304_without_a_body(client: TestClient, drawn: int) -> None:
    first = client.get(f"/api/v1/draws/{drawn}")

    again = client.get(f"/api/v1/draws/{drawn}", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def _raw(client: TestClient, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes as sent (no gzip decoding: a range is part of the gzip form)."""
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip", **headers}) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


def test_byte_ranges_of_the_gzip_form_resume_an_interrupted_download(client: TestClient, drawn: int) -> None:
    url = f"/api/v1/draws/{drawn}"
    _status, headers, whole = _raw(client, url)
    size, etag = len(whole), headers["etag"]

    head = _raw(client, url, Range="bytes=0-99")
    rest = _raw(client, url, Range="bytes=100-", **{"If-Range": etag})
    stale = _raw(client, url, Range="bytes=100-", **{"If-Range": '"another"'})
    beyond = _raw(client, url, Range=f"bytes={size}-")

    assert head[0] == rest[0] == 206
    assert head[1]["content-range"] == f"bytes 0-99/{size}"
    assert rest[1]["content-range"] == f"bytes 100-{size - 1}/{size}"
    assert head[2] + rest[2] == whole
    assert stale[0] == 200 and stale[2] == whole
    assert beyond[0] == 416
    assert json.loads(gzip.decompress(whole))["entries"]


def test_a_download_does_not_wait_for_the_write_lock(runtime: Runtime, database_url: str, drawn: int) -> None:
    quick = Runtime(
        settings=test_settings(database_url, request_timeout_seconds=1.5),
        engine=runtime.engine,
        clock=runtime.clock,
    )
    app = create_app(quick)
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        locked_for(runtime.engine, 4.0, "draw_document"),
    ):
        response = client.get(f"/api/v1/draws/{drawn}")

    assert response.status_code == 200, response.text
    assert draw_record.verify_record(response.json()) == []


def test_a_draw_recorded_before_documents_existed_gets_its_document_on_first_download(
    client: TestClient, runtime: Runtime, drawn: int
) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(delete(DrawDocument.__table__))  # type: ignore[attr-defined]

    response = client.get(f"/api/v1/draws/{drawn}")

    assert response.status_code == 200
    assert response.content == _rendered_from_rows(runtime, drawn)
    with Session(runtime.engine) as session:
        assert session.get(DrawDocument, drawn) is not None


def test_an_unknown_draw_is_a_404(client: TestClient) -> None:
    assert client.get("/api/v1/draws/999").status_code == 404


@given(st.lists(record_rows(), max_size=30))
def test_the_draws_fast_rendering_writes_exactly_the_reference_text(rows: list[Any]) -> None:
    header = {"spec": "fairslot-draw-v1", "office": 'é"\\', "slots": [{"slot": "1", "starts_at": "x"}]}
    as_dicts = [
        {"entry": e, "weight": w, "availability": a, "rank": r, "outcome": o, "slot": s}
        for e, w, a, r, o, s in rows
    ]
    as_rows = [(e, w, json.dumps(a), r, o, s) for e, w, a, r, o, s in rows]

    fast = "".join(documents.render_rows(header, as_rows))

    assert fast == "".join(documents.render(header, as_dicts))
    assert json.loads(fast)["entries"] == as_dicts
