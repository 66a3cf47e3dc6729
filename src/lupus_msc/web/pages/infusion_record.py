"""Steps 2 and 3 of the infusion page: the dose (with a live preview) and the infusion record
(premedication, vitals, times, route); the administering staff member is the signed-in user.

The infusion service checks every gate again and refuses a dose outside the protocol's range
without a documented deviation (§14, §16.15); its message is shown next to the field.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from lupus_msc.services import infusions
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.fields import now
from lupus_msc.services.infusions import InfusionIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages.bedside import PASSES_THROUGH
from lupus_msc.web.pages.infusion_page import (
    as_utc,
    cells_text,
    check_ids,
    dose_of,
    load_plan,
    new_page,
)
from lupus_msc.web.session import FormDep, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)


def infusion_input(form: dict[str, Any]) -> dict[str, Any]:
    """The form as ``InfusionIn`` reads it: one premedication per line, times in UTC, an empty
    start meaning now."""
    values = dict(form)
    lines = str(form.get("premedication") or "").splitlines()
    values["premedication"] = [line.strip() for line in lines if line.strip()]
    values["started_at"] = as_utc(form.get("started_at")) or now().isoformat()
    values["ended_at"] = as_utc(form.get("ended_at"))
    return values


@router.post("/patients/{patient_id}/infusions")
def record_infusion(
    request: Request, patient_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    """Record the infusion once every gate holds; then show it."""
    require_action(user, Action.RECORD_INFUSION)
    ids = check_ids(form.get("bedside_check_ids", []))
    try:
        data = parse(InfusionIn, infusion_input(form))
        with unit_of_work(registry, user.actor) as session:
            infusion = infusions.record(session, user.actor, patient_id, data)
            infusion_id, number = infusion.id, infusion.number
    except FormErrors as error:
        return new_page(
            request, registry, user, patient_id, ids=ids, values=form,
            errors=error.fields, message=error.message, status=422,
        )  # fmt: skip
    except PASSES_THROUGH:
        raise
    except ServiceError as error:
        return new_page(
            request, registry, user, patient_id, ids=ids, values=form,
            errors=dict(error.fields), message=error.message, status=error.status,
        )  # fmt: skip
    return redirect(f"/infusions/{infusion_id}", flash=f"Infusion {number} is recorded.")


@router.post("/patients/{patient_id}/infusions/preview", response_class=HTMLResponse)
def dose_preview(
    request: Request, patient_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> HTMLResponse:
    """The dose for the weight typed so far: a fragment for the live preview, or the whole
    page when the browser navigated here (the no-JavaScript "Calculate" button)."""
    require_action(user, Action.RECORD_INFUSION)
    ids = check_ids(form.get("bedside_check_ids", []))
    if request.headers.get("sec-fetch-mode") == "navigate":
        return new_page(request, registry, user, patient_id, ids=ids, values=form)
    plan = load_plan(registry, user, patient_id)
    dose, errors = dose_of(plan, plan.matched_checks(ids), form)
    context = {"dose": dose, "dose_errors": errors, "plan": plan, "cells": cells_text}
    return render(request, "infusions/_dose.html", context, user=user)
