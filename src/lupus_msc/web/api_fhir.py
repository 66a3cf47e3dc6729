"""``/fhir``: a read-only FHIR R4 (4.3.0, R4B models) view of the registry, issue 8.

* ``GET /fhir/metadata`` — the CapabilityStatement (no token needed: it holds no data).
* ``GET /fhir/{type}/{id}`` — read.
* ``GET /fhir/{type}?patient=…`` — search a patient's resources; Observation also by ``code``
  (``system|code`` or ``code``), ``date`` (``eq``/``ge``/``gt``/``le``/``lt`` + ``YYYY-MM-DD``,
  repeatable) and ``category``; Patient by ``identifier`` and ``_id``. Paged with ``_count``
  and ``_offset``; the Bundle's ``next`` link gives the following page.
* ``GET /fhir/Patient/{id}/$everything`` — every resource of one patient.
* ``GET /fhir/$export`` and ``/fhir/Patient/$export`` — Bulk Data kick-off (jobs of ``web.jobs``);
  unsupported kick-off parameters are refused by name unless ``Prefer: handling=lenient``.
* ``POST /fhir`` — the one write: a Bundle of lab-result Observations, imported all or nothing
  (``interop.fhir_import``); the answer is an OperationOutcome saying what was written.

Same bearer tokens, roles and site scoping as ``/api/v1`` (``interop.fhir_view``); roles
without ``read-identity`` get de-identified resources only. Errors are OperationOutcomes
(``web.errors``). The routes are left out of the OpenAPI document: FHIR describes itself with
its CapabilityStatement.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fhir_core.types import Instant
from pydantic import TypeAdapter, ValidationError

from lupus_msc import __version__
from lupus_msc.interop import fhir_records, fhir_view
from lupus_msc.interop.exports import Exported, ExportRequest, scope_sites
from lupus_msc.interop.fhir_bulk import check_types
from lupus_msc.interop.fhir_import import import_bundle as import_lab_bundle
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import Invalid, NotFound, invalid
from lupus_msc.store.database import Database
from lupus_msc.web.deps import ActorDep, DatabaseDep
from lupus_msc.web.errors import operation_outcome
from lupus_msc.web.fhir_search import page, search_compartment, search_patients
from lupus_msc.web.jobs import Job, State, export_work, jobs, owned_job, private_file

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = frozenset({NDJSON, "application/ndjson", "ndjson"})
KIND = "fhir"
"""The jobs of the Bulk Data export (``web.jobs``): ``/api/v1/exports`` keeps its own."""

router = APIRouter(prefix="/fhir", include_in_schema=False)


class FhirResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


def capability_statement(base: str) -> dict[str, Any]:
    """What this server does: read and search per type, $everything and $export."""

    def rest_resource(kind: str) -> dict[str, Any]:
        params = [{"name": "patient", "type": "reference"}] if kind != "ResearchStudy" else []
        if kind == "Observation":
            params += [
                {"name": "code", "type": "token"},
                {"name": "date", "type": "date"},
                {"name": "category", "type": "token"},
            ]
        if kind == "Patient":
            params = [{"name": "identifier", "type": "token"}, {"name": "_id", "type": "token"}]
        entry: dict[str, Any] = {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": params,
        }
        if kind == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                },
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                },
            ]
        return entry

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": dt.date.today().isoformat(),  # noqa: DTZ011 - the statement's calendar date
        "kind": "instance",
        "software": {"name": "lupus-msc", "version": __version__},
        "implementation": {"description": "lupus-msc registry, FHIR view", "url": base},
        "fhirVersion": "4.3.0",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer token from POST /api/v1/tokens; roles and sites apply."
                },
                "resource": [rest_resource(kind) for kind in fhir_records.TYPES],
                "interaction": [{"code": "batch"}, {"code": "transaction"}],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    }


@router.post("")
async def import_bundle(request: Request, actor: ActorDep, registry: DatabaseDep) -> FhirResponse:
    """Lab results posted as a Bundle (batch, transaction or collection) of Observations."""
    body = (await request.body()).decode("utf-8", errors="replace")
    summary = await run_in_threadpool(import_lab_bundle, registry, actor, body)
    message = (
        f"{summary.results_written} lab results written, {summary.results_skipped} already "
        f"stored, for {len(summary.patients)} patients ({', '.join(summary.patients)})"
    )
    return FhirResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": message}],
        }
    )


@router.get("/metadata")
def metadata(request: Request) -> FhirResponse:
    return FhirResponse(capability_statement(str(request.base_url) + "fhir"))


ExportQuery = Annotated[list[str] | None, Query(alias="_type")]
"""Bulk Data kick-off: ``_type`` is comma-separated and may be repeated; every value counts."""
FormatQuery = Annotated[str | None, Query(alias="_outputFormat")]
SinceQuery = Annotated[str | None, Query(alias="_since")]
KICK_OFF_PARAMETERS = ("_outputFormat", "_since", "_type")
"""The kick-off parameters this server acts on; ``_elements``, ``_typeFilter``,
``includeAssociatedData`` and any other are not supported."""
INSTANT = TypeAdapter(Instant)
"""FHIR R4's ``instant`` (datatypes.html#instant), the type of ``_since``, as fhir.resources
checks it."""
SINCE_IGNORED = (
    "every resource is included: the registry keeps no last-updated time for each resource "
    "(Bulk Data IG, _since: such resources MAY be included irrespective of _since)"
)


def preferences(request: Request) -> dict[str, str]:
    """The request's ``Prefer`` preferences, name (lower case) → value (RFC 7240 §2: several
    headers or comma-separated preferences, ``;`` parameters, a quoted value; the first instance
    of a repeated preference counts)."""
    found: dict[str, str] = {}
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            name, _, value = preference.partition(";")[0].partition("=")
            if name.strip():
                found.setdefault(name.strip().lower(), value.strip().strip('"').lower())
    return found


def _unsupported(request: Request, lenient: bool) -> list[str]:
    """The kick-off's parameters this server does not support, in the order sent. Refused (422,
    one OperationOutcome issue naming each) unless the client prefers ``handling=lenient``, and
    then returned so the 202 can say which were ignored.

    Bulk Data Access IG 2.0.0, "Bulk Data Kick-off Request" (Query Parameters, Response - Error):
    a server unable to support a parameter SHOULD answer an error with an OperationOutcome, and
    MAY process the request instead when ``Prefer: handling=lenient`` is sent. FHIR R4 search,
    "Handling Errors" (``search.html#errors``), defines ``handling=strict|lenient`` and leaves
    the default to the server: ours is strict, because an ignored filter (``_typeFilter``,
    ``_elements``) would hand a client more than it believes it asked for."""
    names = list(dict.fromkeys(n for n in request.query_params if n not in KICK_OFF_PARAMETERS))
    if names and not lenient:
        why = f"not supported by $export here (supported: {', '.join(KICK_OFF_PARAMETERS)})"
        raise Invalid(
            f"{', '.join(names)}: {why}; Prefer: handling=lenient ignores unsupported ones",
            [(name, why) for name in names],
        )
    return names


def _warnings(notes: list[tuple[str, str]]) -> dict[str, Any]:
    """The 202's optional OperationOutcome (Bulk Data "Response - Success"): one warning per
    parameter not applied as the client may think, (parameter, why)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": f"{name}: {why}",
                "expression": [name],
            }
            for name, why in notes
        ],
    }


def _since(since: str | None) -> list[tuple[str, str]]:
    """``_since`` (support required of a server by the Bulk Data IG) is checked as an instant
    and then includes everything, which the 202 says: no registry record carries a
    last-updated time of the resource built from it."""
    if since is None:
        return []
    try:
        INSTANT.validate_python(since)
    except ValidationError:
        raise invalid("_since", "must be a FHIR instant, e.g. 2025-01-01T00:00:00Z") from None
    return [("_since", SINCE_IGNORED)]


@router.get("/$export")
@router.get("/Patient/$export")
def kick_off(
    request: Request,
    actor: ActorDep,
    registry: DatabaseDep,
    output_format: FormatQuery = None,
    types: ExportQuery = None,
    since: SinceQuery = None,
) -> Response:
    """Bulk Data kick-off, system or patient level: the same patients, every one the actor may
    read (an export of all is scoped to the actor's sites); de-identified without
    ``read-identity``. Parameters other than ``KICK_OFF_PARAMETERS`` are refused unless the
    client sends ``Prefer: handling=lenient`` (``_unsupported``)."""
    require(actor, Action.READ_PATIENTS)
    prefer = preferences(request)
    if "respond-async" not in prefer:
        raise invalid("Prefer", "a bulk export needs the header Prefer: respond-async")
    ignored = _unsupported(request, lenient=prefer.get("handling") == "lenient")
    notes = _since(since)
    notes += [(name, "not supported, ignored (Prefer: handling=lenient)") for name in ignored]
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise invalid("_outputFormat", f"only {NDJSON} is written")
    wanted = None if not types else check_types([t for value in types for t in value.split(",")])
    asked = ExportRequest(
        "fhir",
        deidentified=not fhir_view.identified(actor),
        sites=scope_sites(registry, actor, ()),
        types=wanted,
    )

    job = jobs(request).start(
        actor, KIND, asked, export_work(registry, actor, asked), label=str(request.url)
    )
    status_url = f"{request.base_url}fhir/$export-status/{job.id}"
    headers = {"Content-Location": status_url}
    if not notes:
        return Response(status_code=202, headers=headers)
    return FhirResponse(_warnings(notes), status_code=202, headers=headers)


def _job_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"no export {text}") from None


def _job(request: Request, registry: Database, actor: Actor, job_id: str) -> Job:
    return owned_job(request, registry, actor, KIND, _job_id(job_id))


@router.get("/$export-status/{job_id}")
def export_status(
    request: Request, job_id: str, actor: ActorDep, registry: DatabaseDep
) -> Response:
    job = _job(request, registry, actor, job_id)
    state = job.state  # read once: the worker sets the result and error before the state
    if state is State.FAILED:  # Bulk Data: a failed export's status is an error with its outcome
        return operation_outcome(500, f"export {job_id} failed: {job.error}")
    if state is State.CANCELLED:
        raise NotFound(f"export {job_id}: cancelled")
    if state is not State.DONE:
        return Response(status_code=202, headers={"X-Progress": job.progress(), "Retry-After": "1"})
    exported: Exported = job.result
    base = f"{request.base_url}fhir/$export-file/{job.id}"
    manifest = {
        "transactionTime": job.requested.isoformat(),
        "request": job.label,
        "requiresAccessToken": True,
        "output": [
            {"type": path.stem, "url": f"{base}/{path.name}", "count": exported.counts[path.name]}
            for path in exported.paths
        ],
        "error": [],
    }
    return Response(
        json.dumps(manifest), media_type="application/json", headers={"Expires": "never"}
    )


@router.delete("/$export-status/{job_id}")
def cancel_export(request: Request, job_id: str, actor: ActorDep) -> Response:
    jobs(request).delete(actor, KIND, _job_id(job_id))
    return Response(status_code=202)


@router.get("/$export-file/{job_id}/{name}")
def export_file(
    request: Request, job_id: str, name: str, actor: ActorDep, registry: DatabaseDep
) -> FileResponse:
    job = _job(request, registry, actor, job_id)
    return private_file(jobs(request).file(actor, KIND, job.id, name))


@router.get("/Patient/{patient_id}/$everything")
def everything(patient_id: str, actor: ActorDep, registry: DatabaseDep, request: Request) -> Any:
    found = fhir_view.compartment(registry, actor, patient_id).resources
    return FhirResponse(page(request, found, total=len(found), offset=0, count=len(found)))


@router.get("/{kind}/{resource_id}")
def read(kind: str, resource_id: str, actor: ActorDep, registry: DatabaseDep) -> FhirResponse:
    if kind not in fhir_records.TYPES:
        raise NotFound(f"no resource type {kind} on this server")
    return FhirResponse(fhir_view.read(registry, actor, kind, resource_id))


@router.get("/{kind}")
def search(kind: str, request: Request, actor: ActorDep, registry: DatabaseDep) -> FhirResponse:
    if kind not in fhir_records.TYPES:
        raise NotFound(f"no resource type {kind} on this server")
    if kind == "Patient":
        return FhirResponse(search_patients(request, actor, registry))
    return FhirResponse(search_compartment(request, kind, actor, registry))
