"""The applicant's printable receipt from the status page (request id and access code, as the status forms)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from app.domain.errors import NotFound
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.services.channels import receipts
from app.services.channels.receipt_texts import RECEIPT_LANGUAGES
from app.services.requests import repository
from app.web import labels
from app.web.deps import FormDep, PageDep
from app.web.form_fields import text
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.post("/status/receipt", response_model=None)
def status_receipt(
    page: PageDep, form: FormDep, db: SessionDep, runtime: RuntimeDep, now: NowDep
) -> Response:
    """The receipt (PDF) of the request behind an id and access code, in the page's language."""
    request_id = text(form, "request_id", 64)
    try:
        request = repository.authenticate(db, request_id, text(form, "access_code", 128))
    except NotFound as exc:
        error = page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
        response: HTMLResponse = render(
            page, "status_lookup.html", status_code=404, request_id=request_id, error=error
        )
        return response
    lang = text(form, "lang", 8) or page.lang
    pdf = receipts.receipt_pdf(
        session=db,
        request=request,
        now=now,
        secret=runtime.secret,
        public_url=runtime.settings.public_url,
        lang=lang if lang in RECEIPT_LANGUAGES else request.language,
    )
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="fairslot-receipt-{request.entry}.pdf"',
    }
    return Response(pdf, media_type="application/pdf", headers=headers)
