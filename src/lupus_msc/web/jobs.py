"""Export jobs of the web app: asked for by a request, run in the background, polled, their
files downloaded, deleted (the FHIR ``$export`` and ``/api/v1/exports``).

A job and its files belong to the user who started it: any other user is told it does not exist.
Jobs run one at a time, in order, in a worker thread of the server process (an export keeps a
core busy; the reference machine has two, and one stays free to answer requests), and each user
may have ``PER_USER`` jobs queued, running or still stopping. Deleting a job cancels it: a
queued job never starts, a running one stops at its next step and its folder goes when it has
stopped. A finished job and its files are kept ``KEPT`` and then removed. Jobs live in the
server process: a restart forgets them (and ``close`` removes their files), and a server run with
several worker processes must send the polls of a job to the process that started it.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse

from lupus_msc.interop.exports import (
    ExportRequest,
    authorize,
    check,
    preflight,
    run,
    scope_sites,
    still_allowed,
)
from lupus_msc.interop.progress import Advance, Cancelled
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import NotFound, Refused, ServiceError
from lupus_msc.services.fields import today
from lupus_msc.store.database import Database

log = logging.getLogger(__name__)

PER_USER = 3
"""[PROJECT] Jobs one user may have queued, running or stopping."""
KEPT = dt.timedelta(hours=24)
"""[PROJECT] How long a finished job and its files are kept for their owner to download."""
STOPPING = 30
"""[PROJECT] Seconds ``close`` waits for the running job to stop at its next step."""
WEB_BATCH = 2000
"""[PROJECT] Patients per batch of a CSV or Parquet job: the server process holds one batch
(the command line's 10,000 take about 0.9 GiB; docs/performance.md)."""
EXPORTS = "export"
"""The kind of the jobs of ``/api/v1/exports`` and the Exports page (FHIR's are ``fhir``)."""


class State(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Job:
    """One export: who asked, what for, and where it stands. The worker sets everything else
    before ``state``, so a reader who sees a final state sees its files, result and error."""

    id: uuid.UUID
    kind: str
    """Which API started it (``fhir`` or ``export``): each sees only its own jobs."""
    owner: uuid.UUID
    request: ExportRequest
    directory: Path
    label: str = ""
    """The request as its API states it (FHIR: the kick-off URL)."""
    requested: dt.datetime = field(default_factory=_now)
    finished: dt.datetime | None = None
    state: State = State.QUEUED
    step: str = "starting"
    done: int = 0
    total: int = 0
    files: list[Path] = field(default_factory=list)
    result: Any = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def pending(self) -> bool:
        return self.state in (State.QUEUED, State.RUNNING)

    def progress(self) -> str:
        if self.state is State.QUEUED:
            return "queued"
        if self.total == 0:
            return "starting"
        return f"step {min(self.done + 1, self.total)} of {self.total}: {self.step}"

    def display(self, steps: tuple[str, ...]) -> tuple[Advance, Callable[[], None]]:
        """A ``progress.Progress`` that records the step, and stops the export once the job
        is cancelled."""
        self.total, self.done, self.step = len(steps), 0, steps[0]

        def advance(step: str) -> None:
            if self.cancel.is_set():
                raise Cancelled
            self.done, self.step = self.done + 1, step

        return advance, lambda: None


Work = Callable[[Job], tuple[list[Path], Any]]
"""Writes the job's files into ``job.directory``; returns them and a result for the API."""


def export_work(database: Database, actor: Actor, request: ExportRequest) -> Work:
    """The work of an ``interop.exports`` export (its result: the ``Exported``)."""

    def work(job: Job) -> tuple[list[Path], Any]:
        exported = run(
            database,
            request,
            job.directory,
            actor=actor,
            progress=job.display,
            cancelled=job.cancel.is_set,
            processes=1,  # the server's other core stays free to answer requests
        )
        return exported.paths, exported

    return work


class Jobs:
    """The server's export jobs, by id, and the worker thread that runs them."""

    def __init__(self) -> None:
        self._jobs: dict[uuid.UUID, Job] = {}
        self._stopping: dict[uuid.UUID, Job] = {}
        """Deleted while running: gone for their owner, still counted until they stop."""
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Job, Work] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        """Started with the first job (an app that never exports keeps no idle thread)."""

    def start(
        self, actor: Actor, kind: str, request: ExportRequest, work: Work, label: str = ""
    ) -> Job:
        """Queue ``work`` for ``actor``; Refused when they already have ``PER_USER`` pending."""
        with self._lock:
            self._expire()
            alive = [*self._jobs.values(), *self._stopping.values()]
            mine = [j for j in alive if j.owner == actor.user_id and j.pending]
            if len(mine) >= PER_USER:
                raise Refused(
                    f"you have {len(mine)} exports queued or running: wait for one or delete it"
                )
            job = Job(
                id=uuid.uuid4(),
                kind=kind,
                owner=actor.user_id,
                request=request,
                directory=Path(tempfile.mkdtemp(prefix="lupus-msc-export-")),
                label=label,
            )
            self._jobs[job.id] = job
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="export-jobs", daemon=True)
                self._worker.start()
        self._queue.put((job, work))
        return job

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            self._run(*item)

    def _run(self, job: Job, work: Work) -> None:
        if job.cancel.is_set():
            job.finished, job.state = _now(), State.CANCELLED
            return
        job.state = State.RUNNING
        state = State.FAILED
        try:
            job.files, job.result = work(job)
            state = State.CANCELLED if job.cancel.is_set() else State.DONE
        except Cancelled:
            state = State.CANCELLED
        except ServiceError as error:  # a rule of the export refused it: the user can act on it
            job.error = error.message
        except Exception as error:
            if job.cancel.is_set():  # deleted under it: not a failure
                state = State.CANCELLED
            else:  # reported to the client in the status, logged in full here
                log.exception("export %s failed", job.id)
                job.error = f"the export failed: {type(error).__name__}"
        job.finished = _now()
        job.state = state
        if job.cancel.is_set():
            shutil.rmtree(job.directory, ignore_errors=True)
            with self._lock:
                self._stopping.pop(job.id, None)

    def _expire(self) -> None:
        """Remove finished jobs older than ``KEPT`` (the lock held)."""
        cutoff = _now() - KEPT
        for job in [j for j in self._jobs.values() if j.finished and j.finished < cutoff]:
            del self._jobs[job.id]
            shutil.rmtree(job.directory, ignore_errors=True)

    def get(self, actor: Actor, kind: str, job_id: uuid.UUID) -> Job:
        with self._lock:
            self._expire()
            job = self._jobs.get(job_id)
        if job is None or job.owner != actor.user_id or job.kind != kind:
            raise NotFound(f"no export {job_id}")
        return job

    def mine(self, actor: Actor, kind: str) -> list[Job]:
        """The actor's jobs of ``kind``, oldest first."""
        with self._lock:
            self._expire()
            jobs = [j for j in self._jobs.values() if j.owner == actor.user_id and j.kind == kind]
        return sorted(jobs, key=lambda job: job.requested)

    def delete(self, actor: Actor, kind: str, job_id: uuid.UUID) -> None:
        """Cancel the job and remove it; its files now, or once it has stopped if running."""
        self.get(actor, kind, job_id)
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is None:  # deleted meanwhile by another request of the owner
                raise NotFound(f"no export {job_id}")
            job.cancel.set()
            running = job.state is State.RUNNING
            if running:
                self._stopping[job.id] = job
        if not running:
            shutil.rmtree(job.directory, ignore_errors=True)

    def file(self, actor: Actor, kind: str, job_id: uuid.UUID, name: str) -> Path:
        job = self.get(actor, kind, job_id)
        for path in job.files if job.state is State.DONE else ():
            if path.name == name:
                return path
        raise NotFound(f"no file {name} in export {job_id}")

    def close(self) -> None:
        """Cancel every job, wait up to ``STOPPING`` seconds for the running one to stop, and
        remove every job's files."""
        with self._lock:
            jobs = [*self._jobs.values(), *self._stopping.values()]
            self._jobs.clear()
        for job in jobs:
            job.cancel.set()
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(STOPPING)
        for job in jobs:
            shutil.rmtree(job.directory, ignore_errors=True)


def jobs(request: Request) -> Jobs:
    """The app's jobs (``app.state.jobs``)."""
    found: Jobs = request.app.state.jobs
    return found


def owned_job(
    request: Request, database: Database, actor: Actor, kind: str, job_id: uuid.UUID
) -> Job:
    """The actor's job, if their role and sites today still allow what it exports (a user who
    lost a site or read-identity since does not find it any more); NotFound otherwise."""
    job = jobs(request).get(actor, kind, job_id)
    if not still_allowed(database, actor, job.request):
        raise NotFound(f"no export {job_id}")
    return job


MEDIA_TYPES = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".xml": "application/xml",
    ".ndjson": "application/fhir+ndjson",
    "": "application/octet-stream",
}
"""The export files' media types, by suffix (``""``: any other)."""


def private_file(path: Path) -> FileResponse:
    """An export's file, streamed from disk, never kept by a cache on the way."""
    media = MEDIA_TYPES.get(path.suffix, MEDIA_TYPES[""])
    return FileResponse(
        path, media_type=media, filename=path.name, headers={"Cache-Control": "no-store"}
    )


def queue_export(request: Request, database: Database, actor: Actor, asked: ExportRequest) -> Job:
    """Check an export the actor asks for (the API's or the Exports page's) and queue it.

    Refused before anything is queued: a form the actor may not receive (403), an option the
    format does not take (422), a site they are not a member of (403), a REDCap project
    without a protocol (409). CSV and Parquet take today as their default cut-off (said in the
    job) and read ``WEB_BATCH`` patients at a time."""
    if asked.format in ("csv", "parquet"):
        asked = replace(asked, as_of=asked.as_of or today(), batch_size=WEB_BATCH)
    authorize(actor, asked)
    asked = check(asked)
    asked = replace(asked, sites=scope_sites(database, actor, asked.sites))
    preflight(database, asked)
    return jobs(request).start(actor, EXPORTS, asked, export_work(database, actor, asked))
