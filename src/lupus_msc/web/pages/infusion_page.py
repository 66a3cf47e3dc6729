"""The infusion page's context: the plan (gates, lots, checks), the matched bedside checks, the
dose for the weight typed so far, and the form's values and errors (DESIGN.md pathway step 4).

The numbers come from the services (``services.infusion_plan`` over the ``msc-dose`` instrument,
§14, §16.15); nothing clinical is computed here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from lupus_msc.services import infusion_plan
from lupus_msc.services.fields import In, now
from lupus_msc.services.infusion_plan import CheckRecord, DosePlan, Plan
from lupus_msc.services.infusions import Cells, WeightKg
from lupus_msc.store.database import Database
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.session import WebUser
from lupus_msc.web.templating import render

NAIVE_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
"""What an ``<input type="datetime-local">`` sends: no time zone (the page means UTC)."""


class DoseFields(In):
    """The two numbers the dose preview needs."""

    weight_kg: WeightKg
    actual_cells: Cells | None = None


@dataclass(frozen=True)
class Mismatch:
    """A refused bedside check, with what was scanned and what was expected."""

    scanned_patient_code: str
    scanned_lot_code: str
    problem: str


def cells_text(value: Decimal | int | float | None) -> str:
    """A cell count for reading at the bedside: ``60 × 10⁶`` (display only)."""
    if value is None:
        return "—"
    millions = Decimal(value) / Decimal(1_000_000)
    shown = f"{millions:,.2f}".rstrip("0").rstrip(".")
    return f"{shown} × 10⁶"


def as_utc(value: Any) -> str:
    """A datetime-local value read as UTC (the app shows every time in UTC)."""
    text = str(value or "").strip()
    return f"{text}+00:00" if NAIVE_LOCAL.match(text) else text


def check_ids(raw: Any) -> list[uuid.UUID]:
    """The bedside check ids of a form or query (bad ones are dropped: they match nothing)."""
    items = raw if isinstance(raw, list) else [raw]
    found = []
    for item in items:
        try:
            found.append(uuid.UUID(str(item)))
        except ValueError:
            continue
    return found


def dose_of(
    plan: Plan, checks: list[CheckRecord], values: dict[str, Any]
) -> tuple[DosePlan | None, dict[str, str]]:
    """The dose for the weight (and cells) typed so far, or the fields' errors."""
    if not values.get("weight_kg"):
        return None, {}
    lot = plan.dose_lot(checks)
    if lot is None:
        return None, {"weight_kg": "no lot allocated to this patient to compute a volume from"}
    wanted = {key: values.get(key, "") for key in ("weight_kg", "actual_cells")}
    try:
        fields = parse(DoseFields, wanted)
    except FormErrors as error:
        return None, error.fields
    planned = infusion_plan.dose_plan(
        plan.dosing, lot, weight_kg=fields.weight_kg, actual_cells=fields.actual_cells
    )
    return planned, {}


def load_plan(registry: Database, user: WebUser, patient_id: uuid.UUID) -> Plan:
    with registry.reads() as session:
        return infusion_plan.plan(session, user.actor, patient_id, at=now())


def new_page(
    request: Request,
    registry: Database,
    user: WebUser,
    patient_id: uuid.UUID,
    *,
    ids: list[uuid.UUID],
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    mismatch: Mismatch | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The infusion page: gates and lots, then step 1 (identity check), and once a check has
    matched, steps 2 and 3 (dose and infusion record)."""
    plan = load_plan(registry, user, patient_id)
    checks = [] if mismatch else plan.matched_checks(ids)
    given = values or {}
    dose, dose_errors = dose_of(plan, checks, given)
    context = {
        "plan": plan,
        "patient": plan.patient,
        "checks": checks,
        "dose": dose,
        "dose_errors": dose_errors,
        "values": given,
        "errors": {**dose_errors, **(errors or {})},
        "message": message,
        "mismatch": mismatch,
        "cells": cells_text,
        "now": now(),
    }
    return render(request, "infusions/new.html", context, user=user, status=status)
