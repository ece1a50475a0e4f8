"""The desk's pages, in French and English: the screen every desk page renders (``screen``): an office's
day with its search and filter; the scan (``scan``), the check-in by hand and absences from the list
(``by_hand``), and the day's downloads and printable sheet (``downloads``)."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.routes.staff.desk import by_hand, downloads, scan

router = APIRouter(include_in_schema=False)
for part in (scan.router, by_hand.router, downloads.router):
    router.include_router(part)
