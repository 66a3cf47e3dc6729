"""Pages: the patient's consent (version, date, signer), its history, and its withdrawal
(DESIGN.md pathway step 2). The rules are those of ``services.consent``."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from lupus_msc.services import consent, patients
from lupus_msc.services.access import Action
from lupus_msc.services.consent import ConsentIn, WithdrawalIn
from lupus_msc.services.errors import ServiceError, refused
from lupus_msc.services.fields import today
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import PatientState, User
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    patient_id: uuid.UUID,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    with registry.reads() as session:
        patient = patients.get(session, user.actor, patient_id)
        history = consent.for_patient(session, user.actor, patient.id)
        recorders = {c.recorded_by_id for c in history}
        names = {uid: getattr(session.get(User, uid), "full_name", "?") for uid in recorders}
        active = consent.active(session, patient)
        view = patients.view(user.actor, patient)
    may = user.can(Action.RECORD_CONSENT)
    values = {
        "signed_on": today().isoformat(),
        "signer_name": f"{view.given_name or ''} {view.family_name or ''}".strip(),
        "withdrawn_on": today().isoformat(),
    }
    page = {
        "patient": view,
        "history": history,
        "names": names,
        "active": active,
        "can_record": may and patient.state is PatientState.ELIGIBLE,
        "can_withdraw": may and active is not None,
        "values": values,
        "withdraw_values": values,
        **context,
    }
    return render(request, "consent/page.html", page, user=user, status=status)


@router.get("/patients/{patient_id}/consent", response_class=HTMLResponse)
def consent_page(
    request: Request, patient_id: uuid.UUID, user: WebUserDep, registry: DatabaseDep
) -> HTMLResponse:
    require_action(user, Action.READ_IDENTITY)
    return _page(request, registry, user, patient_id)


def _refusal(error: ServiceError | FormErrors) -> tuple[dict[str, str], int]:
    if isinstance(error, FormErrors):
        return error.fields, 422
    return dict(error.fields), error.status


@router.post("/patients/{patient_id}/consent")
def record_consent(
    request: Request,
    patient_id: uuid.UUID,
    user: WebUserDep,
    registry: DatabaseDep,
    form: FormDep,
) -> Response:
    require_action(user, Action.RECORD_CONSENT)
    try:
        data = parse(ConsentIn, form)
        with unit_of_work(registry, user.actor) as session:
            consent.record(session, user.actor, patient_id, data)
    except (ServiceError, FormErrors) as error:
        fields, status = _refusal(error)
        return _page(
            request,
            registry,
            user,
            patient_id,
            status=status,
            errors=fields,
            message=error.message,
            values=form,
        )
    return redirect(f"/patients/{patient_id}/consent", flash="The consent is recorded.")


@router.post("/patients/{patient_id}/consent/withdraw")
def withdraw_consent(
    request: Request,
    patient_id: uuid.UUID,
    user: WebUserDep,
    registry: DatabaseDep,
    form: FormDep,
) -> Response:
    """Withdraw the patient's active consent; the patient leaves the pathway as withdrawn."""
    require_action(user, Action.RECORD_CONSENT)
    try:
        data = parse(WithdrawalIn, form)
        with unit_of_work(registry, user.actor) as session:
            patient = patients.get(session, user.actor, patient_id)
            active = consent.active(session, patient)
            if active is None:
                raise refused("withdrawn_on", "the patient has no consent in force to withdraw")
            consent.withdraw(session, user.actor, active.id, data)
    except (ServiceError, FormErrors) as error:
        fields, status = _refusal(error)
        return _page(
            request,
            registry,
            user,
            patient_id,
            status=status,
            withdraw_errors=fields,
            withdraw_message=error.message,
            withdraw_values=form,
        )
    return redirect(f"/patients/{patient_id}/consent", flash="The consent is withdrawn.")
