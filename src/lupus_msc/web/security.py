"""Response headers that every page gets, and the JavaScript libraries served from installed
Python packages (never a CDN)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Scripts only from this server; inline styles are allowed because plotly.js sets them."""

vendor_router = APIRouter(include_in_schema=False)
PLOTLY_JS = files("plotly") / "package_data" / "plotly.min.js"


@vendor_router.get("/static/vendor/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js as shipped inside the installed ``plotly`` package."""
    return Response(
        PLOTLY_JS.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def install_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Cache-Control", "no-store")
        return response
