"""The Exports page: ask for an export of the registry in one of the formats of
``lupus-msc export``, follow it while it runs, download its files, delete it. The jobs are those
of ``/api/v1/exports`` (``web.jobs``): the same checks, the same files, each user's own.

Users who may not read identity (the statistician, the lab) can only ask for de-identified
exports: the form shows the box ticked and locked, and the server forces it whatever is sent.
The page reloads itself every few seconds while one of the user's exports is queued or running.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from lupus_msc.interop.exports import DAY_NUMBERS, ExportRequest, still_allowed
from lupus_msc.services import accounts
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError
from lupus_msc.web.api_exports import ExportIn, export_view
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, Refusal, parse
from lupus_msc.web.jobs import EXPORTS, jobs, owned_job, private_file, queue_export
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
FORMATS = (
    ("csv", "Analysis dataset — CSV"),
    ("parquet", "Analysis dataset — Parquet"),
    ("sdtm", "CDISC SDTM — Dataset-JSON, CSV and define.json"),
    ("odm", "CDISC ODM 1.3.2 — XML"),
    ("redcap", "REDCap project — dictionary and records"),
    ("fhir", "FHIR R4 — NDJSON"),
)
REFRESH_SECONDS = 3


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    *,
    values: dict[str, Any] | None = None,
    refusal: Refusal | None = None,
) -> HTMLResponse:
    actor = user.actor
    with registry.reads() as session:
        sites = accounts.sites(session, actor)
    mine = [
        job
        for job in jobs(request).mine(actor, EXPORTS)
        if still_allowed(registry, actor, job.request)
    ]
    shown = [export_view(job) for job in reversed(mine)]  # newest first
    context = {
        "formats": FORMATS,
        "day_numbers": ", ".join(DAY_NUMBERS),
        "sites": sites,
        "chosen": set(_listed(values or {}, "sites")),
        "identity": user.can(Action.READ_IDENTITY),
        "exports": shown,
        "refresh": REFRESH_SECONDS if any(e.state in ("queued", "running") for e in shown) else 0,
        "values": values or {"format": "csv", "deidentify": True},
        "errors": refusal.errors if refusal else {},
        "message": refusal.message if refusal else None,
    }
    status = refusal.status if refusal else 200
    return render(request, "exports/index.html", context, user=user, status=status)


def _listed(values: dict[str, Any], name: str) -> list[str]:
    picked = values.get(name, [])
    return picked if isinstance(picked, list) else [picked]


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    require_action(user, Action.READ_PATIENTS)
    return _page(request, registry, user)


@router.post("/exports")
def ask_for_export(
    request: Request, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.READ_PATIENTS)
    values = dict(form)
    if not user.can(Action.READ_IDENTITY):
        values["deidentify"] = "on"  # the only form this role receives
    values["sites"] = _listed(values, "sites")
    try:
        asked = parse(ExportIn, values)
        job = queue_export(
            request,
            registry,
            user.actor,
            ExportRequest(
                asked.format,
                deidentified=asked.deidentify,
                dates=asked.dates,
                sites=tuple(asked.sites),
                as_of=asked.as_of,
            ),
        )
    except (FormErrors, ServiceError) as error:
        return _page(request, registry, user, values=values, refusal=Refusal.of(error))
    return redirect("/exports", flash=f"Export {str(job.id)[:8]} queued.")


@router.get("/exports/{export_id}/files/{name}")
def download(
    request: Request, export_id: uuid.UUID, name: str, registry: DatabaseDep, user: WebUserDep
) -> FileResponse:
    require_action(user, Action.READ_PATIENTS)
    job = owned_job(request, registry, user.actor, EXPORTS, export_id)
    return private_file(jobs(request).file(user.actor, EXPORTS, job.id, name))


@router.post("/exports/{export_id}/delete")
def delete_export(
    request: Request, export_id: uuid.UUID, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.READ_PATIENTS)
    jobs(request).delete(user.actor, EXPORTS, export_id)
    return redirect("/exports", flash=f"Export {str(export_id)[:8]} deleted.")
