"""Pages: a patient's medications — list, add, stop (never delete) — with the prednisone
equivalent of systemic glucocorticoids derived by the services (§11, §16.11)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from lupus_msc.services import medications, patients, visit_prednisone
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.medications import MedicationEdit, MedicationIn, MedicationOut
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visit_prednisone import DoseUnit, Frequency, Route
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, Refusal, kinds, number
from lupus_msc.web.forms import parse as parse_typed
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
PAGE = "medications/list.html"


def _choices(annotation: Any) -> list[tuple[str, str]]:
    return [(value, value) for kind in kinds(annotation) for value in kind.__args__]


CHOICES = {
    "units": _choices(DoseUnit),
    "frequencies": _choices(Frequency),
    "routes": _choices(Route),
}


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    patient_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    stop_errors: dict[str, dict[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    require_action(user, Action.READ_IDENTITY)
    with registry.reads() as session:
        patient = patients.view(user.actor, patients.get(session, user.actor, patient_id))
        found = medications.for_patient(session, user.actor, patient_id)
        listed = [MedicationOut.model_validate(item) for item in found]
    context = {
        **CHOICES,
        "patient": patient,
        "medications": listed,
        "values": values or {"unit": "mg", "frequency": "once-daily", "route": "oral"},
        "errors": errors or {},
        "message": message,
        "stop_errors": stop_errors or {},
        "can_edit": user.can(Action.RECORD_MEDICATION),
        "preview": _preview(values or {}),
    }
    return render(request, PAGE, context, user=user, status=status)


def _preview(form: dict[str, Any]) -> dict[str, Any]:
    """The prednisone equivalent of the medication being typed (services, §11)."""
    drug = str(form.get("drug") or "").strip()
    dose = number(str(form.get("dose") or ""))
    values = {
        "drug": drug,
        "dose": dose,
        "unit": form.get("unit") or "mg",
        "frequency": form.get("frequency") or "once-daily",
        "route": form.get("route") or "oral",
    }
    if not drug:
        return {"state": "empty"}
    if not visit_prednisone.counted(drug, str(values["route"])):
        return {"state": "none", "drug": drug}
    if dose is None or dose <= 0:
        return {"state": "dose", "drug": drug}
    try:
        mg_day = medications.prednisone_mg_day(values)
        assert mg_day is not None  # noqa: S101 - counted above
        result = visit_prednisone.score(
            [visit_prednisone.entry(drug, dose, str(values["frequency"]))]
        )
    except ServiceError as error:
        return {"state": "refused", "drug": drug, "message": error.message}
    except (ValidationError, KeyError):
        return {"state": "refused", "drug": drug, "message": "dose out of range"}
    return {"state": "ok", "drug": drug, "mg_day": mg_day, "band": result["band"]}


@router.get("/patients/{patient_id}/medications", response_class=HTMLResponse)
def medications_page(
    request: Request, patient_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    return _page(request, registry, user, patient_id)


@router.post("/patients/{patient_id}/medications")
def add_medication(
    request: Request,
    patient_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> Response:
    require_action(user, Action.RECORD_MEDICATION)
    if form.get("action") == "check":
        return _page(request, registry, user, patient_id, values=form)
    try:
        data = parse_typed(MedicationIn, form)
        with unit_of_work(registry, user.actor) as session:
            added = medications.record(session, user.actor, patient_id, data)
            equivalent = added.prednisone_mg_day
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
    flash = f"{data.drug} added."
    if equivalent is not None:
        flash += f" Prednisone equivalent {_plain(equivalent)} mg/day."
    return redirect(f"/patients/{patient_id}/medications", flash=flash)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


@router.post("/patients/{patient_id}/medications/preview", response_class=HTMLResponse)
def preview_medication(
    request: Request,
    patient_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> HTMLResponse:
    """The live prednisone equivalent of the medication being typed (a fragment)."""
    require_action(user, Action.RECORD_MEDICATION)
    with registry.reads() as session:
        patients.get(session, user.actor, patient_id)
    return render(request, "medications/preview.html", {"preview": _preview(form)}, user=user)


@router.post("/medications/{medication_id}/stop")
def stop_medication(
    request: Request,
    medication_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> Response:
    """Stop a running medication on the date given (the record stays)."""
    require_action(user, Action.RECORD_MEDICATION)
    with registry.reads() as session:
        patient_id = medications.get(session, user.actor, medication_id).patient_id
    try:
        data = parse_typed(MedicationEdit, {"stopped_on": form.get("stopped_on", "")})
        if data.stopped_on is None:
            raise FormErrors("give the date it was stopped", {"stopped_on": "is required"})
        with unit_of_work(registry, user.actor) as session:
            medications.edit(session, user.actor, medication_id, data)
    except (FormErrors, ServiceError) as error:
        if isinstance(error, ServiceError) and error.status in (403, 404):
            raise
        fields = error.fields if isinstance(error, FormErrors) else dict(error.fields)
        status = 422 if isinstance(error, FormErrors) else error.status
        return _page(
            request,
            registry,
            user,
            patient_id,
            message=error.message,
            stop_errors={str(medication_id): fields},
            status=status,
        )
    return redirect(f"/patients/{patient_id}/medications", flash="Medication stopped.")
