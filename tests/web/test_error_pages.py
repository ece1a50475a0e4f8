"""A browser meets errors as pages in its language; API clients keep problem+json."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def failing(runtime: Runtime) -> Iterator[TestClient]:
    """The application with one more page that fails as a defect would."""
    app = create_app(runtime)

    @app.get("/a-page-that-fails", include_in_schema=False)
    def fails() -> None:
        raise RuntimeError("a defect")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unknown_address_opened_in_a_browser_is_a_page_in_the_visitors_language(client):
    french = client.get("/nowhere", headers={**BROWSER, "Accept-Language": "fr-FR,fr;q=0.9"})
    arabic = client.get("/nowhere?lang=ar", headers=BROWSER)
    english_staff = client.get("/staff/nowhere?lang=en", headers=BROWSER)

    assert french.status_code == 404
    assert french.headers["content-type"].startswith("text/html")
    assert '<html lang="fr"' in french.text and "Page introuvable" in french.text
    assert arabic.status_code == 404
    assert '<html lang="ar" dir="rtl"' in arabic.text
    assert english_staff.status_code == 404
    assert "Page not found" in english_staff.text


def test_api_clients_keep_problem_documents_for_unknown_addresses(client):
    program = client.get("/nowhere", headers={"Accept": "application/json"})
    api_in_a_browser = client.get("/api/v1/nowhere", headers=BROWSER)

    for answer in (program, api_in_a_browser):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "not_found"


def test_a_page_that_fails_is_an_error_page_for_a_browser_and_a_problem_for_a_program(failing):
    french = failing.get("/a-page-that-fails", headers={**BROWSER, "Accept-Language": "fr"})
    page = failing.get("/a-page-that-fails?lang=en", headers=BROWSER)
    program = failing.get("/a-page-that-fails")

    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text
    assert "a defect" not in page.text and "Traceback" not in page.text
    assert "Une erreur est survenue" in french.text
    assert program.status_code == 500
    assert program.json()["code"] == "internal_error"


def test_a_form_address_opened_directly_says_so_in_a_page_and_keeps_its_allow_header(client):
    answer = client.get("/status/accept?lang=en", headers=BROWSER)

    assert answer.status_code == 405
    assert answer.headers["content-type"].startswith("text/html")
    assert "This page cannot be shown" in answer.text
    assert "POST" in answer.headers["allow"]
