"""Export jobs of the web app: asked for by a request, run in the background, polled, their
files downloaded, deleted (the FHIR ``$export`` and ``/api/v1/exports``).

A job and its files belong to the user who started it: any other user is told it does not exist.
Jobs run ``WORKERS`` at a time in the server process (an export keeps a core busy; the others
wait in the queue) and each user may have ``PER_USER`` jobs queued or running. Deleting a job
cancels it (the export stops between two batches) and removes its files. Jobs live in the server
process: a restart forgets them and their files, and a server run with several worker processes
must send the polls of a job to the process that started it.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from lupus_msc.interop.progress import Advance, Cancelled
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import NotFound, Refused, ServiceError

log = logging.getLogger(__name__)

WORKERS = 1
"""[PROJECT] Exports running at once per server process (the reference machine has two cores:
one stays free to answer requests)."""
PER_USER = 3
"""[PROJECT] Jobs one user may have queued or running."""


class State(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class Job:
    """One export: who asked, what for, and where it stands."""

    id: uuid.UUID
    kind: str
    """Which API started it (``fhir`` or ``export``): each sees only its own jobs."""
    owner: uuid.UUID
    request: Any
    """What was asked for, as the API that started it keeps it."""
    directory: Path
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished: dt.datetime | None = None
    state: State = State.QUEUED
    step: str = "queued"
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


class Jobs:
    """The server's export jobs, by id."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._jobs: dict[uuid.UUID, Job] = {}
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")

    def start(self, actor: Actor, kind: str, request: Any, work: Work) -> Job:
        """Queue ``work`` for ``actor``; Refused when they already have ``PER_USER`` pending."""
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == actor.user_id and j.pending]
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
            )
            self._jobs[job.id] = job
        self._workers.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Work) -> None:
        if job.cancel.is_set():
            job.state = State.CANCELLED
            return
        job.state = State.RUNNING
        try:
            job.files, job.result = work(job)
            job.state = State.DONE
        except Cancelled:
            job.state = State.CANCELLED
        except ServiceError as error:  # a rule of the export refused it: the user can act on it
            job.state, job.error = State.FAILED, error.message
        except Exception as error:  # reported to the client in the status, logged in full here
            log.exception("export %s failed", job.id)
            job.state, job.error = State.FAILED, f"the export failed: {type(error).__name__}"
        finally:
            job.finished = dt.datetime.now(dt.UTC)
            if job.cancel.is_set():  # deleted while it ran: what it wrote since goes too
                shutil.rmtree(job.directory, ignore_errors=True)

    def get(self, actor: Actor, kind: str, job_id: uuid.UUID) -> Job:
        job = self._jobs.get(job_id)
        if job is None or job.owner != actor.user_id or job.kind != kind:
            raise NotFound(f"no export {job_id}")
        return job

    def mine(self, actor: Actor, kind: str) -> list[Job]:
        """The actor's jobs of ``kind``, oldest first."""
        jobs = [j for j in self._jobs.values() if j.owner == actor.user_id and j.kind == kind]
        return sorted(jobs, key=lambda job: job.started)

    def delete(self, actor: Actor, kind: str, job_id: uuid.UUID) -> None:
        """Cancel the job (if pending) and remove it and its files."""
        job = self.get(actor, kind, job_id)
        job.cancel.set()
        with self._lock:
            del self._jobs[job_id]
        shutil.rmtree(job.directory, ignore_errors=True)

    def file(self, actor: Actor, kind: str, job_id: uuid.UUID, name: str) -> Path:
        job = self.get(actor, kind, job_id)
        for path in job.files if job.state is State.DONE else ():
            if path.name == name:
                return path
        raise NotFound(f"no file {name} in export {job_id}")

    def close(self) -> None:
        """Cancel every job, wait for the running one to stop, remove every file."""
        for job in list(self._jobs.values()):
            job.cancel.set()
        self._workers.shutdown(wait=True, cancel_futures=True)
        for job in list(self._jobs.values()):
            shutil.rmtree(job.directory, ignore_errors=True)
        self._jobs.clear()
