"""Attestations and receipts: signed proof that a person asked, and anyone's check of it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.api.openapi import problem_responses
from app.http.deps import BearerDep, NowDep, RuntimeDep, SessionDep
from app.schemas.attestations import (
    AttestationCheck,
    AttestationCurrent,
    AttestationPublic,
    AttestationVerdict,
    ReceiptQuery,
)
from app.services.channels import attestations, receipts
from app.services.requests import access

router = APIRouter(prefix="/api/v1", tags=["attestations"])
RequestId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/requests/{request_id}/attestation", responses=problem_responses(401, 404, 422, 429))
def get_attestation(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> AttestationPublic:
    """A signed attestation of the request as of now (compact JWS, ``typ`` fairslot-attestation+jwt)."""
    request = access.open_request(session, request_id, code).request
    issued = attestations.issue(
        session=session,
        request=request,
        now=now,
        secret=runtime.secret,
        public_url=runtime.settings.public_url,
    )
    return AttestationPublic(attestation=issued.token, statement=issued.statement, check_url=issued.check_url)


@router.get(
    "/requests/{request_id}/receipt.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 404, 422, 429)},
)
def get_receipt(
    request_id: RequestId,
    session: SessionDep,
    code: BearerDep,
    now: NowDep,
    runtime: RuntimeDep,
    query: Annotated[ReceiptQuery, Query()],
) -> Response:
    """The printable receipt (PDF) in the request's language, or ``?lang=`` (fr, en, ar); no access code on it.

    The applicant, the partner that filed it, or an agent of its first office may print it.
    """
    request = access.open_request(session, request_id, code, purpose="receipt").request
    pdf = receipts.receipt_pdf(
        session=session,
        request=request,
        now=now,
        secret=runtime.secret,
        public_url=runtime.settings.public_url,
        lang=query.lang or request.language,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="fairslot-receipt-{request.entry}.pdf"',
        },
    )


@router.post(
    "/attestations/verify", response_model_exclude_none=True, responses=problem_responses(400, 413, 422, 429)
)
def verify_attestation(
    data: AttestationCheck, session: SessionDep, now: NowDep, runtime: RuntimeDep
) -> AttestationVerdict:
    """Whether an attestation is genuine: ``{valid: true, statement, current}`` or ``{valid: false, reason}``.

    The statement is true as of its date; ``current`` is the request's status now and since when."""
    checked = attestations.check(session=session, token=data.attestation, secret=runtime.secret, now=now)
    verdict, current = checked.verdict, checked.current
    return AttestationVerdict(
        valid=verdict.valid,
        statement=verdict.statement,
        reason=verdict.reason,
        current=AttestationCurrent(status=current.status, since=current.since) if current else None,
    )
