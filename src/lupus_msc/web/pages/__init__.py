"""The server-rendered pages (Jinja2), one module per part of the job."""

from __future__ import annotations

from fastapi import APIRouter

from lupus_msc.web.pages import (
    admin,
    adverse_events,
    auth,
    cohort,
    dashboard,
    exports,
    infusions,
    lab,
    patients,
    screening,
    visits,
)

PAGE_ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    dashboard.router,
    patients.router,
    screening.router,
    visits.router,
    adverse_events.router,
    cohort.router,
    exports.router,
    lab.router,
    infusions.router,
    admin.router,
)
