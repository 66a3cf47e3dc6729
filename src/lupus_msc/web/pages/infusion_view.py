"""A recorded infusion: patient, lot(s), both checkers, dose, vitals, and its reactions with a
link to record one as an adverse event (DESIGN.md pathway step 4)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lupus_msc.services import infusion_detail
from lupus_msc.services.access import Action
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.pages.infusion_page import cells_text
from lupus_msc.web.session import WebUserDep, require_action
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)

VITALS = (
    ("systolic_mmhg", "Systolic", "mmHg"),
    ("diastolic_mmhg", "Diastolic", "mmHg"),
    ("heart_rate_bpm", "Heart rate", "/min"),
    ("temperature_c", "Temperature", "°C"),
    ("spo2_pct", "SpO₂", "%"),
    ("respiratory_rate", "Respiratory rate", "/min"),
)


@router.get("/infusions/{infusion_id}", response_class=HTMLResponse)
def infusion(
    request: Request, infusion_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    require_action(user, Action.READ_PATIENTS)
    with registry.reads() as session:
        shown = infusion_detail.detail(session, user.actor, infusion_id)
    context = {"detail": shown, "item": shown.infusion, "vitals": VITALS, "cells": cells_text}
    return render(request, "infusions/view.html", context, user=user)
