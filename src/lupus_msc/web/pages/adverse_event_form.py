"""Pages: recording an adverse event, and the live CTCAE grade help (§12, DESIGN.md step 7).

The grade of a term CTCAE grades from a lab value is derived by the services
(``adverse_events.grade_of`` → the ``ctcae`` instrument); the page shows the §12 grade
definitions of the term and that derived grade while the form is filled in.
"""

from __future__ import annotations

import uuid
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lupus_msc.clinical import ctcae
from lupus_msc.services import adverse_events, infusions, patients
from lupus_msc.services.access import Action
from lupus_msc.services.adverse_events import (
    ActionTaken,
    AdverseEventIn,
    Outcome,
    Relatedness,
    Seriousness,
)
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, Refusal, number
from lupus_msc.web.forms import parse as parse_typed
from lupus_msc.web.pages.ctcae_help import TERM_NAMES, help_for
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
LAB_INPUTS = ("lab_value", "lab_unit", "lab_lln", "lab_uln", "lab_baseline", "hours_above_40")


def _pairs(kind: Any) -> list[tuple[str, str]]:
    return [(value, value.replace("-", " ")) for value in get_args(kind)]


CHOICES = {
    "criteria": _pairs(Seriousness),
    "relatedness": _pairs(Relatedness),
    "actions": _pairs(ActionTaken),
    "outcomes": _pairs(Outcome),
    "lab_units": [(unit, unit) for unit in get_args(ctcae.Unit)],
    "grades": [(grade, f"Grade {grade}") for grade in range(1, 6)],
    "term_names": TERM_NAMES,
}


def grade_help(form: dict[str, Any]) -> dict[str, Any]:
    """The §12 definitions of the typed term and the grade the services derive from its lab
    value (or why they cannot yet)."""
    term = str(form.get("term") or "").strip()
    if not term:
        return {"term": ""}
    key = adverse_events.ctcae_key(term)
    lab: dict[str, Any] = {}
    for field in LAB_INPUTS:
        text = str(form.get(field) or "").strip()
        if text:
            lab[field] = text if field == "lab_unit" else number(text)
    grade_text = str(form.get("grade") or "").strip()
    given = int(grade_text) if grade_text.isdigit() else None
    result: dict[str, Any] = {"term": term, "key": key, "help": help_for(term, key)}
    if key is None:
        return result
    result["units"] = ctcae.TERM_UNITS[key]
    if any(value is None for value in lab.values()):
        result["problem"] = "the lab values must be numbers"
        return result
    try:
        graded = adverse_events.grade_of(term, given, lab)
    except ServiceError as error:
        result["problem"] = error.message
        return result
    result["graded"] = graded
    return result


def infusion_choices(session: Session, user: WebUser, patient_id: uuid.UUID) -> list[Any]:
    return [
        (str(item.id), f"Infusion {item.number} · {item.started_at.date().isoformat()}")
        for item in infusions.for_patient(session, user.actor, patient_id)
    ]


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    patient_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    require_action(user, Action.RECORD_ADVERSE_EVENT)
    with registry.reads() as session:
        patient = patients.view(user.actor, patients.get(session, user.actor, patient_id))
        infused = infusion_choices(session, user, patient_id)
    context = {
        **CHOICES,
        "patient": patient,
        "infusions": infused,
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "help": grade_help(values or {}),
        "action_url": f"/patients/{patient_id}/adverse-events/new",
        "preview_url": f"/patients/{patient_id}/adverse-events/preview",
    }
    return render(request, "adverse_events/new.html", context, user=user, status=status)


@router.get("/patients/{patient_id}/adverse-events/new", response_class=HTMLResponse)
def new_event_form(
    request: Request,
    patient_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    infusion_id: uuid.UUID | None = None,
) -> HTMLResponse:
    """The form; ``?infusion_id=`` (from an infusion's "record a reaction") pre-selects it."""
    preset = {"infusion_id": str(infusion_id)} if infusion_id else None
    return _page(request, registry, user, patient_id, values=preset)


@router.post("/patients/{patient_id}/adverse-events/new")
def record_event(
    request: Request,
    patient_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> Response:
    require_action(user, Action.RECORD_ADVERSE_EVENT)
    if form.get("action") == "check":
        return _page(request, registry, user, patient_id, values=form)
    try:
        data = parse_typed(AdverseEventIn, form)
        with unit_of_work(registry, user.actor) as session:
            event = adverse_events.record(session, user.actor, patient_id, data)
            event_id, grade = event.id, event.grade
    except (FormErrors, ServiceError) as error:
        refused = Refusal.of(error)
        return _page(
            request,
            registry,
            user,
            patient_id,
            values=form,
            errors=refused.errors,
            message=refused.message,
            status=refused.status,
        )
    return redirect(f"/adverse-events/{event_id}", flash=f"Adverse event recorded (grade {grade}).")


@router.post("/patients/{patient_id}/adverse-events/preview", response_class=HTMLResponse)
def preview_grade(
    request: Request,
    patient_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> HTMLResponse:
    """The grade help of the form as typed (a fragment for ``data-preview``)."""
    require_action(user, Action.RECORD_ADVERSE_EVENT)
    with registry.reads() as session:
        patients.get(session, user.actor, patient_id)
    return render(request, "adverse_events/grade_help.html", {"help": grade_help(form)}, user=user)
