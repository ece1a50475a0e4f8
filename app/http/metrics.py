"""Intake outcomes as metrics, seen at the edge so that refusals before the route (429, 413, 422) count too."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics

#: (method, path) of the intake routes, and the channel each counts as.
INTAKE_ROUTES = {("POST", "/api/v1/requests"): "api", ("POST", "/apply"): "web"}


def outcome_of(status: int) -> str:
    """The outcome label of an intake answer's status."""
    if status < 400:
        return "accepted"
    return {409: "conflict", 429: "rate_limited", 503: "busy"}.get(
        status, "invalid" if status in (400, 413, 422) else "error"
    )


class IntakeMetricsMiddleware:
    """Counts each intake submission by its answer's status (``fairslot_intake_total``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        channel = (
            INTAKE_ROUTES.get((scope.get("method", ""), scope.get("path", "")))
            if scope["type"] == "http"
            else None
        )
        if channel is None:
            await self.app(scope, receive, send)
            return
        counted = False

        def count(status: int) -> None:
            nonlocal counted
            if not counted:
                counted = True
                metrics.INTAKE.labels(channel=channel, outcome=outcome_of(status)).inc()

        async def watch(message: Message) -> None:
            # Counted before the answer leaves: whoever reads the metrics after an answer finds it there.
            if message["type"] == "http.response.start":
                count(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            count(500)  # no answer started: the request failed
