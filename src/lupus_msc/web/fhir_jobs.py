"""Bulk ``$export`` jobs of the FHIR API: kicked off, run in a background thread, polled.

As the FHIR Bulk Data Access specification describes: the kick-off answers ``202 Accepted``
with the status URL in ``Content-Location``; the status URL answers ``202`` with
``X-Progress`` while the export runs, then ``200`` with the manifest; ``DELETE`` on it cancels
the export and removes its files. A job and its files belong to the user who started it: any
other user is told it does not exist. Jobs live in the server process (a restart forgets them
and their files); one job per user runs at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lupus_msc.interop.fhir_bulk import BulkResult, Cancelled, export_ndjson
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import NotFound, Refused
from lupus_msc.store.database import Database

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One export: who asked, what for, and where it stands."""

    id: str
    owner: uuid.UUID
    request: str
    types: tuple[str, ...] | None
    directory: Path
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    done: int = 0
    total: int = 0
    result: BulkResult | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return self.result is None and self.error is None

    def progress(self) -> str:
        return f"{self.done} of {self.total} patients"


class BulkJobs:
    """The server's export jobs, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self, database: Database, actor: Actor, request: str, types: tuple[str, ...] | None
    ) -> Job:
        with self._lock:
            if any(j.owner == actor.user_id and j.running for j in self._jobs.values()):
                raise Refused("an export of yours is still running: wait for it or delete it")
            job = Job(
                id=uuid.uuid4().hex,
                owner=actor.user_id,
                request=request,
                types=types,
                directory=Path(tempfile.mkdtemp(prefix="lupus-msc-export-")),
            )
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, database, actor), daemon=True).start()
        return job

    def _run(self, job: Job, database: Database, actor: Actor) -> None:
        def advance(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            job.result = export_ndjson(
                database,
                actor,
                job.directory,
                types=job.types,
                on_batch=advance,
                cancelled=job.cancel.is_set,
            )
        except Cancelled:
            job.error = "cancelled"
        except Exception as error:  # reported to the client in the status, logged in full here
            log.exception("bulk export %s failed", job.id)
            job.error = f"the export failed: {type(error).__name__}"

    def get(self, actor: Actor, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None or job.owner != actor.user_id:
            raise NotFound(f"no export {job_id}")
        return job

    def delete(self, actor: Actor, job_id: str) -> None:
        job = self.get(actor, job_id)
        job.cancel.set()
        with self._lock:
            del self._jobs[job_id]
        shutil.rmtree(job.directory, ignore_errors=True)

    def file(self, actor: Actor, job_id: str, name: str) -> Path:
        job = self.get(actor, job_id)
        if job.result is None:
            raise NotFound(f"no file {name} in export {job_id}")
        for path in job.result.files.values():
            if path.name == name:
                return path
        raise NotFound(f"no file {name} in export {job_id}")

    def close(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel.set()
            shutil.rmtree(job.directory, ignore_errors=True)
        self._jobs.clear()
