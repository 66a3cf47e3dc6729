"""The analysis dataset exported in batches of patients, identified or de-identified (issue 8).

The files are those of ``lupus-msc report dataset`` (``patients``, ``visits``,
``adverse_events`` and ``dataset.json``); de-identified, they are ``interop.deidentify``'s Safe
Harbor form: pseudonyms for study codes, dates shifted by each patient's secret offset
(``"shift"``) or day numbers from the first infusion (``"days"``), ages over 89 as "90 or
older", and only the year of the cut-off in ``dataset.json``. The keys are created on first need
by ``services.deidentification.keys_for``. Free text — the adverse-event term — is scrubbed
(``interop.free_text``).

The registry is read ``batch_size`` patients at a time (default 10,000): each batch is read,
built, de-identified and appended to the files before the next, which is read meanwhile (the
next two on PostgreSQL), so memory stays flat however large the registry (``export_batches``).
The keys are created a batch at a time too (one audited transaction each), and a de-identified
export is written in pseudonym order, as one batch of every patient would be (the study-code
order would say something of the enrolment order).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lupus_msc.analytics.dataset import FRAMES
from lupus_msc.analytics.visit_table import Notes
from lupus_msc.interop.free_text import identifying_words, scrub_terms
from lupus_msc.interop.progress import Progress, silent

if TYPE_CHECKING:
    import polars as pl

    from lupus_msc.analytics.dataset import AnalysisDataset
    from lupus_msc.analytics.registry_extract import RegistryTables
    from lupus_msc.services.access import Actor
    from lupus_msc.services.deidentification import PatientKey
    from lupus_msc.store.database import Database

Dates = Literal["shift", "days"]

BATCH_SIZE = 10_000
"""[PROJECT] Patients per batch: a peak RSS of 0.8–0.9 GiB on the bench registry, for the
first 25,000 patients as for all 100,000 (docs/performance.md)."""
READERS = 1
"""Batches read ahead, each in a thread of its own, while the main thread builds and writes the
previous one (two took as long on the 2-core bench machine: SQLite's read is bound by one
core)."""
POSTGRESQL_READERS = 2
"""[PROJECT] Batches read ahead from PostgreSQL, whose server scans in processes of its own, so
one reader's query overlaps the other's decoding: 40.6 s instead of 50.0 s for the bench
registry's 100,000 patients on the 2-core bench machine, for a peak RSS of 1.2–1.3 GiB instead
of 0.9 GiB (docs/performance.md)."""
MAX_BATCH_SIZE = 20_000
"""A batch's patients are passed to each query by id: SQLite takes at most 32,766 parameters
in a statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32)."""


def _selected(
    database: Database, sites: list[str], limit: int | None = None
) -> list[tuple[uuid.UUID, str]]:
    """The id and study code of every patient with an infusion at ``sites`` (every site when
    empty), by study code; the first ``limit`` of them when given (benchmarks)."""
    from sqlalchemy import exists, select

    from lupus_msc.store.models import Infusion, Patient, Site

    query = (
        select(Patient.id, Patient.study_code)
        .where(exists().where(Infusion.patient_id == Patient.id))
        .order_by(Patient.study_code)
    )
    if sites:
        query = query.join(Site, Site.id == Patient.site_id).where(Site.code.in_(sites))
    if limit is not None:
        query = query.limit(limit)
    with database.reads() as session:
        return [(pid, code) for pid, code in session.execute(query)]


def _keys(
    database: Database,
    actor: Actor | None,
    patients: list[tuple[uuid.UUID, str]],
    batch_size: int,
    done: Callable[[], None],
) -> dict[uuid.UUID, PatientKey]:
    """Every patient's de-identification key, those missing created ``batch_size`` at a time
    (one audited transaction each, so a first export of a large registry commits as it goes),
    as ``actor`` (None: the system)."""
    from lupus_msc.services.deidentification import keys_for

    keys: dict[uuid.UUID, PatientKey] = {}
    for start in range(0, len(patients), batch_size):
        chunk = patients[start : start + batch_size]
        found = keys_for(database, actor, [code for _, code in chunk])
        keys.update({pid: found[code] for pid, code in chunk})
        done()
    return keys


def _batches(ids: list[uuid.UUID], batch_size: int) -> list[list[uuid.UUID]]:
    """``ids`` in batches of ``batch_size`` (one empty batch when there are none, so that the
    files are written, with their columns, even for no patient)."""
    return [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)] or [[]]


@dataclass
class Totals:
    """What an export wrote, summed over its batches."""

    patients: int = 0
    visits: int = 0
    adverse_events: int = 0
    notes: Notes = field(default_factory=lambda: Notes(0, 0))
    paths: list[Path] = field(default_factory=list)

    def add(self, frames: Mapping[str, pl.DataFrame], notes: Notes) -> None:
        self.patients += frames["patients"].height
        self.visits += frames["visits"].height
        self.adverse_events += frames["adverse_events"].height
        self.notes = Notes(
            *(getattr(self.notes, name.name) + getattr(notes, name.name) for name in fields(Notes))
        )


class _Files:
    """One file per frame in ``out``, each batch's rows appended: CSV with one header; Parquet
    as a part file per batch (in a hidden directory of ``out``), joined into one file (a row
    group or more per part, streamed) by ``close``."""

    def __init__(self, out: Path, kind: Literal["csv", "parquet"]) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out, self.kind, self.batches = out, kind, 0
        self.parts = (
            Path(tempfile.mkdtemp(prefix=".parts-", dir=out)) if kind == "parquet" else None
        )

    def append(self, frames: Mapping[str, pl.DataFrame]) -> None:
        for name, frame in frames.items():
            if self.parts is not None:
                frame.write_parquet(self.parts / f"{name}-{self.batches:06d}.parquet")
            else:
                with (self.out / f"{name}.csv").open("ab" if self.batches else "wb") as file:
                    frame.write_csv(file, include_header=not self.batches)
        self.batches += 1

    def close(self) -> list[Path]:
        import polars as pl

        written = [self.out / f"{name}.{self.kind}" for name in FRAMES]
        if self.parts is not None:
            for name, path in zip(FRAMES, written, strict=True):
                parts = sorted(self.parts.glob(f"{name}-*.parquet"))
                pl.scan_parquet(parts).sink_parquet(path)
        self.discard()
        return written

    def discard(self) -> None:
        if self.parts is not None:
            shutil.rmtree(self.parts, ignore_errors=True)


def _readers(database: Database) -> int:
    """How many batches are read ahead at once: ``POSTGRESQL_READERS`` or ``READERS``."""
    return POSTGRESQL_READERS if database.engine.dialect.name == "postgresql" else READERS


def _read(database: Database, ids: list[uuid.UUID]) -> RegistryTables:
    from lupus_msc.analytics.registry_extract import read_registry

    with database.reads() as session:
        return read_registry(session, among=ids)


def _frames(
    data: AnalysisDataset,
    dates: Dates | None,
    keys: Mapping[str, PatientKey],
    identifiers: set[str],
) -> dict[str, pl.DataFrame]:
    """A batch's frames as written: as built, or de-identified with the batch's ``keys`` and
    the identifying words of the adverse-event terms redacted."""
    from lupus_msc.interop.deidentify import deidentify_dataset

    if dates is None:
        return {name: getattr(data, name) for name in FRAMES}
    events = scrub_terms(data.adverse_events, identifiers)
    private = deidentify_dataset(replace(data, adverse_events=events), keys, dates=dates)
    return private.frames()


def _about(cut_off: dt.date, notes: Notes, dates: Dates | None) -> dict[str, object]:
    """``dataset.json``: the cut-off (its year only when de-identified) and the notes."""
    if dates is None:
        return {"as_of": cut_off.isoformat(), "notes": asdict(notes)}
    return {
        "deidentified": "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)",
        "dates": dates,
        "as_of_year": cut_off.year,
        "notes": asdict(notes),
    }


def export_batches(
    database: Database,
    out: Path,
    kind: Literal["csv", "parquet"],
    *,
    cut_off: dt.date,
    dates: Dates | None,
    sites: list[str],
    batch_size: int = BATCH_SIZE,
    limit: int | None = None,
    progress: Progress | None = None,
    actor: Actor | None = None,
) -> Totals:
    """The analysis dataset of the patients of ``sites`` written to ``out``, ``batch_size``
    patients at a time, de-identified when ``dates`` is given (module doc).

    Each batch is read, built (``analytics.dataset.build``: everything in it is per patient,
    and the notes are counts, summed here), de-identified and appended in turn, the next batch
    being read meanwhile; so the files equal those of one batch of every patient. Batches
    follow the order of the files: study codes, or pseudonyms when de-identified.
    """
    from concurrent.futures import ThreadPoolExecutor

    from lupus_msc.analytics.dataset import build

    patients = _selected(database, sites, limit)  # the caller has scoped ``sites`` to the actor
    key_steps = -(-len(patients) // batch_size) if dates is not None else 0
    batch_count = len(_batches([pid for pid, _ in patients], batch_size))
    steps = (
        *(f"keys {i + 1}/{key_steps}" for i in range(key_steps)),
        *(f"batch {i + 1}/{batch_count}" for i in range(batch_count)),
        "write files",
    )
    advance, close = (progress or silent)(steps)
    following = iter((*steps[1:], "done"))

    def done() -> None:
        advance(next(following))

    files = _Files(out, kind)
    totals = Totals()
    try:
        ids = [pid for pid, _ in patients]
        keys: dict[uuid.UUID, PatientKey] = {}
        identifiers: set[str] = set()
        if dates is not None:
            keys = _keys(database, actor, patients, batch_size, done)
            ids.sort(key=lambda pid: keys[pid].pseudonym)
            identifiers = identifying_words(database, (code for _, code in patients))
        batches = _batches(ids, batch_size)
        readers = _readers(database)
        with ThreadPoolExecutor(max_workers=readers) as reader:
            pending = [reader.submit(_read, database, batch) for batch in batches[:readers]]
            for number, batch in enumerate(batches, start=1):
                tables = pending.pop(0).result()
                if number + readers <= len(batches):
                    pending.append(reader.submit(_read, database, batches[number + readers - 1]))
                data = build(tables, cut_off)
                del tables
                batch_keys = {keys[pid].study_code: keys[pid] for pid in batch if keys}
                frames = _frames(data, dates, batch_keys, identifiers)
                files.append(frames)
                totals.add(frames, data.notes)
                done()
        totals.paths = files.close()
        done()
    except BaseException:
        files.discard()
        raise
    finally:
        close()
    about = out / "dataset.json"
    about.write_text(json.dumps(_about(cut_off, totals.notes, dates), indent=2))
    totals.paths.append(about)
    return totals
