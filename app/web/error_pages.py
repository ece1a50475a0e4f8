"""Errors met by a browser are pages: an unknown address, a refusal or a failure, in the visitor's language.

The API's handlers (``app.http.problems``) turn every error into a problem document. A person who opens an
address in a browser should not read JSON: when a request asks for HTML (``Accept: text/html``) and is not
for the API or a machine endpoint, the same answer (its status, code and headers, such as ``Retry-After``)
is rendered as a page instead. API clients keep ``application/problem+json`` whatever they accept.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from app.http.problems import PROBLEM_JSON
from app.web import labels
from app.web.i18n import N_

log = logging.getLogger("fairslot.errors")

#: Paths answered to programs, never as pages (the API, its schema, health and metrics).
MACHINE_PREFIXES = ("/api/", "/openapi.json", "/healthz", "/readyz", "/metrics")

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def wants_page(request: Request) -> bool:
    """Whether ``request`` is a person's browser opening a page (HTML accepted, not an API path)."""
    path = request.url.path
    if path == "/api" or path.startswith(MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def _problem_code(response: Response) -> str | None:
    try:
        document = json.loads(bytes(response.body))
    except (ValueError, TypeError):
        return None
    code = document.get("code") if isinstance(document, dict) else None
    return code if isinstance(code, str) else None


def render_error(request: Request, status: int, code: str | None) -> Response:
    """The page of an error: not found (404), the service's failure (5xx), or a refusal naming its reason."""
    from app.web.page import Page
    from app.web.templating import render

    page = Page.of(request, request.app.state.runtime)
    if status == 404:
        return render(page, "not_found.html", status_code=404)
    reason = labels.ERROR.get(code or "") if status < 500 else None
    return render(page, "error.html", status_code=status, failure=status >= 500, reason=reason)


#: What a person reads when their connection sent too many requests: what happened and how long to wait,
#: once (the code-specific refusals, such as one code a minute, say their own rule on their page).
TOO_MANY = N_("Too many requests came from your connection. Wait %(n)s seconds, then try again.")


def too_many_requests_page(scope: Scope, retry_after: int) -> bytes:
    """The body of the 429 page a browser gets from the rate limits, in the visitor's language."""
    from app.web.page import Page
    from app.web.templating import render

    request = Request(scope)
    page = Page.of(request, request.app.state.runtime)
    message = page.gettext(TOO_MANY, n=retry_after)
    return bytes(render(page, "error.html", status_code=429, too_many=True, message=message).body)


def _as_page(api_handler: Handler) -> Handler:
    """``api_handler``'s answer, rendered as a page for a browser (kept as it is for everyone else)."""

    async def handler(request: Request, exc: Any) -> Response:
        answer = api_handler(request, exc)
        if inspect.isawaitable(answer):
            answer = await answer
        is_problem = answer.headers.get("content-type", "").startswith(PROBLEM_JSON)
        if answer.status_code < 400 or not is_problem or not wants_page(request):
            return answer
        try:
            page = render_error(request, answer.status_code, _problem_code(answer))
        except Exception:  # the error page itself failed (templates, catalogs): the problem document stands
            log.exception("the error page of %s could not be rendered", request.url.path)
            return answer
        for name in ("retry-after", "allow", "www-authenticate"):
            if name in answer.headers:
                page.headers[name] = answer.headers[name]
        return page

    return handler


def install(app: FastAPI) -> None:
    """Wrap every error handler installed so far (the API's) so that browsers get pages."""
    for key, api_handler in list(app.exception_handlers.items()):
        app.add_exception_handler(key, _as_page(api_handler))
