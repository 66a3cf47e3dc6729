"""Pages: the patient list (search, filters, paging), registration, correction and pathway moves.

The patient page itself (timeline, charts, outcome states) is ``patient_page``; its router is
included here, after the fixed paths, so that ``/patients/new`` is never read as a patient id.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lupus_msc.services import patients, protocols
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.patients import PatientEdit, PatientIn, TransitionIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import PatientState, Sex
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages import patient_page
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 100_000
EDITABLE = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "medical_record_number",
    "diagnosis_date",
)
SEX_OPTIONS = [(sex.value, sex.value) for sex in Sex]
STATE_OPTIONS = [(state.value, state.value) for state in PatientState]


def protocol_options(session: Session) -> list[tuple[str, str]]:
    return [
        (str(version.id), f"{version.protocol_code} v{version.version}")
        for version in protocols.listing(session)
    ]


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _state(value: str | None) -> PatientState | None:
    try:
        return PatientState(value) if value else None
    except ValueError:
        return None


def _page(value: str | None) -> int:
    return min(int(value), MAX_PAGE) if value and value.isdigit() and int(value) > 0 else 1


REACHED = {"eligible": "Reached eligibility", "infused": "Reached infusion"}
VISITS = {"due": "A visit due this week", "overdue": "A visit overdue"}


@router.get("/patients", response_class=HTMLResponse)
def patient_list(
    request: Request,
    user: WebUserDep,
    registry: DatabaseDep,
    q: str = "",
    site: str = "",
    state: str = "",
    protocol: str = "",
    reached: str = "",
    visits: str = "",
    page: str = "1",
) -> HTMLResponse:
    """Patients of the user's sites, searched and filtered, ``PAGE_SIZE`` rows a page; the
    dashboard's figures link here with ``reached`` (funnel) and ``visits`` (due, overdue)."""
    require_action(user, Action.READ_PATIENTS)
    number = _page(page)
    search = q.strip()[:100]
    reached = reached if reached in REACHED else ""
    visits = visits if visits in VISITS else ""
    filters = {
        "q": search,
        "site": site,
        "state": state,
        "protocol": protocol,
        "reached": reached,
        "visits": visits,
    }
    with registry.reads() as session:
        found = patients.listing(
            session,
            user.actor,
            site_id=_uuid(site),
            limit=PAGE_SIZE + 1,
            offset=(number - 1) * PAGE_SIZE,
            search=search or None,
            state=_state(state),
            protocol_version_id=_uuid(protocol),
            reached=PatientState(reached) if reached else None,
            visits=visits or None,
        )
        rows = [patients.view(user.actor, patient) for patient in found[:PAGE_SIZE]]
        sites = patients.sites_for(session, user.actor)
        versions = protocol_options(session)
    kept = {key: value for key, value in filters.items() if value}
    return render(
        request,
        "patients/list.html",
        {
            "rows": rows,
            "values": filters,
            "site_options": [(str(item.id), f"{item.code} · {item.name}") for item in sites],
            "site_codes": {item.id: item.code for item in sites},
            "state_options": STATE_OPTIONS,
            "reached_options": list(REACHED.items()),
            "visits_options": list(VISITS.items()),
            "protocol_options": versions,
            "protocol_names": {key: text for key, text in versions},
            "page": number,
            "previous_url": (
                f"/patients?{urlencode({**kept, 'page': number - 1})}" if number > 1 else None
            ),
            "next_url": (
                f"/patients?{urlencode({**kept, 'page': number + 1})}"
                if len(found) > PAGE_SIZE
                else None
            ),
            "identified": user.can(Action.READ_IDENTITY),
        },
        user=user,
    )


def _register_page(
    request: Request,
    user: WebUser,
    registry: Any,
    values: dict[str, Any],
    *,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with registry.reads() as session:
        sites = patients.sites_for(session, user.actor)
        versions = protocol_options(session)
    return render(
        request,
        "patients/new.html",
        {
            "values": values,
            "message": message,
            "errors": errors or {},
            "site_options": [(str(item.id), f"{item.code} · {item.name}") for item in sites],
            "protocol_options": versions,
            "sex_options": SEX_OPTIONS,
        },
        user=user,
        status=status,
    )


@router.get("/patients/new", response_class=HTMLResponse)
def register_form(request: Request, user: WebUserDep, registry: DatabaseDep) -> HTMLResponse:
    require_action(user, Action.REGISTER_PATIENT)
    only = sorted(user.actor.site_ids)
    values = {"site_id": str(only[0])} if len(only) == 1 else {}
    return _register_page(request, user, registry, values)


@router.post("/patients/new")
def register(request: Request, user: WebUserDep, registry: DatabaseDep, form: FormDep) -> Response:
    require_action(user, Action.REGISTER_PATIENT)
    try:
        data = parse(PatientIn, form)
        with unit_of_work(registry, user.actor) as session:
            patient = patients.register(session, user.actor, data)
            patient_id, code = patient.id, patient.study_code
    except ServiceError as error:
        return _register_page(
            request,
            user,
            registry,
            form,
            message=error.message,
            errors=dict(error.fields),
            status=error.status,
        )
    except FormErrors as error:
        return _register_page(
            request, user, registry, form, message=error.message, errors=error.fields, status=422
        )
    return redirect(f"/patients/{patient_id}", flash=f"Patient {code} is registered (referred).")


def _current_values(registry: Any, user: WebUser, patient_id: uuid.UUID) -> dict[str, Any]:
    with registry.reads() as session:
        patient = patients.view(user.actor, patients.get(session, user.actor, patient_id))
    values = {name: getattr(patient, name) for name in EDITABLE}
    values["sex"] = patient.sex.value
    return {**values, "study_code": patient.study_code, "id": patient.id}


def _edit_page(
    request: Request,
    user: WebUser,
    current: dict[str, Any],
    values: dict[str, Any],
    *,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "patients/edit.html",
        {
            "patient": current,
            "values": values,
            "message": message,
            "errors": errors or {},
            "sex_options": SEX_OPTIONS,
        },
        user=user,
        status=status,
    )


@router.get("/patients/{patient_id}/edit", response_class=HTMLResponse)
def edit_form(
    request: Request, patient_id: uuid.UUID, user: WebUserDep, registry: DatabaseDep
) -> HTMLResponse:
    require_action(user, Action.EDIT_PATIENT)
    current = _current_values(registry, user, patient_id)
    return _edit_page(request, user, current, {**current, "reason": ""})


def changed_fields(current: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The corrected fields only: a field left as it was is not sent (nothing to audit)."""
    changes: dict[str, Any] = {}
    for name in EDITABLE:
        sent = form.get(name)
        if not isinstance(sent, str):
            continue
        before = current.get(name)
        if sent.strip() != ("" if before is None else str(before)):
            changes[name] = sent.strip()
    return changes


@router.post("/patients/{patient_id}/edit")
def edit(
    request: Request,
    patient_id: uuid.UUID,
    user: WebUserDep,
    registry: DatabaseDep,
    form: FormDep,
) -> Response:
    require_action(user, Action.EDIT_PATIENT)
    current = _current_values(registry, user, patient_id)
    try:
        changes = changed_fields(current, form)
        if not changes:
            raise FormErrors("nothing was changed", {})
        if any(current.get(name) is not None and value == "" for name, value in changes.items()):
            blanked = [name for name, value in changes.items() if value == ""]
            raise FormErrors(
                "a recorded value cannot be blanked here",
                {name: "cannot be emptied; correct it instead" for name in blanked},
            )
        data = parse(PatientEdit, {**changes, "reason": form.get("reason", "")})
        with unit_of_work(registry, user.actor) as session:
            patients.edit(session, user.actor, patient_id, data)
    except ServiceError as error:
        fields = dict(error.fields)
        return _edit_page(
            request, user, current, form, message=error.message, errors=fields, status=error.status
        )
    except FormErrors as error:
        return _edit_page(
            request, user, current, form, message=error.message, errors=error.fields, status=422
        )
    names = ", ".join(name.replace("_", " ") for name in changes)
    return redirect(f"/patients/{patient_id}", flash=f"Corrected: {names}.")


@router.post("/patients/{patient_id}/move")
def move(
    request: Request,
    patient_id: uuid.UUID,
    user: WebUserDep,
    registry: DatabaseDep,
    form: FormDep,
) -> Response:
    """A pathway transition; a refused move shows the patient page with the reason."""
    require_action(user, Action.EDIT_PATIENT)
    try:
        data = parse(TransitionIn, form)
        with unit_of_work(registry, user.actor) as session:
            patient = patients.transition(session, user.actor, patient_id, data)
            code, state = patient.study_code, patient.state.value
    except ServiceError as error:
        if error.status == 404:
            raise
        return patient_page.page(
            request,
            user,
            registry,
            patient_id,
            move={"message": error.message, "errors": dict(error.fields), "values": form},
            status=error.status,
        )
    except FormErrors as error:
        return patient_page.page(
            request,
            user,
            registry,
            patient_id,
            move={"message": error.message, "errors": error.fields, "values": form},
            status=422,
        )
    return redirect(f"/patients/{patient_id}", flash=f"{code} moved to {state}.")


router.include_router(patient_page.router)
