"""``/api/v1/exports``: the command line's exports — the analysis dataset as CSV or Parquet,
CDISC SDTM or ODM, a REDCap project, FHIR NDJSON — as jobs of the API (issue 8).

``POST`` checks the request and queues the job (``202`` with its ``Location``); ``GET`` on
the job says where it stands and, once done, lists its files, each downloaded (streamed from
disk) from its ``url``; ``DELETE`` cancels it and removes its files. The exports are those of
``interop.exports``: the registry is read a batch of patients at a time, so no export holds
the whole registry in memory. Exports are de-identified unless ``deidentify`` is false, which
needs ``read-identity`` (the statistician receives de-identified exports only); a site-bound
user exports the sites they are a member of. Jobs belong to the user who started them
(``web.jobs``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from lupus_msc.interop.exports import (
    DateForm,
    Exported,
    ExportRequest,
    Format,
    still_allowed,
)
from lupus_msc.services.access import Action, require
from lupus_msc.services.accounts import SiteCode
from lupus_msc.services.fields import In
from lupus_msc.web.deps import ActorDep, DatabaseDep
from lupus_msc.web.jobs import (
    EXPORTS,
    MEDIA_TYPES,
    Job,
    State,
    jobs,
    owned_job,
    private_file,
    queue_export,
)

router = APIRouter(prefix="/api/v1", tags=["exports"])
ResourceType = Annotated[str, Field(min_length=1, max_length=40)]


class ExportIn(In):
    format: Format
    deidentify: bool = Field(
        default=True,
        description="Safe Harbor de-identification (the default); false needs read-identity.",
    )
    dates: DateForm | None = Field(
        default=None,
        description="De-identified dates: shift (each patient's secret offset, the default) or "
        "days (from the first infusion; csv, parquet, sdtm, odm).",
    )
    sites: Annotated[list[SiteCode], Field(max_length=100)] = Field(
        default_factory=list, description="Site codes; none: every site you are a member of."
    )
    as_of: dt.date | None = Field(
        default=None,
        description="Data cut-off: csv and parquet default to today; sdtm and odm to none "
        "(everything recorded); not for redcap and fhir.",
    )
    types: Annotated[list[ResourceType], Field(min_length=1, max_length=20)] | None = Field(
        default=None, description="FHIR resource types (fhir only); default every type."
    )


class ExportFileOut(BaseModel):
    name: str
    bytes: int
    url: str


class ExportOut(BaseModel):
    id: uuid.UUID
    format: Format
    deidentified: bool
    dates: DateForm | None
    sites: list[str]
    """The sites exported; empty: every site (admins)."""
    as_of: dt.date | None
    """The cut-off used; none: everything recorded."""
    types: list[str] | None
    state: State
    progress: str
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    summary: str | None
    """What was written, once done."""
    files: list[ExportFileOut]
    error: str | None


def export_view(job: Job) -> ExportOut:
    state = job.state  # read once: the worker sets files and result before the state
    asked: ExportRequest = job.request
    exported: Exported | None = job.result if state is State.DONE else None
    files = [
        ExportFileOut(
            name=path.name,
            bytes=path.stat().st_size,
            url=f"/api/v1/exports/{job.id}/files/{path.name}",
        )
        for path in (exported.paths if exported else ())
    ]
    return ExportOut(
        id=job.id,
        format=asked.format,
        deidentified=asked.deidentified,
        dates=asked.date_form,
        sites=list(asked.sites),
        as_of=asked.as_of,
        types=None if asked.types is None else list(asked.types),
        state=state,
        progress=job.progress(),
        requested_at=job.requested,
        finished_at=job.finished,
        summary=exported.summary if exported else None,
        files=files,
        error=job.error,
    )


@router.post("/exports", status_code=202, response_model=ExportOut)
def start_export(
    body: ExportIn, actor: ActorDep, registry: DatabaseDep, request: Request, response: Response
) -> ExportOut:
    """Queue an export; poll the ``Location`` it answers with until ``state`` is ``done``."""
    types = None if body.types is None else tuple(body.types)
    asked = ExportRequest(
        body.format,
        deidentified=body.deidentify,
        dates=body.dates,
        sites=tuple(body.sites),
        as_of=body.as_of,
        types=types,
    )
    job = queue_export(request, registry, actor, asked)
    response.headers["Location"] = f"/api/v1/exports/{job.id}"
    return export_view(job)


@router.get("/exports", response_model=list[ExportOut])
def my_exports(actor: ActorDep, registry: DatabaseDep, request: Request) -> list[ExportOut]:
    """Your exports, oldest first (others' are not shown)."""
    require(actor, Action.READ_PATIENTS)
    mine = jobs(request).mine(actor, EXPORTS)
    return [export_view(job) for job in mine if still_allowed(registry, actor, job.request)]


@router.get("/exports/{export_id}", response_model=ExportOut)
def export_status(
    export_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep, request: Request
) -> ExportOut:
    """Where the export stands; its files once ``state`` is ``done``."""
    require(actor, Action.READ_PATIENTS)
    return export_view(owned_job(request, registry, actor, EXPORTS, export_id))


@router.get(
    "/exports/{export_id}/files/{name}",
    response_class=FileResponse,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}}},
)
def export_file(
    export_id: uuid.UUID, name: str, actor: ActorDep, registry: DatabaseDep, request: Request
) -> Any:
    """One file of a finished export, streamed."""
    require(actor, Action.READ_PATIENTS)
    job = owned_job(request, registry, actor, EXPORTS, export_id)
    path = jobs(request).file(actor, EXPORTS, job.id, name)
    return private_file(path)


@router.delete("/exports/{export_id}", status_code=204)
def delete_export(export_id: uuid.UUID, actor: ActorDep, request: Request) -> Response:
    """Cancel the export if it still runs, and remove it and its files."""
    require(actor, Action.READ_PATIENTS)
    jobs(request).delete(actor, EXPORTS, export_id)
    return Response(status_code=204)
