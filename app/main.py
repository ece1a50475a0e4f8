"""The FastAPI application: API routes, web pages, middleware and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import web
from app.api import docs
from app.api.openapi import Problem, declare_unavailable
from app.api.routes import claims, health, requests
from app.api.routes.bookings import attendance, checkins, day_list
from app.api.routes.channels import attestations, code_recoveries, partners, recoveries
from app.api.routes.draws import beacon, releases
from app.api.routes.evidence import outbox, stats
from app.api.routes.operations import calendar, catalog, closures, release_rules, schedules
from app.api.routes.staff import accounts as staff_accounts
from app.api.routes.staff import audit as audit_routes
from app.api.routes.staff import keys
from app.http import problems
from app.http.admission import AdmissionMiddleware
from app.http.idempotency import IdempotencyMiddleware
from app.http.metrics import IntakeMetricsMiddleware
from app.http.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware, TimeoutMiddleware
from app.http.ratelimit import Limiter, RateLimitMiddleware, storage_uri
from app.http.renderings import RenderingGateMiddleware
from app.http.routes import add_routes
from app.runtime import Runtime
from app.services.beacons import rounds
from app.web import error_pages, staff_filer

API_DESCRIPTION = (
    "Fairslot allocates public-office appointments by a verifiable weighted lottery and binds every "
    "booking to its holder's identity. Errors are application/problem+json with a stable `code`."
)


def create_app(runtime: Runtime | None = None, *, scheduler: bool = False) -> FastAPI:
    """Build the application around ``runtime`` (the environment's by default)."""
    runtime = runtime or Runtime.from_settings()
    # The beacon chain is resolved once at startup: a local chain's key is generated now, like the secret.
    rounds.setup_for(runtime.settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if scheduler:
            from app.services.scheduler import BackgroundScheduler

            worker = BackgroundScheduler(runtime)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            batcher = getattr(_app.state, "intake_batcher", None)
            if batcher is not None:
                await batcher.aclose()

    app = FastAPI(
        title="Fairslot",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # self-hosted below (app.api.docs), under the service's own CSP
        redoc_url=None,
    )
    app.state.runtime = runtime
    problems.install(app)
    for router in (
        health.router,
        catalog.router,
        schedules.router,
        closures.router,
        release_rules.router,
        calendar.router,
        keys.router,
        staff_accounts.router,
        audit_routes.router,
        releases.router,
        beacon.router,
        requests.router,
        checkins.router,
        day_list.router,
        attendance.router,
        partners.router,
        partners.stats_router,
        attestations.router,
        recoveries.router,
        code_recoveries.router,
        outbox.router,
        claims.router,
        stats.router,
    ):
        add_routes(app, router)
    docs.install(app)
    web.install(app)
    # Added innermost first: proxy headers, then security headers, timeout, body limit, rate limits, the
    # rendering bounds, admission, idempotency, and the routes.
    settings = runtime.settings
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(
        AdmissionMiddleware,
        limit=settings.max_requests_in_flight,
        wait_seconds=settings.admission_wait_seconds,
    )
    # Outside admission: a rendering waiting for its slot holds no admission place.
    app.add_middleware(
        RenderingGateMiddleware,
        per_process=settings.renderings_per_process,
        per_address=settings.renderings_per_address,
    )
    if settings.rate_limits == "on":
        limiter = Limiter(
            storage_uri(settings.redis_url),
            settings.intake_ceiling_per_second,
            unverified_per_block=settings.unverified_per_block,
            rounds=settings.max_requests_in_flight,  # the admission bound: Redis's pool is sized to it
        )
        app.add_middleware(
            RateLimitMiddleware,
            limiter=limiter,
            pepper=runtime.pepper,
            staff_of_cookies=lambda cookies: staff_filer.filer_of_cookies(cookies, runtime),
            too_many_page=error_pages.too_many_requests_page,
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        TimeoutMiddleware,
        seconds=settings.request_timeout_seconds,
        body_seconds=settings.response_body_timeout_seconds,
    )
    app.add_middleware(IntakeMetricsMiddleware)  # outside the limits, so their refusals count too
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.public_url.startswith("https://"))
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            declare_unavailable(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
