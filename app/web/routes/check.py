"""The public check of an attestation: paste it, or open the short link of a receipt's QR code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.responses import HTMLResponse

from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.services.channels import attestations
from app.services.operations.catalog import offices_by_code, services_by_code
from app.web.deps import FormDep, PageDep
from app.web.form_fields import text
from app.web.page import Page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_PASTE = 16_000


def _check_page(
    page: Page,
    db: SessionDep,
    *,
    pasted: str = "",
    checked: attestations.Check | None = None,
    reason: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    verdict = checked.verdict if checked else None
    statement = _readable(verdict.statement) if verdict and verdict.statement else None
    current = checked.current if checked else None
    return render(
        page,
        "check.html",
        status_code=status_code,
        pasted=pasted,
        verdict=verdict,
        reason=reason or (verdict.reason if verdict else None),
        statement=statement,
        current=current,
        changed_since=bool(
            statement
            and current
            and (
                current.status != statement["status"]
                or current.since.replace(microsecond=0) > statement["iat"]
            )
        ),
        offices=offices_by_code(db),
        services=services_by_code(db),
    )


@router.get("/check", response_class=HTMLResponse)
def check(page: PageDep, db: SessionDep, runtime: RuntimeDep, now: NowDep, d: str = "") -> HTMLResponse:
    """The paste form; with ``?d=`` (a receipt's QR link) the verdict on that attestation at once."""
    if not d:
        return _check_page(page, db)
    opened = attestations.check_link(session=db, code=d[:64], secret=runtime.secret, now=now)
    if opened is None:
        return _check_page(page, db, reason="unknown_link", status_code=404)
    token, checked = opened
    return _check_page(page, db, pasted=token, checked=checked)


@router.post("/check", response_class=HTMLResponse)
def check_pasted(
    page: PageDep, form: FormDep, db: SessionDep, runtime: RuntimeDep, now: NowDep
) -> HTMLResponse:
    """The verdict on a pasted attestation: genuine with its statement and where the request stands now,
    or why not."""
    pasted = text(form, "attestation", MAX_PASTE + 1)
    checked = attestations.check(session=db, token=pasted, secret=runtime.secret, now=now)
    return _check_page(page, db, pasted=pasted, checked=checked)


def _readable(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement with its times as datetimes, for the page's date formatting."""
    return {
        **statement,
        "iat": datetime.fromtimestamp(statement["iat"], tz=UTC),
        "submitted_at": datetime.fromisoformat(statement["submitted_at"]),
        "draws": [{**d, "drawn_at": datetime.fromisoformat(d["drawn_at"])} for d in statement["draws"]],
    }
