"""Interactive API documentation served from the installed Swagger UI files, not from a CDN.

Clinics run the platform on closed networks; FastAPI's default /docs page loads its scripts from
a public CDN and shows nothing there. The Swagger UI distribution comes from the
``swagger-ui-bundle`` package instead.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/static/swagger-ui"


def install_docs(app: FastAPI) -> None:
    """Serve /docs with locally installed Swagger UI assets."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
