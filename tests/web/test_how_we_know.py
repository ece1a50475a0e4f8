"""/stats links the simulated evidence ("how we know") in every applicant language, and /stats/how-we-know
serves the report ``make evidence`` writes: self-contained, under a policy that lets nothing else load."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.domain.languages import LANGUAGES
from app.web.routes import stats as stats_route

LINKS = {
    "fr": "Comment le savons-nous",
    "en": "How we know",
    "ar": "كيف نعرف ذلك",
    "es": "Cómo lo sabemos",
    "pt": "Como sabemos",
    "uk": "Звідки ми це знаємо",
}


@pytest.mark.parametrize("lang", [language.value for language in LANGUAGES])
def test_stats_links_how_we_know_in_the_readers_language(client: TestClient, lang: str) -> None:
    page = client.get(f"/stats?lang={lang}")
    assert page.status_code == 200
    link = re.search(r'<a href="/stats/how-we-know" id="how-we-know"[^>]*>([^<]+)</a>', page.text)
    assert link is not None and LINKS[lang] in link.group(1)


def test_the_shipped_report_is_served_self_contained_under_its_own_policy(client: TestClient) -> None:
    response = client.get("/stats/how-we-know")
    assert response.status_code == 200
    assert (
        response.headers["content-security-policy"]
        == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    report = response.text
    assert report.count('src="data:image/png;base64,') == 4
    assert not re.search(r'(src|href)="(https?:)?//', report)  # nothing loads from elsewhere
    for section in (
        "Findings",
        "Resellers who adapt",
        "Sensitivity",
        "Fake identities",
        "What the model leaves out",
    ):
        assert section in report


def test_an_installation_without_the_report_answers_404(client: TestClient, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(stats_route, "EVIDENCE_REPORT", tmp_path / "report.html")
    assert client.get("/stats/how-we-know").status_code == 404
