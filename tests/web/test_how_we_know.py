"""/stats links the simulated evidence ("how we know") in every applicant language, and /stats/how-we-know
serves the report ``make evidence`` writes, in French or English: self-contained, under a policy that lets
nothing else load."""

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


#: How the link says the report is in English, for the readers whose language it is not written in.
IN_ENGLISH = {"ar": "بالإنجليزية", "es": "en inglés", "pt": "em inglês", "uk": "англійською"}


@pytest.mark.parametrize("lang", [language.value for language in LANGUAGES])
def test_stats_links_how_we_know_in_the_readers_language(client: TestClient, lang: str) -> None:
    page = client.get(f"/stats?lang={lang}")
    assert page.status_code == 200
    link = re.search(r'<a href="/stats/how-we-know" id="how-we-know" hreflang="(\w+)">([^<]+)</a>', page.text)
    assert link is not None and LINKS[lang] in link.group(2)
    # French and English readers get the report in their language; the others are told it is in English.
    assert link.group(1) == (lang if lang in ("fr", "en") else "en")
    if lang in IN_ENGLISH:
        assert IN_ENGLISH[lang] in link.group(2)
    else:
        assert "(" not in link.group(2)


@pytest.mark.parametrize(
    ("lang", "served", "sections", "other"),
    [
        (
            "en",
            "en",
            (
                "Findings",
                "Resellers who adapt",
                "Sensitivity",
                "Fake identities",
                "What the model leaves out",
            ),
            "fr",
        ),
        (
            "fr",
            "fr",
            (
                "Constats",
                "Des revendeurs qui s\u2019adaptent",
                "Sensibilité",
                "Fausses identités",
                "Ce que le modèle laisse de côté",
            ),
            "en",
        ),
        ("es", "en", ("Findings",), "fr"),
    ],
)
def test_the_shipped_report_is_served_in_the_readers_language_self_contained_under_its_own_policy(
    client: TestClient, lang: str, served: str, sections: tuple[str, ...], other: str
) -> None:
    response = client.get(f"/stats/how-we-know?lang={lang}")
    assert response.status_code == 200
    assert (
        response.headers["content-security-policy"]
        == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    assert response.headers["content-language"] == served
    report = response.text
    assert f'<html lang="{served}">' in report
    assert report.count('src="data:image/png;base64,') == 4
    assert not re.search(r'(src|href)="(https?:)?//', report)  # nothing loads from elsewhere
    for section in sections:
        assert section in report
    # Each report links to the other language.
    assert f'<a href="/stats/how-we-know?lang={other}" hreflang="{other}"' in report


def test_the_cookie_language_picks_the_report_as_it_picks_the_pages(client: TestClient) -> None:
    client.get("/stats?lang=fr")  # the reader chose French on the site
    assert '<html lang="fr">' in client.get("/stats/how-we-know").text
    client.get("/stats?lang=en")
    assert '<html lang="en">' in client.get("/stats/how-we-know").text


def test_an_installation_without_the_report_answers_the_sites_404_page(
    client: TestClient, monkeypatch, tmp_path
) -> None:
    monkeypatch.setattr(stats_route, "EVIDENCE_DIR", tmp_path)
    for lang, title in (("fr", "Page introuvable"), ("en", "Page not found")):
        response = client.get(f"/stats/how-we-know?lang={lang}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert title in response.text and '<a href="/stats' in response.text
