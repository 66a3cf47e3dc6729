"""FHIR Bulk Data export: every resource of the actor's patients as NDJSON, one file per type.

The FHIR Bulk Data Access specification (``$export``) asks for newline-delimited JSON, one
resource per line, one or more files per resource type; this writes ``<Type>.ndjson`` files.
Patients are read in batches (``BATCH`` patients at a time, through ``interop.fhir_records``),
so memory depends on the batch, not on the registry: 100,000 patients never sit in memory at
once. Access is ``interop.fhir_view``'s: the actor's sites only, and de-identified resources
for a role without ``read-identity`` (and for ``deidentify=True``: the CLI's ``--deidentify``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import select

from lupus_msc.interop import fhir_records
from lupus_msc.interop.fhir_deidentify import deidentify
from lupus_msc.interop.fhir_view import fhir_keys, identified, research_studies
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import invalid
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient, Site

BATCH = 200
"""Patients read, built and written per batch."""


class Cancelled(Exception):
    """The export was cancelled (``DELETE`` on its status URL) between two batches."""


@dataclass
class BulkResult:
    """What an export wrote: resources per type, and the files."""

    counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    patients: int = 0


def check_types(types: Iterable[str] | None) -> tuple[str, ...]:
    """The ``_type`` list, each a type this server exports (Invalid names the first that is not)."""
    if types is None:
        return fhir_records.TYPES
    wanted = tuple(dict.fromkeys(t.strip() for t in types if t.strip()))
    for kind in wanted:
        if kind not in fhir_records.TYPES:
            raise invalid(
                "_type", f"{kind!r} is not exported (types: {', '.join(fhir_records.TYPES)})"
            )
    return wanted or fhir_records.TYPES


def patients_of(
    database: Database,
    actor: Actor | None,
    site_codes: Sequence[str] | None = None,
    *,
    limit: int | None = None,
) -> list[uuid.UUID]:
    """The ids of the patients the actor may read, by study code, optionally of some sites;
    with ``limit``, only the first ``limit`` of them (the benchmark's growing cohorts)."""
    if actor is not None:
        require(actor, Action.READ_PATIENTS)
    query = select(Patient.id, Patient.site_id).order_by(Patient.study_code)
    if site_codes:
        query = query.join(Site, Site.id == Patient.site_id).where(Site.code.in_(site_codes))
    with database.reads() as session:
        rows = session.execute(query).all()
    readable = [pid for pid, site in rows if actor is None or actor.sees_site(site)]
    return readable if limit is None else readable[:limit]


def export_ndjson(
    database: Database,
    actor: Actor | None,
    out: Path,
    *,
    types: Iterable[str] | None = None,
    site_codes: Sequence[str] | None = None,
    deidentify_all: bool = False,
    batch: int = BATCH,
    on_batch: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    limit: int | None = None,
) -> BulkResult:
    """Write ``<Type>.ndjson`` files in ``out`` (created); ``on_batch(done, total)`` after each
    batch of patients. A type with no resource gets no file (the manifest lists written ones);
    ``limit`` exports only the first ``limit`` patients by study code."""
    wanted = check_types(types)
    patient_ids = patients_of(database, actor, site_codes, limit=limit)
    private = deidentify_all or not identified(actor)
    out.mkdir(parents=True, exist_ok=True)
    result = BulkResult(patients=len(patient_ids))
    with ExitStack() as files:

        def write(kind: str, resource: dict[str, object]) -> None:
            if kind not in result.files:
                path = out / f"{kind}.ndjson"
                handles[kind] = files.enter_context(path.open("w", encoding="utf-8"))
                result.files[kind] = path
                result.counts[kind] = 0
            handles[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
            result.counts[kind] += 1

        handles: dict[str, IO[str]] = {}
        if "ResearchStudy" in wanted:
            for study in research_studies(database, actor):
                write("ResearchStudy", study)
        for start in range(0, len(patient_ids), batch):
            if cancelled is not None and cancelled():
                raise Cancelled
            with database.reads() as session:
                records = fhir_records.read(session, patient_ids[start : start + batch])
            keys = fhir_keys(database, actor, records.patients) if private else None
            for patient_id, resource in fhir_records.resources(records):
                kind = resource.get_resource_type()
                if kind not in wanted:
                    continue
                data = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
                write(kind, data if keys is None else deidentify(data, keys[patient_id]))
            if on_batch is not None:
                on_batch(min(start + batch, len(patient_ids)), len(patient_ids))
    return result
