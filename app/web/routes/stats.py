"""``/stats``: the public statistics with charts (server-rendered SVG images) and the same figures as tables."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from app.http.deps import NowDep, SessionDep
from app.schemas.stats import StatsPublic
from app.services.evidence import stats
from app.services.operations.catalog import offices_by_code, services_by_code
from app.web import STATIC_DIR
from app.web.charts import BAND_LABELS, CHART_CSP, CHARTS, ChartText
from app.web.deps import PageDep
from app.web.i18n import N_
from app.web.templating import render

router = APIRouter(include_in_schema=False)

_MONTH = re.compile(r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _filters(request: Request) -> tuple[dict[str, str], str | None]:
    """The page's filters, and what is wrong with them (the same rules as the API's parameters)."""
    values = {k: request.query_params.get(k, "").strip() for k in ("office", "service", "since")}
    if values["since"] and not _MONTH.match(values["since"]):
        return values, N_("Give a whole month as YYYY-MM, for example 2026-12.")
    for key in ("office", "service"):
        if values[key] and not _CODE.match(values[key].lower()):
            return values, N_("Unknown office or service code.")
    return values, None


def _data(db: SessionDep, values: dict[str, str], now: NowDep) -> StatsPublic:
    since = stats.first_of_month(values["since"]) if values["since"] else stats.default_since(now)
    return stats.statistics(
        session=db,
        since=since,
        office=values["office"].lower() or None,
        service=values["service"].lower() or None,
    )


def _names(db: SessionDep) -> tuple[dict[str, str], dict[str, str]]:
    """Office and service names by code (pages and charts name them; codes are for the API)."""
    return (
        {code: office.name for code, office in offices_by_code(db).items()},
        {code: service.name for code, service in services_by_code(db).items()},
    )


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, page: PageDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    """Who gets drawn, by urgency, office and month, for everyone to see."""
    values, problem = _filters(request)
    office_names, service_names = _names(db)
    common: dict[str, Any] = {
        "filters": values,
        "offices": sorted(office_names.items(), key=lambda pair: pair[1].casefold()),
        "services": sorted(service_names.items(), key=lambda pair: pair[1].casefold()),
        "office_names": office_names,
        "service_names": service_names,
        "band_labels": BAND_LABELS,
        "min_count": stats.MIN_COUNT,
    }
    if problem is not None:
        return render(page, "stats.html", status_code=422, error=page.gettext(problem), data=None, **common)
    data = _data(db, values, now)
    # The reader's language is in each chart's address: a chart cached in one language is not shown in another.
    query = urlencode([*((k, v) for k, v in values.items() if v), ("lang", page.lang)])
    charts = {name: f"/stats/charts/{name}.svg?{query}" for name in CHARTS}
    return render(page, "stats.html", data=data, charts=charts, error=None, **common)


#: ``make evidence`` writes ``fairslot simulate``'s report here in English and French (self-contained: styles
#: inline, plots as data URIs), so the page runs under its own policy: nothing but its own styles and images.
EVIDENCE_DIR = STATIC_DIR / "evidence"
EVIDENCE_REPORTS = {"en": "report.html", "fr": "report.fr.html"}
EVIDENCE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@router.get("/stats/how-we-know", response_class=HTMLResponse)
def how_we_know(page: PageDep) -> HTMLResponse:
    """The simulated evidence behind the design, in French for a French reader and in English otherwise."""
    path = EVIDENCE_DIR / EVIDENCE_REPORTS.get(page.lang, EVIDENCE_REPORTS["en"])
    if not path.is_file():
        return render(page, "not_found.html", status_code=404)
    return HTMLResponse(
        path.read_text(encoding="utf-8"),
        headers={
            "Content-Security-Policy": EVIDENCE_CSP,
            "Cache-Control": "max-age=3600",
            "Content-Language": "fr" if page.lang == "fr" else "en",
            # The language comes from the query, the cookie or Accept-Language.
            "Vary": "Accept-Language, Cookie",
        },
    )


@router.get("/stats/charts/{name}.svg")
def stats_chart(name: str, request: Request, page: PageDep, db: SessionDep, now: NowDep) -> Response:
    """One chart of ``/stats`` as an SVG image (no script)."""
    values, problem = _filters(request)
    if name not in CHARTS or problem is not None:
        return Response(status_code=404 if name not in CHARTS else 422)
    office_names, service_names = _names(db)
    text = ChartText(page.gettext, page.lang, office_names, service_names)
    svg = CHARTS[name](_data(db, values, now), text)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": CHART_CSP, "Cache-Control": "max-age=60"},
    )
