"""Pages: the screening form with the live 2019 EULAR/ACR score (§7), SLEDAI-2K (§1) and the
protocol's eligibility rules (three-valued, §0.4), and the physician's signed decision.

Every number shown comes from ``services.screening`` (which calls the ``clinical`` engine).
Consent pages live in ``pages.consent`` and are included here.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from lupus_msc.services import screening
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.fields import today
from lupus_msc.services.screening import DecisionIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages import consent, screening_input
from lupus_msc.web.pages.screening_view import MEANING, Screenings, form_items, load, other_kinds
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
router.include_router(consent.router)


def _preview(
    registry: DatabaseDep, user: WebUser, found: Screenings, values: dict[str, Any]
) -> dict[str, Any]:
    """The live check's context: the service's preview and the fields it could not read yet."""
    unread: dict[str, str] = {}
    kinds = other_kinds(found.protocol)
    data = screening_input.read(values, other_kinds=kinds, lenient=True, errors=unread)
    with registry.reads() as session:
        preview = screening.preview(session, user.actor, found.patient.id, data)
    return {"preview": preview, "unread": unread}


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    patient_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    with registry.reads() as session:
        found = load(session, user, patient_id)
    can_record = found.can_record(user)
    if values is None:
        latest = found.latest
        values = screening_input.prefill(latest.data) if latest else {}
        values["screened_on"] = today().isoformat()
    page = {
        "found": found,
        "patient": found.view,
        "can_record": can_record,
        "can_decide": found.can_decide(user),
        "values": values,
        "rows": screening_input.treatment_rows(values),
        **(_preview(registry, user, found, values) if can_record else {}),
        "meaning": MEANING,
        **form_items(found.protocol),
        **context,
    }
    return render(request, "screening/page.html", page, user=user, status=status)


@router.get("/patients/{patient_id}/screening", response_class=HTMLResponse)
def screening_page(
    request: Request, patient_id: uuid.UUID, user: WebUserDep, registry: DatabaseDep
) -> HTMLResponse:
    require_action(user, Action.READ_IDENTITY)
    return _page(request, registry, user, patient_id)


@router.post("/patients/{patient_id}/screening")
def record_screening(
    request: Request,
    patient_id: uuid.UUID,
    user: WebUserDep,
    registry: DatabaseDep,
    form: FormDep,
) -> Response:
    """Save a screening; with ``intent=check`` (the no-JavaScript Check button) only re-show
    the page with the live check of what was entered."""
    require_action(user, Action.RECORD_SCREENING)
    if form.get("intent") == "check":
        return _page(request, registry, user, patient_id, values=form)
    try:
        with registry.reads() as session:
            protocol = load(session, user, patient_id).protocol
        data = screening_input.read(form, other_kinds=other_kinds(protocol))
        with unit_of_work(registry, user.actor) as session:
            screening.record(session, user.actor, patient_id, data)
    except (ServiceError, FormErrors) as error:
        fields = error.fields if isinstance(error, FormErrors) else dict(error.fields)
        status = error.status if isinstance(error, ServiceError) else 422
        return _page(
            request,
            registry,
            user,
            patient_id,
            values=form,
            status=status,
            errors=fields,
            message=error.message,
        )
    return redirect(f"/patients/{patient_id}/screening", flash="The screening is recorded.")


@router.post("/patients/{patient_id}/screening/preview", response_class=HTMLResponse)
def preview_screening(
    request: Request,
    patient_id: uuid.UUID,
    user: WebUserDep,
    registry: DatabaseDep,
    form: FormDep,
) -> HTMLResponse:
    """The live check as an HTML fragment (``data-preview`` in static/app.js)."""
    require_action(user, Action.RECORD_SCREENING)
    with registry.reads() as session:
        found = load(session, user, patient_id)
    context: dict[str, Any]
    try:
        context = _preview(registry, user, found, form)
    except (FormErrors, ServiceError) as error:
        context = {"preview": None, "preview_message": error.message}
    return render(request, "screening/_preview.html", context, user=user)


@router.post("/patients/{patient_id}/screening/decision")
def decide_eligibility(
    request: Request,
    patient_id: uuid.UUID,
    user: WebUserDep,
    registry: DatabaseDep,
    form: FormDep,
) -> Response:
    """The physician's decision, signed by re-entering the password; the service moves the
    patient to eligible or screen-failed."""
    require_action(user, Action.SIGN_ELIGIBILITY)
    try:
        with registry.reads() as session:
            latest = load(session, user, patient_id).latest
        if latest is None or str(latest.id) != form.get("screening_id"):
            raise FormErrors(
                "this screening is no longer the latest: reload the page",
                {"decision": "decide the latest screening"},
            )
        data = parse(DecisionIn, form)
        with unit_of_work(registry, user.actor) as session:
            screening.decide(session, user.actor, latest.id, data)
    except (ServiceError, FormErrors) as error:
        fields = error.fields if isinstance(error, FormErrors) else dict(error.fields)
        status = error.status if isinstance(error, ServiceError) else 422
        decision_values = {key: form.get(key) for key in ("decision", "reason")}
        return _page(
            request,
            registry,
            user,
            patient_id,
            status=status,
            decision_errors=fields,
            decision_message=error.message,
            decision_values=decision_values,
        )
    return redirect(f"/patients/{patient_id}/screening", flash="The decision is signed.")
