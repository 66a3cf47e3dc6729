"""The patient page: the whole course on one screen (header, timeline, charts, outcome states,
visit schedule and the actions the user's role may take).

The course comes from ``services.course`` (a handful of queries by patient id); the outcome
states are computed there by the clinical engine (instruments.md §2, §4, §5, §6, §10), never
here or in the template.

The published-results panel (``analytics.evidence_panel``) holds published numbers only, so every
role that may read the page sees it; it is chosen by kidney involvement at screening, which the
course knows only for roles that read the identified course and once a screening is recorded
(otherwise both populations show).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lupus_msc.analytics import evidence_panel
from lupus_msc.services import course as course_service
from lupus_msc.services.access import Action
from lupus_msc.store.models import PatientState
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.pages.patient_charts import chart_figures, chart_table
from lupus_msc.web.session import WebUser, WebUserDep, require_action
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)

S = PatientState
SCREENING_STATES = {S.SCREENING, S.SCREEN_FAILED}
CONSENT_STATES = {S.ELIGIBLE, S.CONSENTED, S.ENROLLED, S.INFUSED, S.FOLLOW_UP}
INFUSION_STATES = {S.ENROLLED, S.INFUSED, S.FOLLOW_UP}


def actions_for(user: WebUser, patient_id: uuid.UUID, state: PatientState) -> list[dict[str, str]]:
    """Links to the steps the user's role may take now (none for read-only roles)."""
    base = f"/patients/{patient_id}"
    offered = [
        (Action.RECORD_SCREENING, state in SCREENING_STATES, "Screening", f"{base}/screening"),
        (Action.RECORD_CONSENT, state in CONSENT_STATES, "Consent", f"{base}/consent"),
        (Action.RECORD_INFUSION, state in INFUSION_STATES, "New infusion", f"{base}/infusions/new"),
        (Action.RECORD_ADVERSE_EVENT, True, "New adverse event", f"{base}/adverse-events/new"),
        (Action.RECORD_MEDICATION, True, "Medications", f"{base}/medications"),
        (Action.EDIT_PATIENT, True, "Correct patient details", f"{base}/edit"),
    ]
    return [
        {"label": label, "href": href}
        for action, now, label, href in offered
        if now and user.can(action)
    ]


def kidneys(course: course_service.Course) -> bool | None:
    """Kidney involvement at screening, or None when this view cannot tell (no screening
    recorded, or a role that does not read the identified course)."""
    screened = any(entry.kind == "screening" for entry in course.timeline)
    return course.renal if course.identified and screened else None


def page(
    request: Request,
    user: WebUser,
    registry: Any,
    patient_id: uuid.UUID,
    *,
    move: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The patient page (also shown again, with the refusal, after a refused move)."""
    require_action(user, Action.READ_PATIENTS)
    with registry.reads() as session:
        course = course_service.load(session, user.actor, patient_id)
    return render(
        request,
        "patients/page.html",
        {
            "course": course,
            "patient": course.patient,
            "actions": actions_for(user, patient_id, course.patient.state),
            "can_move": user.can(Action.EDIT_PATIENT) and bool(course.allowed_moves),
            "can_record_visit": user.can(Action.RECORD_VISIT),
            "move_options": [(state.value, state.value) for state in course.allowed_moves],
            "move": move or {"values": {}, "errors": {}, "message": None},
            "figures": chart_figures(course),
            "chart_rows": chart_table(course),
            "evidence": evidence_panel.panel(kidneys(course)),
        },
        user=user,
        status=status,
    )


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient(
    request: Request, patient_id: uuid.UUID, user: WebUserDep, registry: DatabaseDep
) -> HTMLResponse:
    return page(request, user, registry, patient_id)
