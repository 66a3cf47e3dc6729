"""Admin pages: protocol versions, view-only (the YAML verbatim and a readable summary).

Protocol versions are loaded with ``lupus-msc init`` or ``POST /api/v1/protocols``; once loaded
they never change, so these pages only read.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from lupus_msc.protocol import Protocol
from lupus_msc.services import protocols
from lupus_msc.services.access import Action
from lupus_msc.store.models import Patient
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.session import WebUserDep, require_action
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)


def _amount(value: Decimal | bool | str) -> str:
    """A number with thin-space thousands (1 000 000), true/false and text as they are."""
    if isinstance(value, bool) or not isinstance(value, Decimal):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if value == value.to_integral_value():
        return f"{int(value):,}".replace(",", "\u202f")
    return format(value.normalize(), "f")


def summary(protocol: Protocol) -> dict[str, Any]:
    """The parts of a protocol as rows for the page (no rule is re-evaluated here)."""
    dosing = protocol.dosing
    return {
        "rules": [
            {
                "id": rule.id,
                "description": rule.description,
                "condition": f"{rule.condition.field} {rule.condition.op} "
                f"{_amount(rule.condition.value)}",
            }
            for rule in protocol.eligibility
        ],
        "dosing": [
            ("Route", dosing.route),
            ("Dose", f"{_amount(dosing.dose_per_kg)} cells/kg"),
            (
                "Allowed range",
                f"{_amount(dosing.dose_min_per_kg)} – {_amount(dosing.dose_max_per_kg)} cells/kg",
            ),
            ("Infusions", str(dosing.infusions)),
            ("Infusion days", ", ".join(str(day) for day in dosing.infusion_days())),
            ("Thaw to infusion", f"at most {dosing.thaw_to_infusion_max_minutes} minutes"),
        ],
        "visits": protocol.visits,
        "release": [
            ("Viability", f"≥ {_amount(protocol.release_spec.viability_min_pct)} %"),
            (
                "Positive markers (CD105, CD73, CD90)",
                f"≥ {_amount(protocol.release_spec.positive_marker_min_pct)} %",
            ),
            (
                "Negative markers (CD45, CD34, CD14/CD11b, CD79a/CD19, HLA-DR)",
                f"≤ {_amount(protocol.release_spec.negative_marker_max_pct)} %",
            ),
            ("Endotoxin", f"≤ {_amount(protocol.release_spec.endotoxin_max_eu_per_kg)} EU/kg"),
            ("Sterility and mycoplasma", "negative (not configurable)"),
        ],
    }


@router.get("/admin/protocols", response_class=HTMLResponse)
def protocols_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    require_action(user, Action.MANAGE_PROTOCOLS)
    with registry.reads() as session:
        versions = protocols.listing(session)
        query = select(Patient.protocol_version_id, func.count()).group_by(
            Patient.protocol_version_id
        )
        used = {version_id: count for version_id, count in session.execute(query)}
    rows = [{"version": version, "patients": used.get(version.id, 0)} for version in versions]
    return render(request, "admin/protocols.html", {"rows": rows}, user=user)


@router.get("/admin/protocols/{version_id}", response_class=HTMLResponse)
def protocol_page(
    request: Request, registry: DatabaseDep, user: WebUserDep, version_id: uuid.UUID
) -> HTMLResponse:
    require_action(user, Action.MANAGE_PROTOCOLS)
    with registry.reads() as session:
        version = protocols.get(session, version_id)
        context = {"version": version, "summary": summary(protocols.definition(version))}
        return render(request, "admin/protocol.html", context, user=user)
