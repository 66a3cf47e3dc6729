"""Pages: adverse events — the overall list with filters (site, grade, serious, open or
resolved, related, patient), one event with its correction or resolution, and (included from
``adverse_event_form``) recording a new one with CTCAE grade help (§12; DESIGN.md step 7)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from lupus_msc.services import adverse_events, patients
from lupus_msc.services.access import Action
from lupus_msc.services.adverse_events import AdverseEventEdit
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import Infusion, Site
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, Refusal
from lupus_msc.web.forms import parse as parse_typed
from lupus_msc.web.pages import adverse_event_form
from lupus_msc.web.pages.adverse_event_form import CHOICES, grade_help, infusion_choices
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
router.include_router(adverse_event_form.router)

YES_NO = {"yes": True, "no": False}


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@router.get("/adverse-events", response_class=HTMLResponse)
def event_list(
    request: Request,
    registry: DatabaseDep,
    user: WebUserDep,
    site: str = "",
    grade: str = "",
    serious: str = "",
    status: str = "",
    related: str = "",
    patient_id: str = "",
) -> HTMLResponse:
    """Every event the user's sites hold, newest first, with the filters of the query."""
    require_action(user, Action.READ_IDENTITY)
    patient = _uuid(patient_id)
    with registry.reads() as session:
        sites = [
            row
            for row in session.scalars(select(Site).order_by(Site.code))
            if user.actor.sees_site(row.id)
        ]
        shown = (
            patients.view(user.actor, patients.get(session, user.actor, patient))
            if patient
            else None
        )
        rows = adverse_events.listing(
            session,
            user.actor,
            site_id=_uuid(site),
            patient_id=patient,
            grade=int(grade) if grade.isdigit() else None,
            serious=YES_NO.get(serious),
            resolved={"open": False, "resolved": True}.get(status),
            related=YES_NO.get(related),
        )
        events = [
            {"event": adverse_events.view(event), "study_code": owner.study_code}
            for event, owner in rows
        ]
    filters = {
        "site": site,
        "grade": grade,
        "serious": serious,
        "status": status,
        "related": related,
        "patient_id": patient_id,
    }
    context = {
        "events": events,
        "sites": [(str(row.id), f"{row.code} · {row.name}") for row in sites],
        "filters": filters,
        "patient": shown,
        "can_record": user.can(Action.RECORD_ADVERSE_EVENT),
        "grades": CHOICES["grades"],
    }
    return render(request, "adverse_events/list.html", context, user=user)


def _stored_values(event: Any, reference: dict[str, Any] | None) -> dict[str, Any]:
    out = adverse_events.view(event)
    values: dict[str, Any] = {
        "term": out.term,
        "onset_on": out.onset_on.isoformat(),
        "resolved_on": out.resolved_on.isoformat() if out.resolved_on else "",
        "grade": out.grade,
        "lab_value": out.lab_value,
        "lab_unit": out.lab_unit,
        "serious_criteria": list(out.serious_criteria),
        "relatedness": out.relatedness,
        "expected": "true" if out.expected else "false",
        "action": out.action,
        "outcome": out.outcome,
        "infusion_id": str(out.infusion_id) if out.infusion_id else "",
    }
    values.update(reference or {})
    return values


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    event_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    require_action(user, Action.READ_IDENTITY)
    with registry.reads() as session:
        event = adverse_events.get(session, user.actor, event_id)
        patient = patients.view(user.actor, patients.get(session, user.actor, event.patient_id))
        out = adverse_events.view(event)
        infusion = session.get(Infusion, event.infusion_id) if event.infusion_id else None
        can_edit = user.can(Action.RECORD_ADVERSE_EVENT)
        infused = infusion_choices(session, user, event.patient_id) if can_edit else []
        shown = values if values is not None else _stored_values(event, event.lab_reference)
    context = {
        **CHOICES,
        "event": out,
        "patient": patient,
        "infusion": infusion,
        "infusions": infused,
        "values": shown,
        "errors": errors or {},
        "message": message,
        "can_edit": can_edit,
        "help": grade_help(shown),
        "action_url": f"/adverse-events/{event_id}",
        "preview_url": f"/patients/{event.patient_id}/adverse-events/preview",
    }
    return render(request, "adverse_events/event.html", context, user=user, status=status)


@router.get("/adverse-events/{event_id}", response_class=HTMLResponse)
def event_page(
    request: Request, event_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    return _page(request, registry, user, event_id)


@router.post("/adverse-events/{event_id}")
def edit_event(
    request: Request,
    event_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> Response:
    """Correct the event (with a reason) or record its resolution."""
    require_action(user, Action.RECORD_ADVERSE_EVENT)
    if form.get("action") == "check":
        return _page(request, registry, user, event_id, values=form)
    try:
        data = parse_typed(AdverseEventEdit, form)
        with unit_of_work(registry, user.actor) as session:
            adverse_events.edit(session, user.actor, event_id, data)
    except (FormErrors, ServiceError) as error:
        refused = Refusal.of(error)
        return _page(
            request,
            registry,
            user,
            event_id,
            values=form,
            errors=refused.errors,
            message=refused.message,
            status=refused.status,
        )
    return redirect(f"/adverse-events/{event_id}", flash="Adverse event updated.")
