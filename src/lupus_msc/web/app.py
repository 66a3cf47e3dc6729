"""The FastAPI application factory (started by uvicorn with ``--factory``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from lupus_msc import __version__
from lupus_msc.settings import load_settings
from lupus_msc.store.database import Database
from lupus_msc.web import (
    api_accounts,
    api_audit,
    api_exports,
    api_fhir,
    api_followup,
    api_pathway,
    api_patients,
    api_products,
)
from lupus_msc.web.api_score import build_router, input_schemas
from lupus_msc.web.docs import install_docs
from lupus_msc.web.errors import error_response, install_error_handlers
from lupus_msc.web.jobs import Jobs
from lupus_msc.web.pages import PAGE_ROUTERS
from lupus_msc.web.responses import ERRORS
from lupus_msc.web.security import install_security_headers, vendor_router

REGISTRY_ROUTERS = (
    api_accounts.router,
    api_patients.router,
    api_pathway.router,
    api_products.router,
    api_followup.router,
    api_audit.router,
    api_exports.router,
)


def create_app(database_url: str | None = None) -> FastAPI:
    """The web application over the registry at ``database_url`` (default: the settings')."""
    registry = Database(database_url or load_settings().database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        registry.upgrade()
        yield
        app.state.jobs.close()
        registry.dispose()

    app = FastAPI(
        title="lupus-msc",
        version=__version__,
        description="MSC therapy programme for SLE: the registry and validated clinical "
        "instruments over HTTP. Registry routes need a bearer token from POST /api/v1/tokens.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.database = registry
    app.state.jobs = Jobs()
    install_error_handlers(app)
    install_docs(app)
    install_security_headers(app)
    app.include_router(vendor_router)  # before the mount, which would answer its path
    app.mount("/static", StaticFiles(packages=[("lupus_msc.web", "static")]), name="static")
    for pages in PAGE_ROUTERS:
        app.include_router(pages)
    app.include_router(build_router())
    for router in REGISTRY_ROUTERS:
        app.include_router(router, responses=ERRORS)
    app.include_router(api_fhir.router)

    @app.api_route("/api/v1/score/{instrument}", methods=["POST"], include_in_schema=False)
    def unknown_instrument(instrument: str) -> Any:
        return error_response(404, f"unknown instrument {instrument!r}")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(input_schemas())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
