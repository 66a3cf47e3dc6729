"""The dashboard: what needs attention today, for each role the figures it may read, its own
work first (a lab user sees the lots first, a coordinator the visits to chase)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from lupus_msc.services import dashboard
from lupus_msc.services.access import Action, Actor
from lupus_msc.services.dashboard import FigureCache
from lupus_msc.services.fields import today
from lupus_msc.store.models import PatientState, Role
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.session import WebUserDep
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)

NEEDS: dict[str, Action] = {
    "states": Action.READ_PATIENTS,
    "funnel": Action.READ_PATIENTS,
    "visits": Action.READ_IDENTITY,
    "events": Action.READ_IDENTITY,
    "lots": Action.READ_PRODUCTS,
}
"""The action each part needs (the one its service checks)."""
ORDER: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ("states", "funnel", "visits", "events", "lots"),
    Role.PHYSICIAN: ("events", "visits", "states", "funnel", "lots"),
    Role.COORDINATOR: ("visits", "funnel", "states", "events", "lots"),
    Role.LAB: ("lots", "states", "funnel", "visits", "events"),
    Role.NURSE: ("visits", "events", "lots", "states", "funnel"),
    Role.MONITOR: ("events", "visits", "states", "funnel", "lots"),
    Role.STATISTICIAN: ("funnel", "states", "lots", "visits", "events"),
}
"""Each role's own work first."""


def parts_for(actor: Actor) -> list[str]:
    """The parts ``actor`` may read, in the order that suits the role."""
    return [part for part in ORDER[actor.role] if actor.may(NEEDS[part])]


def _figures(session: Session, actor: Actor, parts: list[str], day: dt.date) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if "states" in parts:
        figures["states"] = dashboard.patients_by_state(session, actor)
        figures["funnel"] = dashboard.funnel(session, actor, figures["states"])
    if "visits" in parts:
        figures["visits"] = dashboard.visits_due(session, actor, day)
    if "events" in parts:
        figures["events"] = dashboard.adverse_events(session, actor)
    if "lots" in parts:
        figures["lots"] = dashboard.lots(session, actor, day)
    return figures


def figure_cache(request: Request) -> FigureCache:
    """The application's cache of dashboard figures (one per app, so one per database)."""
    cache: FigureCache | None = getattr(request.app.state, "dashboard_figures", None)
    if cache is None:
        cache = request.app.state.dashboard_figures = FigureCache(request.app.state.database)
    return cache


@router.get("/", response_class=HTMLResponse)
def dashboard_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    parts = parts_for(user.actor)
    actor, day = user.actor, today()
    scope = (actor.all_sites, actor.site_ids, tuple(parts), day)
    with registry.reads() as session:
        snapshot = figure_cache(request).figures(
            session, scope, lambda reading: _figures(reading, actor, parts, day)
        )
    context = {
        "parts": parts,
        "figures": snapshot.figures,
        "as_of": snapshot.as_of,
        "stale": snapshot.stale,
        "states": list(PatientState),
        "scope": "all sites" if user.actor.all_sites else "your sites",
    }
    return render(request, "dashboard.html", context, user=user)
