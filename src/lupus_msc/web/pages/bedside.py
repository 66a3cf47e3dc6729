"""The infusion page and its step 1: the two-person bedside identity check (DESIGN.md pathway
step 4). A mismatch is committed by the service (it stays on file) and stops the flow here with a
red message; a match leads to the dose and the infusion record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from lupus_msc.services import infusions
from lupus_msc.services.access import Action
from lupus_msc.services.errors import Forbidden, NotFound, ServiceError, Unauthenticated
from lupus_msc.services.infusions import BedsideCheckIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages.infusion_page import Mismatch, check_ids, new_page
from lupus_msc.web.session import FormDep, WebUserDep, require_action
from lupus_msc.web.templating import redirect

router = APIRouter(include_in_schema=False)
PASSES_THROUGH = (Forbidden, NotFound, Unauthenticated)
"""Refusals that become the error page (403, 404, sign-in) rather than a message on the form."""
SCANNED = ("scanned_patient_code", "scanned_lot_code", "second_checker_email")


@router.get("/patients/{patient_id}/infusions/new", response_class=HTMLResponse)
def infusion_page(
    request: Request,
    patient_id: uuid.UUID,
    registry: DatabaseDep,
    user: WebUserDep,
    check: Annotated[list[str] | None, Query(max_length=4)] = None,
) -> HTMLResponse:
    """Gates, lots and the bedside steps; ``check`` names the matched bedside check(s)."""
    require_action(user, Action.READ_PATIENTS)
    return new_page(request, registry, user, patient_id, ids=check_ids(check or []))


@router.post("/patients/{patient_id}/infusions/check")
def bedside_check(
    request: Request, patient_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    """Record the identity check; a mismatch is kept on file and answered with 409 and STOP."""
    require_action(user, Action.CHECK_AT_BEDSIDE)
    values = {key: form.get(key, "") for key in SCANNED}
    try:
        data = parse(BedsideCheckIn, form)
        with unit_of_work(registry, user.actor) as session:
            check = infusions.check_at_bedside(session, user.actor, patient_id, data)
            check_id, matched, problem = check.id, check.matched, check.problem
    except FormErrors as error:
        return new_page(
            request, registry, user, patient_id, ids=[], values=values,
            errors=error.fields, message=error.message, status=422,
        )  # fmt: skip
    except PASSES_THROUGH:
        raise
    except ServiceError as error:
        return new_page(
            request, registry, user, patient_id, ids=[], values=values,
            errors=dict(error.fields), message=error.message, status=error.status,
        )  # fmt: skip
    if not matched:
        stop = Mismatch(data.scanned_patient_code, data.scanned_lot_code, problem or "mismatch")
        return new_page(request, registry, user, patient_id, ids=[], mismatch=stop, status=409)
    return redirect(
        f"/patients/{patient_id}/infusions/new?check={check_id}",
        flash="Identity confirmed by two people: patient and lot match.",
    )
