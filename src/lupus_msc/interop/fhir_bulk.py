"""FHIR Bulk Data export: every resource of the actor's patients as NDJSON, one file per type.

The FHIR Bulk Data Access specification (``$export``) asks for newline-delimited JSON, one
resource per line, one or more files per resource type; this writes ``<Type>.ndjson`` files.
Patients are read in batches (``BATCH`` patients at a time, through ``interop.fhir_records``),
so memory depends on the batch, not on the registry: 100,000 patients never sit in memory at
once. Access is ``interop.fhir_view``'s: the actor's sites only, and de-identified resources
for a role without ``read-identity`` (and for ``deidentify=True``: the CLI's ``--deidentify``).

Speed (docs/performance.md, FHIR section): each resource is validated by its R4B model from its
``fhir_common.Draft`` and written from the Draft's JSON form (no ``model_dump``); batches are
built by up to ``WORKERS`` worker processes (each with its own connection to the registry), at
most ``workers + 1`` batches in flight so memory stays flat, and written in patient order. The
de-identification keys are made in this process, before a batch is handed out, so every key is
created (and audited) for the actor as before and the workers only read.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import threading
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.engine import make_url

from lupus_msc.interop import fhir_records
from lupus_msc.interop.fhir_deidentify import FhirKey, Memo, deidentify
from lupus_msc.interop.fhir_view import fhir_keys, identified, research_studies
from lupus_msc.interop.progress import Cancelled
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import invalid
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient, Site

BATCH = 200
"""Patients read, built and written per batch."""
WORKERS = 2
"""Worker processes at most (the machines this runs on have two cores)."""


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
    if actor is None and limit is not None:  # every patient is readable: the first N are
        query = query.limit(limit)
    with database.reads() as session:
        rows = session.execute(query).all()
    readable = [pid for pid, site in rows if actor is None or actor.sees_site(site)]
    return readable if limit is None else readable[:limit]


Lines = dict[str, str]
"""Resource type → the batch's NDJSON lines of that type (one string, each line ending in \\n)."""
Keys = dict[uuid.UUID, FhirKey] | None


def batch_lines(
    database: Database, patient_ids: Sequence[uuid.UUID], wanted: Iterable[str], keys: Keys
) -> Lines:
    """The NDJSON lines of the patients' resources of the ``wanted`` types, each resource
    validated by its R4B model and de-identified with its patient's key (``keys``) if given.

    The cyclic garbage collector is paused while the batch is built and run once after it: a
    batch allocates millions of short-lived objects next to the batch's ORM records, and the
    collections that triggered (each walking every live object) took more than half of the
    export's time; the records and resources are freed by reference counting anyway.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _batch_lines(database, patient_ids, wanted, keys)
    finally:
        if paused:
            gc.enable()
        gc.collect()


def _batch_lines(
    database: Database, patient_ids: Sequence[uuid.UUID], wanted: Iterable[str], keys: Keys
) -> Lines:
    kinds = frozenset(wanted)
    with database.reads() as session:
        records = fhir_records.read(session, patient_ids)
    lines: dict[str, list[str]] = {}
    memo: Memo = {}
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for patient_id, draft in fhir_records.drafts(records):
        kind = draft.kind
        if kind not in kinds:
            continue
        data = draft.document()
        if keys is not None:
            data = deidentify(data, keys[patient_id], memo)
        lines.setdefault(kind, []).append(dumps(data))
    return {kind: "\n".join(found) + "\n" for kind, found in lines.items()}


_worker_database: Database | None = None


def _open(url: str) -> None:
    global _worker_database
    _worker_database = Database(url)


def _work(patient_ids: list[uuid.UUID], wanted: tuple[str, ...], keys: Keys) -> Lines:
    if _worker_database is None:
        raise RuntimeError("the export worker has no registry connection")
    try:
        return batch_lines(_worker_database, patient_ids, wanted, keys)
    except Exception as error:  # as text: not every library error survives pickling
        raise RuntimeError(f"building a batch failed: {type(error).__name__}: {error}") from None


def _shared(url: str) -> bool:
    """Whether another process can open the same registry (not an in-memory SQLite one)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return True
    name = parsed.database or ""
    return name not in ("", ":memory:") and "mode=memory" not in url


def _keys(database: Database, actor: Actor | None, patient_ids: Sequence[uuid.UUID]) -> Keys:
    with database.reads() as session:
        patients = fhir_records.patients(session, patient_ids)
    return fhir_keys(database, actor, patients)


def _batches(
    database: Database,
    actor: Actor | None,
    batches: list[list[uuid.UUID]],
    wanted: tuple[str, ...],
    private: bool,
    workers: int,
    cancelled: Callable[[], bool] | None,
) -> Generator[Lines, None, None]:
    """Each batch's lines, in order: built here, or by ``workers`` processes."""

    def check() -> None:
        if cancelled is not None and cancelled():
            raise Cancelled

    if workers <= 1 or len(batches) <= 1 or not _shared(database.url):
        for ids in batches:
            check()
            keys = _keys(database, actor, ids) if private else None
            yield batch_lines(database, ids, wanted, keys)
        return
    # fork is quick and needs no importable __main__, but forking a process that runs threads
    # (the web server's export jobs) can deadlock a worker: there, spawn
    method = "fork" if threading.active_count() == 1 else "spawn"
    if method == "fork":  # the workers' collections then skip what they inherited
        gc.freeze()
    context = multiprocessing.get_context(method)
    pool = ProcessPoolExecutor(workers, context, initializer=_open, initargs=(database.url,))
    pending: deque[Future[Lines]] = deque()
    try:
        for ids in batches:
            check()
            keys = _keys(database, actor, ids) if private else None
            pending.append(pool.submit(_work, ids, wanted, keys))
            if len(pending) > workers:
                yield pending.popleft().result()
                check()
        while pending:
            yield pending.popleft().result()
            check()
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)
        gc.unfreeze()


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
    workers: int | None = None,
) -> BulkResult:
    """Write ``<Type>.ndjson`` files in ``out`` (created); ``on_batch(done, total)`` after each
    batch of patients is written. A type with no resource gets no file (the manifest lists
    written ones); ``limit`` exports only the first ``limit`` patients by study code;
    ``workers`` processes build the batches (default: ``WORKERS``, at most the CPU count; 1
    builds them in this process, as does a registry other processes cannot open)."""
    wanted = check_types(types)
    patient_ids = patients_of(database, actor, site_codes, limit=limit)
    private = deidentify_all or not identified(actor)
    count = min(WORKERS, os.cpu_count() or 1) if workers is None else workers
    out.mkdir(parents=True, exist_ok=True)
    result = BulkResult(patients=len(patient_ids))
    with ExitStack() as files:
        handles: dict[str, IO[str]] = {}

        def write(kind: str, text: str, lines: int) -> None:
            if kind not in result.files:
                path = out / f"{kind}.ndjson"
                handles[kind] = files.enter_context(path.open("w", encoding="utf-8"))
                result.files[kind] = path
                result.counts[kind] = 0
            handles[kind].write(text)
            result.counts[kind] += lines

        if "ResearchStudy" in wanted:
            for study in research_studies(database, actor):
                write("ResearchStudy", json.dumps(study, separators=(",", ":")) + "\n", 1)
        batches = [patient_ids[i : i + batch] for i in range(0, len(patient_ids), batch)]
        # closed on any way out, so the worker processes end with the export
        built = files.enter_context(
            closing(_batches(database, actor, batches, wanted, private, count, cancelled))
        )
        done = 0
        for ids, lines in zip(batches, built, strict=True):
            for kind in fhir_records.PATIENT_TYPES:  # the same file order as one process
                if kind in lines:
                    write(kind, lines[kind], lines[kind].count("\n"))
            done += len(ids)
            if on_batch is not None:
                on_batch(done, len(patient_ids))
    return result
