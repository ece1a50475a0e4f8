"""Server-rendered pages (six languages for applicants, French and English for staff) on the API's services.

Errors a browser meets (an unknown address, a refusal, a failure, a rate limit) are pages in the visitor's
language (``error_pages``); API clients keep problem documents.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from app.http.routes import add_routes

STATIC_DIR = Path(__file__).parent / "static"


async def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    """The 403 page of a form that came without this session's CSRF token."""
    from app.web.page import Page
    from app.web.templating import render

    page = Page.of(request, request.app.state.runtime)
    return render(page, "csrf_rejected.html", status_code=403)


def install(app: FastAPI) -> None:
    """Mount the page routers, the static files and the CSRF refusal page on ``app``; errors met by a
    browser become pages (``error_pages``; call after the API's error handlers are installed)."""
    from app.web import error_pages
    from app.web.csrf import CsrfRejected
    from app.web.routes import (
        applicant,
        check,
        dev_messages,
        partner,
        public,
        receipt,
        recover,
        stats,
    )
    from app.web.routes.staff import (
        account,
        accounts,
        admin,
        audit,
        calendar,
        channels,
        claims,
        counter,
        desk,
        home,
        invitations,
        schedules,
        sign_in,
    )

    for router in (
        public.router,
        applicant.router,
        recover.router,
        home.router,
        sign_in.router,
        invitations.router,
        account.router,
        accounts.router,
        audit.router,
        admin.router,
        desk.router,
        counter.router,
        partner.router,
        check.router,
        receipt.router,
        claims.router,
        stats.router,
        channels.router,
        calendar.router,
        schedules.router,
        dev_messages.router,
    ):
        add_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    error_pages.install(app)
