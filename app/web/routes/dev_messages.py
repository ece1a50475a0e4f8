"""``/dev/messages``: the development message catcher, so a newcomer reads one-time codes and offers.

Served only when ``FAIRSLOT_DEV_MESSAGES`` is on (by default in development; a 404 in test and, always, in
production). It lists what this process's log outlets sent, newest first (``app.services.messages.catcher``).
A developer's tool: its text is in French and English, like the staff pages.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse

from app.http.deps import RuntimeDep
from app.services.messages import catcher
from app.web.deps import PageDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/dev/messages", response_class=HTMLResponse)
def dev_messages(page: PageDep, runtime: RuntimeDep) -> HTMLResponse:
    """The SMS and e-mails sent to the log, newest first (development only)."""
    if not runtime.settings.dev_messages_enabled:
        return render(page, "not_found.html", status_code=404)
    return render(page, "dev_messages.html", messages=catcher.sent_messages())
