"""``/docs``: Swagger UI served from the package itself, under the service's own Content-Security-Policy.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline script, both of which the
service's policy (``script-src 'self'``) forbids, so the page stayed blank. Here the assets come from the
``swagger-ui-bundle-v2`` package (Swagger UI 5: FastAPI writes OpenAPI 3.1) (mounted at ``/docs/assets``) and the start-up script is a file of ours: no
third-party origin, no inline script, the same policy as every other page.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from app.http.routes import add_routes

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Fairslot API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""

_START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
"""


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    """The interactive API documentation."""
    return HTMLResponse(_PAGE)


@router.get("/docs/start.js")
async def start_script() -> Response:
    """Swagger UI's start-up, as a script file (no inline script under the page's policy)."""
    return Response(_START, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets."""
    add_routes(app, router)
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="swagger-ui")
