"""News after every draw: an entrant the draw did not select hears that it stays in the queue, when the
next draw of its offices is, and its estimated chance there (the forecast the status page shows).

The scheduler tells a drawn release's entrants in batches after the draw (never inside it: a draw of a
million entries must not write a million messages in its transaction), remembering the last rank told
(``Draw.news_rank``) so that a worker that stops midway resumes there, and marking the draw told
(``news_done_at``) once every rank is done. A request hears once per draw day whatever the number of
offices that drew it that day (``draw_news``, whose key is the backstop); one that won elsewhere the same
day, or closed since, hears nothing. By e-mail always; by SMS too where the service's policy says
``sms_not_selected``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.db.bulk import settle_appended
from app.db.models import AppointmentRequest, Draw, DrawEntry, DrawNews, Office, Service
from app.domain.draws import lottery
from app.domain.statuses import RequestStatus
from app.services.evidence import chances
from app.services.messages import outbox
from app.services.operations import catalog

BATCH = 500


def _next_draw_context(session: Session, request: AppointmentRequest, now: datetime) -> dict[str, object]:
    coming = chances.next_draws(session, request, now)
    if not coming:
        return {"next_office": None}
    first = coming[0]
    office = session.exec(select(Office).where(Office.code == first.office)).one()
    return {
        "next_office": office.name,
        "next_timezone": office.timezone,
        "next_at": first.draw_at.astimezone(ZoneInfo(office.timezone)),
        "chance": first.chance,
    }


def notify_next(session: Session, *, now: datetime) -> list[str] | None:
    """Tell one batch of a drawn release's entrants not selected; the requests told (None: nothing due)."""
    draw = session.exec(
        select(Draw)
        .where(col(Draw.news_done_at).is_(None))
        .order_by(col(Draw.id))
        .limit(1)
        # Not SKIP LOCKED: workers take the draws' news one batch after another, so that two draws of one
        # day never tell the same request at once (``draw_news`` stays the backstop).
        .with_for_update()
    ).first()
    if draw is None:
        return None
    if draw.news_rank == 0:
        # The draw's entries, just appended, get their BRIN summaries and the planner its statistics now
        # (outside the draw's transaction), before the first window of ranks is read.
        settle_appended(session, "draw_entry", "ix_draw_entry_draw_id_rank")
    if draw.news_rank >= draw.entry_count:
        draw.news_done_at = now
        session.add(draw)
        session.flush()
        return []
    # A window of ranks at a time (the record's order is a BRIN index: a bounded range reads only its own
    # pages); the first windows hold the winners and may tell nobody.
    last = min(draw.news_rank + BATCH, draw.entry_count)
    rows = session.exec(
        select(DrawEntry.rank, DrawEntry.request_seq)
        .where(DrawEntry.draw_id == draw.id, DrawEntry.rank > draw.news_rank, DrawEntry.rank <= last)
        .where(DrawEntry.outcome != lottery.OFFERED)
    ).all()
    draw.news_rank = last
    session.add(draw)
    if not rows:
        session.flush()
        return []
    seqs = [seq for _rank, seq in rows]
    told = set(
        session.exec(
            select(DrawNews.request_seq).where(DrawNews.day == draw.day, col(DrawNews.request_seq).in_(seqs))
        ).all()
    )
    requests = session.exec(
        select(AppointmentRequest).where(
            col(AppointmentRequest.seq).in_([s for s in seqs if s not in told]),
            AppointmentRequest.status == RequestStatus.PENDING,
        )
    ).all()
    texted: dict[int, bool] = {}
    done: list[str] = []
    for request in requests:
        assert request.seq is not None
        session.add(DrawNews(request_seq=request.seq, day=draw.day))
        if not (request.email or request.phone):
            continue
        if request.service_id not in texted:
            service = session.get(Service, request.service_id)
            assert service is not None
            texted[request.service_id] = catalog.policy_of(service).sms_not_selected
        context = _next_draw_context(session, request, now)
        outbox.enqueue(session, request, "not_selected", now, sms=texted[request.service_id], **context)
        done.append(request.id)
    session.flush()
    return done
