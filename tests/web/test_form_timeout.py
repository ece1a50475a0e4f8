"""A page whose request timed out keeps nothing: the 503 is true, and the applicant's retry files once."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime
from tests.conftest import test_settings
from tests.factories import World
from tests.locks import locked_for
from tests.web.helpers import apply_data, request_count, token_for


def test_an_apply_form_slowed_past_the_timeout_stores_nothing_and_its_retry_files_once(
    client: TestClient, runtime: Runtime, database_url: str
) -> None:
    world = World(client, runtime)
    quick = replace(runtime, settings=test_settings(database_url, request_timeout_seconds=1.5))
    with TestClient(create_app(quick), raise_server_exceptions=False) as applicant:
        data = {"csrf_token": token_for(applicant), **apply_data(world.service, world.office)}
        with locked_for(runtime.engine, 4.0):
            first = applicant.post("/apply", data=data)
        retry = applicant.post("/apply", data=data)

    if first.status_code == 201:  # the page came through, whole: the access code is shown
        assert 'id="access-code"' in first.text
        assert retry.status_code == 409
    else:
        assert first.status_code == 503, first.text
        assert first.json()["code"] == "timeout"
        assert retry.status_code == 201, retry.text  # not "409 you already have a request"
    assert request_count(runtime) == 1
