"""Dependencies of the pages: the page context, CSRF-checked forms, the signed-in staff member."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse

from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.services.staff.keys import StaffPrincipal
from app.web import csrf
from app.web.page import Page
from app.web.staff_auth import principal_of

MAX_FORM_FIELDS = 200


async def get_page(request: Request, runtime: RuntimeDep) -> Page:
    """The page context: language and web session."""
    return Page.of(request, runtime)


PageDep = Annotated[Page, Depends(get_page)]


async def checked_form(request: Request, page: PageDep) -> FormData:
    """The submitted form, once its CSRF token is checked (a 403 page otherwise, before anything runs)."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    if not csrf.is_valid(page.session, form.get(csrf.FIELD)):
        raise csrf.CsrfRejected
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def signed_in_staff(page: PageDep, session: SessionDep, now: NowDep) -> StaffPrincipal | None:
    """The staff member signed in on this browser, if any (an ended session, a disabled account or a revoked
    key is signed out at once); every staff page shows who it is."""
    page.staff = principal_of(session, page.session, now)
    return page.staff


StaffPageDep = Annotated[StaffPrincipal | None, Depends(signed_in_staff)]


def redirect(page: Page, url: str) -> RedirectResponse:
    """A 303 to ``url`` (a GET after a POST), with the page's cookies."""
    response = RedirectResponse(url, status_code=303)
    page.finish(response)
    return response
