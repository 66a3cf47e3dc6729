"""The export job queue (``web.jobs``): one worker, a limit per user, cancellation, owners.

The work here is a function that waits for the test's signal, so that what is queued, running
and finished is decided by the test, not by timing."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from lupus_msc.interop.exports import ExportRequest
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import NotFound, Refused, invalid
from lupus_msc.store.models import Role
from lupus_msc.web.jobs import PER_USER, Job, Jobs, State

CSV = ExportRequest("csv")


def actor(name: str) -> Actor:
    return Actor(uuid.uuid4(), f"{name}@example.org", name, Role.PHYSICIAN, frozenset(), ())


class Gate:
    """Work that writes a file in three steps, each waiting for ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, job: Job) -> tuple[list[Path], Any]:
        advance, close = job.display(("first", "second", "third"))
        self.started.set()
        path = job.directory / "out.csv"
        path.write_text("a\n")
        for step in ("second", "third", "done"):
            assert self.release.wait(10)
            advance(step)
        close()
        return [path], "written"


def wait_for(job: Job, *states: State) -> None:
    deadline = time.monotonic() + 10
    while job.state not in states:
        assert time.monotonic() < deadline, job.state
        time.sleep(0.01)


@pytest.fixture
def jobs() -> Any:
    queue = Jobs()
    yield queue
    queue.close()


def test_a_job_runs_and_its_files_are_found_by_its_owner_only(jobs: Jobs) -> None:
    owner, other = actor("owner"), actor("other")
    gate = Gate()
    job = jobs.start(owner, "export", CSV, gate)
    assert gate.started.wait(10)
    assert job.state is State.RUNNING
    assert job.progress() == "step 1 of 3: first"
    with pytest.raises(NotFound):
        jobs.file(owner, "export", job.id, "out.csv")  # not done yet
    gate.release.set()
    wait_for(job, State.DONE)
    assert (job.result, job.progress()) == ("written", "step 3 of 3: done")
    assert job.files == [job.directory / "out.csv"]  # set before the state
    assert jobs.file(owner, "export", job.id, "out.csv").read_text() == "a\n"
    assert job.finished is not None and job.finished >= job.requested
    for who, kind in ((other, "export"), (owner, "fhir")):
        with pytest.raises(NotFound):
            jobs.get(who, kind, job.id)
    assert jobs.mine(other, "export") == []
    assert jobs.mine(owner, "export") == [job]


def test_a_user_may_have_a_limited_number_of_jobs_pending(jobs: Jobs) -> None:
    owner = actor("busy")
    gate = Gate()
    pending = [jobs.start(owner, "export", CSV, gate) for _ in range(PER_USER)]
    assert gate.started.wait(10)
    assert [job.state for job in pending] == [State.RUNNING] + [State.QUEUED] * (PER_USER - 1)
    with pytest.raises(Refused, match=f"you have {PER_USER} exports queued or running"):
        jobs.start(owner, "export", CSV, gate)
    jobs.start(actor("someone else"), "export", CSV, gate)  # the limit is per user
    gate.release.set()
    for job in pending:
        wait_for(job, State.DONE)
    jobs.start(owner, "export", CSV, gate)  # finished jobs do not count


def test_deleting_a_running_job_stops_it_and_removes_its_files(jobs: Jobs) -> None:
    owner = actor("owner")
    gate = Gate()
    running = jobs.start(owner, "export", CSV, gate)
    queued = jobs.start(owner, "export", CSV, Gate())
    assert gate.started.wait(10)
    jobs.delete(owner, "export", queued.id)
    jobs.delete(owner, "export", running.id)
    gate.release.set()
    wait_for(running, State.CANCELLED)
    wait_for(queued, State.CANCELLED)
    assert not running.directory.exists()
    assert not queued.directory.exists()
    assert running.result is None
    with pytest.raises(NotFound):
        jobs.get(owner, "export", running.id)


def test_a_refusal_is_the_jobs_error_and_a_crash_is_named_not_shown(jobs: Jobs) -> None:
    owner = actor("owner")

    def refused(_job: Job) -> tuple[list[Path], Any]:
        raise invalid("protocol", "no protocol is loaded")

    def crashed(_job: Job) -> tuple[list[Path], Any]:
        raise KeyError("secret detail")

    first = jobs.start(owner, "export", CSV, refused)
    second = jobs.start(owner, "export", CSV, crashed)
    wait_for(second, State.FAILED)
    assert first.error == "protocol: no protocol is loaded"
    assert second.error == "the export failed: KeyError"
    assert isinstance(second.finished, dt.datetime)


def test_closing_cancels_every_job_and_removes_the_files() -> None:
    queue = Jobs()
    owner = actor("owner")
    gate = Gate()
    running = queue.start(owner, "export", CSV, gate)
    queued = queue.start(owner, "export", CSV, Gate())
    assert gate.started.wait(10)
    closing = threading.Thread(target=queue.close)
    closing.start()
    time.sleep(0.05)
    gate.release.set()
    closing.join(10)
    assert not closing.is_alive()
    assert running.state is State.CANCELLED
    assert queued.state is State.CANCELLED  # never started
    assert not running.directory.exists() and not queued.directory.exists()


class LateWriter(Gate):
    """Work that goes on writing in its folder after it is deleted, as an export does until
    the end of its batch: the folder must stay until it stops, then go."""

    def __call__(self, job: Job) -> tuple[list[Path], Any]:
        self.started.set()
        assert self.release.wait(10)
        (job.directory / "late.csv").write_text("b\n")
        return [], None


def test_a_job_deleted_while_running_is_cancelled_not_failed_and_counted_until_it_stops(
    jobs: Jobs,
) -> None:
    owner = actor("owner")
    gate = LateWriter()
    running = jobs.start(owner, "export", CSV, gate)
    assert gate.started.wait(10)
    jobs.delete(owner, "export", running.id)
    quick = Gate()
    quick.release.set()
    for _ in range(PER_USER - 1):
        jobs.start(owner, "export", CSV, quick)
    with pytest.raises(Refused):  # the stopping job still counts
        jobs.start(owner, "export", CSV, quick)
    gate.release.set()
    wait_for(running, State.CANCELLED)
    assert running.error is None
    assert not running.directory.exists()


def test_a_finished_job_is_removed_after_it_has_been_kept(
    jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = actor("owner")
    gate = Gate()
    gate.release.set()
    job = jobs.start(owner, "export", CSV, gate)
    wait_for(job, State.DONE)
    assert jobs.mine(owner, "export") == [job]
    monkeypatch.setattr("lupus_msc.web.jobs.KEPT", dt.timedelta(0))
    assert jobs.mine(owner, "export") == []
    assert not job.directory.exists()
