"""The ASGI entry point uvicorn imports (``app.asgi:create``), one per worker process."""

from __future__ import annotations

import os
import sys

from fastapi import FastAPI

from app.main import create_app


def create() -> FastAPI:
    """The application for this process; ``FAIRSLOT_SCHEDULER=off`` leaves scheduling to workers."""
    # The event loop and the database threads share the GIL: a shorter switch interval lets a thread that
    # finished its I/O (an intake batch, a status read) resume quickly while the loop is answering a flood.
    sys.setswitchinterval(0.0005)
    return create_app(scheduler=os.environ.get("FAIRSLOT_SCHEDULER", "on") == "on")
