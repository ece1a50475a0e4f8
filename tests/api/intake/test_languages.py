"""A request's language: any of the six, through the API and the form alike; any other is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest
from app.domain.languages import LANGUAGES
from app.runtime import Runtime
from tests.factories import World, request_body
from tests.web.helpers import apply_data, token_for


def _stored_language(runtime: Runtime, request_id: str) -> str:
    with session_scope(runtime.engine) as session:
        request = session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).one()
        return request.language


@pytest.mark.parametrize("lang", [lang.value for lang in LANGUAGES])
def test_each_language_is_accepted_by_the_api_and_kept(
    client: TestClient, runtime: Runtime, lang: str
) -> None:
    world = World(client, runtime)
    response = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], language=lang)
    )
    assert response.status_code == 201, response.text
    assert _stored_language(runtime, response.json()["id"]) == lang


@pytest.mark.parametrize("lang", ["de", "AR", "ar-MA", "", "fr "])
def test_another_language_is_a_clear_422_and_nothing_is_written(
    client: TestClient, runtime: Runtime, lang: str
) -> None:
    world = World(client, runtime)
    response = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], language=lang)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "language" in {error["path"] for error in response.json()["errors"]}
    with session_scope(runtime.engine) as session:
        assert session.exec(select(AppointmentRequest)).first() is None


def test_the_form_offers_six_languages_and_keeps_the_one_chosen(client: TestClient, runtime: Runtime) -> None:
    world = World(client, runtime)
    form = client.get("/apply?lang=uk").text
    for lang in LANGUAGES:
        assert f'<option value="{lang}"' in form
    assert '<option value="uk" selected>' in form
    token = token_for(client)
    answer = client.post(
        "/apply", data={"csrf_token": token, **apply_data(world.service, world.office, language="ar")}
    )
    assert answer.status_code == 201
    request_id = answer.text.split('id="request-id">')[1].split("<")[0]
    assert _stored_language(runtime, request_id) == "ar"
    refused = client.post(
        "/apply", data={"csrf_token": token, **apply_data(world.service, world.office, language="de")}
    )
    assert refused.status_code == 422
    assert "Оберіть мову зі списку." in refused.text
