"""Adding a router's routes to an application, built once per process.

FastAPI's ``include_router`` builds an included route's request and response models again for every
application, the first time a request is matched against it: a few hundred milliseconds for this
project's routes, paid by every process and by every application the test suite creates (thousands).
The routers here take no options at inclusion (no prefix, tags or dependencies added there), so their
routes, already complete when their module was imported, can serve every application as they are.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes join the application's own, as if declared on it."""
    app.router.routes.extend(router.routes)
