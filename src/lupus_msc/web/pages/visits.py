"""Pages: the follow-up visit form (record, live scores, e-signature) and, included from
``medications``, the patient's medications (DESIGN.md pathway steps 5–6).

Every rule is the services': ``visits.record`` validates and derives the scores (SLEDAI-2K §1,
PGA §3, FACIT-F §13, SDI §8, eGFR §9, prednisone equivalent §11), ``visits.sign`` checks the
re-entered password, and a change after signing needs a reason (the old values stay in the
audit trail).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lupus_msc.services import patients, visit_labs, visit_scores, visits
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.services.visits import SignatureIn
from lupus_msc.store.models import User, Visit
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages import medications, visit_preview
from lupus_msc.web.pages.visit_form import form_context, named, stored_values, visit_input
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
router.include_router(medications.router)

PAGE = "visits/visit.html"
STATUS_BADGE = {
    "done": "ok",
    "due": "warn",
    "overdue": "bad",
    "upcoming": "",
    "out-of-window": "warn",
}


def _stored_scores(session: Session, user: WebUser, visit: Visit) -> tuple[VisitIn | None, Any]:
    """The recorded visit's input and scores, derived again from what is stored."""
    if visit.visit_date is None:
        return None, {}
    data = visit_scores.recorded(visit)
    measured = [
        found
        for found in map(visit_scores.measured_stored, visit_labs.active(session, visit.id))
        if found is not None
    ]
    patient = patients.get(session, user.actor, visit.patient_id)
    return data, visit_scores.derive(session, patient, data, measured)


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    visit_id: uuid.UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    sign_errors: dict[str, str] | None = None,
    sign_message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The visit page: the form with the posted ``form`` (or the stored record), its preview."""
    require_action(user, Action.READ_IDENTITY)
    with registry.reads() as session:
        visit = visits.get(session, user.actor, visit_id)
        out = visits.view(session, visit)
        patient = patients.view(user.actor, patients.get(session, user.actor, visit.patient_id))
        signer = session.get(User, visit.signed_by_id) if visit.signed_by_id else None
        signed_before = visits.was_signed(session, visit)
        preview = _preview(session, user, visit, form)
    context = {
        **form_context(),
        "visit": out,
        "patient": patient,
        "signer": signer.full_name if signer else None,
        "signed_before": signed_before,
        "badge": STATUS_BADGE.get(out.status, ""),
        "values": form if form is not None else stored_values(out),
        "errors": errors or {},
        "message": message,
        "sign_errors": sign_errors or {},
        "sign_message": sign_message,
        "can_edit": user.can(Action.RECORD_VISIT),
        "can_sign": user.can(Action.SIGN_VISIT),
        **preview,
    }
    return render(request, PAGE, context, user=user, status=status)


def _preview(
    session: Session, user: WebUser, visit: Visit, form: dict[str, Any] | None
) -> dict[str, Any]:
    """The preview context of the posted form, or of the stored record; refusals as errors."""
    try:
        if form is None:
            data, scores = _stored_scores(session, user, visit)
        else:
            data, order = visit_input(form, lenient=True)
            try:
                scores = visit_preview.derive(session, user.actor, visit, data)
            except ServiceError as error:
                raise named(error, order) from error
    except FormErrors as error:
        return {**visit_preview.summary(None, {}), "preview_errors": error.fields}
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        return {**visit_preview.summary(None, {}), "preview_errors": dict(error.fields)}
    return {**visit_preview.summary(data, scores), "preview_errors": {}}


@router.get("/visits/{visit_id}", response_class=HTMLResponse)
def visit_page(
    request: Request, visit_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    return _page(request, registry, user, visit_id)


@router.post("/visits/{visit_id}")
def save_visit(
    request: Request,
    visit_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> Response:
    """Save the visit; the "Check" button (no JavaScript) shows the scores without saving."""
    require_action(user, Action.RECORD_VISIT)
    if form.get("action") == "check":
        return _page(request, registry, user, visit_id, form=form)
    order: list[str] = []
    try:
        data, order = visit_input(form)
        with unit_of_work(registry, user.actor) as session:
            visit = visits.record(session, user.actor, visit_id, data)
            total = (visit.scores.get("sledai2k") or {}).get("total")
    except FormErrors as error:
        return _page(
            request,
            registry,
            user,
            visit_id,
            form=form,
            errors=error.fields,
            message=error.message,
            status=422,
        )
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        refused = named(error, order)
        return _page(
            request,
            registry,
            user,
            visit_id,
            form=form,
            errors=refused.fields,
            message=error.message,
            status=error.status,
        )
    flash = "Visit saved." + (f" SLEDAI-2K {total}." if total is not None else "")
    return redirect(f"/visits/{visit_id}", flash=flash)


@router.post("/visits/{visit_id}/preview", response_class=HTMLResponse)
def preview_visit(
    request: Request,
    visit_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> HTMLResponse:
    """The live scores of the form as typed (a fragment for ``data-preview``)."""
    require_action(user, Action.RECORD_VISIT)
    with registry.reads() as session:
        visit = visits.get(session, user.actor, visit_id)
        context = _preview(session, user, visit, form)
    return render(request, "visits/preview.html", context, user=user)


@router.post("/visits/{visit_id}/sign")
def sign_visit(
    request: Request,
    visit_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    form: FormDep,
) -> Response:
    """The investigator's electronic signature (re-entered password)."""
    require_action(user, Action.SIGN_VISIT)
    try:
        data = parse(SignatureIn, form)
        with unit_of_work(registry, user.actor) as session:
            visits.sign(session, user.actor, visit_id, data)
    except FormErrors as error:
        return _page(
            request,
            registry,
            user,
            visit_id,
            sign_errors=error.fields,
            sign_message=error.message,
            status=422,
        )
    except ServiceError as error:
        if error.status in (403, 404):
            raise
        return _page(
            request,
            registry,
            user,
            visit_id,
            sign_errors=dict(error.fields),
            sign_message=error.message,
            status=error.status,
        )
    return redirect(f"/visits/{visit_id}", flash="Visit signed.")
