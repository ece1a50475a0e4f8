"""The ASGI entry point uvicorn imports (``app.asgi:create``), one per worker process."""

from __future__ import annotations

import os

from fastapi import FastAPI

from app.main import create_app


def create() -> FastAPI:
    """The application for this process; ``FAIRSLOT_SCHEDULER=off`` leaves scheduling to workers."""
    return create_app(scheduler=os.environ.get("FAIRSLOT_SCHEDULER", "on") == "on")
