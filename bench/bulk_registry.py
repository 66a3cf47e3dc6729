"""Benchmark only: a large registry (100,000 patients, 5 million visits) built in minutes.

    .venv/bin/python bench/bulk_registry.py --database-url sqlite:////tmp/bench.sqlite3
    .venv/bin/python bench/bulk_registry.py --database-url URL --patients 200   # a small one

Loading 100,000 patients through the services would take hours (about 0.1–0.16 s a patient,
every step audited). This builder does it in two parts:

1. A few dozen *template* patients are loaded through the services (``services.cohort_loader``,
   as ``lupus-msc synth load`` does), with their sites, staff, protocol, donors and lots, every
   step audited; a bench physician (``bench-physician`` / ``bench-password``, member of every
   site) is added through ``services.accounts``.
2. Every other patient is a *clone* of an infused template patient: the same screening, consent,
   glucocorticoids, lots, bedside checks, infusions, adverse events and visit findings, scores
   and labs (so every JSON document is one the services wrote), with new ids, study code, record
   number and lot codes, moved in time, and followed for ``--visits-per-patient`` visits (the
   protocol's schedule, then every 3 months, each recorded visit taking the findings of one of
   the template's recorded visits in turn). The last visits lie ahead (still due), about 3 % of
   the past ones were missed (overdue), and one patient in ten has completed.

Clones are written with SQLAlchemy Core values on the DBAPI connection of the engine, in large
batches (``executemany`` on SQLite, ``COPY`` on PostgreSQL), never through an ORM ``Session``:
the audit layer (``store.audit._refuse_bulk_writes``) listens on sessions only, so it is not
weakened for the application, and **the cloned rows have no audit rows** — a bench database is
not audited row by row (its chain, covering the template load, still verifies). Foreign keys
are not checked while cloning (SQLite ``foreign_keys=OFF``, PostgreSQL
``session_replication_role = replica``); the ids are fresh and every reference is remapped.

Only the analytes the patient page charts are cloned by default (C3, C4, anti-dsDNA, creatinine,
UPCR: about 5 results a visit, 25 million rows); ``--labs all`` clones every lab result (about
11 a visit). Lots' release tests, release decisions and custody events are not cloned.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Date, DateTime, Engine, Table, func, select

from lupus_msc.services import accounts
from lupus_msc.services.accounts import UserIn
from lupus_msc.services.cohort_loader import load
from lupus_msc.services.fields import today as today_
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.database import Database
from lupus_msc.store.models import (
    AdverseEvent,
    BedsideCheck,
    Consent,
    Infusion,
    InfusionLot,
    LabResult,
    Lot,
    Medication,
    Patient,
    PatientState,
    Role,
    Screening,
    Site,
    Visit,
)
from lupus_msc.synth.registry_plan import FAMILY, FEMALE, MALE

BENCH_USERNAME = "bench-physician"
BENCH_PASSWORD = "bench-password"  # noqa: S105 - a benchmark database's published login
BENCH_EMAIL = "bench-physician@bench.lupus-msc.example"
CHARTED = frozenset({"c3", "c4", "anti_dsdna", "creatinine", "upcr"})
"""Analytes the patient page charts (C3, C4, anti-dsDNA; eGFR from creatinine; UPCR)."""
EXTENSION_DAYS = 91
"""Visits after the protocol's schedule come every 3 months."""
EXTENSION_WINDOW = 14
AHEAD_VISITS = 3
"""A patient in follow-up has this many visits still ahead of today."""
MISSED_SHARE, COMPLETED_SHARE = 0.03, 0.10
INFUSED_STATES = frozenset(
    {
        PatientState.INFUSED,
        PatientState.FOLLOW_UP,
        PatientState.COMPLETED,
        PatientState.LOST_TO_FOLLOW_UP,
    }
)
PER_PATIENT: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[misc]
    for model in (Screening, Consent, Medication, Lot, BedsideCheck, Infusion, InfusionLot)
)
"""Small tables cloned row by row, parents first (adverse events come after infusions)."""
Row = dict[str, Any]
SQLITE_CACHE_KIB = 1_000_000
"""The builder's SQLite page cache (1 GB): the visit-date index takes random inserts."""


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


@dataclass
class Course:
    """One template patient's rows (Python values, as Core reads them)."""

    patient: Row
    first_day: dt.date
    rows: dict[str, list[Row]]
    schedule: list[Row]
    """Every scheduled visit, by study day."""
    recorded: list[tuple[Row, list[Row]]]
    """Recorded visits and their active lab results."""


@dataclass
class BuildReport:
    patients: int
    visits: int
    lab_results: int
    template_patients: int
    seconds: float
    template_seconds: float
    counts: dict[str, int] = field(default_factory=dict)


class Ids:
    """Fresh UUIDs that increase (appending to every primary-key index)."""

    def __init__(self) -> None:
        self.prefix = secrets.randbits(63) << 64
        self.count = 0

    def __call__(self) -> uuid.UUID:
        self.count += 1
        return uuid.UUID(int=self.prefix | self.count)


class Writer:
    """Rows (Python values) into tables, converted by the columns' own SQLAlchemy bind
    processors, written on the engine's DBAPI connection in batches."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.postgresql = self.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        driver = self.raw.driver_connection
        assert driver is not None  # noqa: S101 - a connected pool entry
        self.driver: Any = driver
        self.processors: dict[str, list[Callable[[Any], Any] | None]] = {}
        self.pending: dict[str, list[Sequence[Any]]] = defaultdict(list)
        self.written: dict[str, int] = defaultdict(int)
        self.order: list[Table] = []
        if self.postgresql:
            with self.driver.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
        else:
            self.driver.execute("PRAGMA foreign_keys=OFF")
            self.driver.execute("PRAGMA synchronous=OFF")
            self.driver.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    def column_processors(self, table: Table) -> list[Callable[[Any], Any] | None]:
        found = self.processors.get(table.name)
        if found is None:
            found = [
                column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
                for column in table.columns
            ]
            self.processors[table.name] = found
            self.order.append(table)
        return found

    def convert(self, table: Table, row: Row) -> list[Any]:
        """A row as the database stores it (columns in table order)."""
        processors = self.column_processors(table)
        values = [row[column.name] for column in table.columns]
        return [
            value if process is None or value is None else process(value)
            for value, process in zip(values, processors, strict=True)
        ]

    def add(self, table: Table, row: Row) -> None:
        self.pending[table.name].append(self.convert(table, row))

    def add_converted(self, table: Table, values: Sequence[Any]) -> None:
        self.column_processors(table)
        self.pending[table.name].append(values)

    def flush(self) -> None:
        if self.postgresql:
            self._copy()
        else:
            self._executemany()
        for table in self.order:
            self.written[table.name] += len(self.pending[table.name])
        self.pending.clear()

    def _executemany(self) -> None:
        self.driver.execute("BEGIN")
        for table in self.order:
            rows = self.pending.get(table.name)
            if not rows:
                continue
            names = ", ".join(column.name for column in table.columns)
            marks = ", ".join("?" for _ in table.columns)
            self.driver.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)  # noqa: S608
        self.driver.execute("COMMIT")

    def _copy(self) -> None:
        with self.driver.cursor() as cursor:
            for table in self.order:
                rows = self.pending.get(table.name)
                if not rows:
                    continue
                names = ", ".join(column.name for column in table.columns)
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for values in rows:
                        copy.write_row(values)
        self.driver.commit()

    def close(self) -> None:
        self.raw.close()


def _templates(database: Database, count: int, seed: int) -> float:
    """Load ``count`` template patients through the services; add the bench physician."""
    started = time.perf_counter()
    load(database, count, seed=seed)
    with unit_of_work(database, None) as session:
        site_ids = list(session.scalars(select(Site.id).order_by(Site.code)))
        accounts.add_user(
            session,
            None,
            UserIn(
                email=BENCH_EMAIL,
                username=BENCH_USERNAME,
                full_name="Bench Physician (benchmark)",
                role=Role.PHYSICIAN,
                password=BENCH_PASSWORD,
                site_ids=site_ids,
            ),
        )
    return time.perf_counter() - started


def _read_courses(engine: Engine, analytes: frozenset[str] | None) -> list[Course]:
    """Every infused template patient's rows."""
    courses = []
    with engine.connect() as connection:

        def rows(model: Any, *where: Any) -> list[Row]:
            table = _table(model)
            found = connection.execute(select(table).where(*where)).mappings()
            return [dict(row) for row in found]

        for patient in rows(Patient, _table(Patient).c.state.in_(list(INFUSED_STATES))):
            pid = patient["id"]
            infusions = rows(Infusion, _table(Infusion).c.patient_id == pid)
            if not infusions:
                continue
            infusion_ids = [row["id"] for row in infusions]
            lots = rows(Lot, _table(Lot).c.allocated_patient_id == pid)
            per = {
                "screenings": rows(Screening, _table(Screening).c.patient_id == pid),
                "consents": rows(Consent, _table(Consent).c.patient_id == pid),
                "medications": rows(Medication, _table(Medication).c.patient_id == pid),
                "lots": lots,
                "bedside_checks": rows(BedsideCheck, _table(BedsideCheck).c.patient_id == pid),
                "infusions": infusions,
                "infusion_lots": rows(
                    InfusionLot, _table(InfusionLot).c.infusion_id.in_(infusion_ids)
                ),
                "adverse_events": rows(AdverseEvent, _table(AdverseEvent).c.patient_id == pid),
            }
            schedule = sorted(
                rows(Visit, _table(Visit).c.patient_id == pid), key=lambda v: v["study_day"]
            )
            recorded = []
            for visit in schedule:
                if visit["visit_date"] is None:
                    continue
                labs = rows(
                    LabResult,
                    _table(LabResult).c.visit_id == visit["id"],
                    _table(LabResult).c.superseded.is_(False),
                )
                if analytes is not None:
                    labs = [lab for lab in labs if lab["analyte"] in analytes]
                recorded.append((visit, labs))
            first = min(row["started_at"] for row in infusions).date()
            courses.append(Course(patient, first, per, schedule, recorded))
    return courses


def _shift(row: Row, table: Table, days: dt.timedelta) -> None:
    for column in table.columns:
        if column.name == "created_at":
            continue
        value = row[column.name]
        kind = getattr(column.type, "impl", column.type)
        if value is not None and isinstance(kind, Date | DateTime):
            row[column.name] = value + days


def _site_codes(engine: Engine) -> dict[uuid.UUID, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(Site.id, Site.code)).all())


def _next_numbers(engine: Engine) -> dict[uuid.UUID, int]:
    with engine.connect() as connection:
        query = select(Patient.site_id, func.count()).group_by(Patient.site_id)
        return dict(connection.execute(query).all())


@dataclass
class _VisitPlan:
    code: str
    study_day: int
    before: int
    after: int


def _visit_plan(course: Course, wanted: int) -> list[_VisitPlan]:
    """The template's schedule, then a visit every 3 months, ``wanted`` visits in all."""
    plan = [
        _VisitPlan(
            visit["code"],
            visit["study_day"],
            (visit["target_date"] - visit["window_start"]).days,
            (visit["window_end"] - visit["target_date"]).days,
        )
        for visit in course.schedule[:wanted]
    ]
    last = plan[-1].study_day
    for number in range(1, wanted - len(plan) + 1):
        day = last + EXTENSION_DAYS * number
        plan.append(_VisitPlan(f"extension-{number:03d}", day, EXTENSION_WINDOW, EXTENSION_WINDOW))
    return plan


class Cloner:
    """Writes clones of the template courses."""

    def __init__(self, writer: Writer, courses: list[Course], visits: int, seed: int) -> None:
        self.writer = writer
        self.courses = courses
        self.visits = visits
        self.ids = Ids()
        self.rng = np.random.default_rng(seed)
        self.today = today_()
        self.sites = _site_codes(writer.engine)
        self.numbers = _next_numbers(writer.engine)
        self.plans = [_visit_plan(course, visits) for course in courses]
        self.visit_table = _table(Visit)
        self.lab_table = _table(LabResult)
        self.patient_table = _table(Patient)
        self.adverse_table = _table(AdverseEvent)
        self.recorded = [self._converted_recorded(course) for course in courses]
        self.unrecorded = self._converted_unrecorded(courses[0])
        self.lab_count = 0
        self.visit_count = 0

    def _converted_recorded(self, course: Course) -> list[tuple[list[Any], list[list[Any]]]]:
        return [
            (
                self.writer.convert(self.visit_table, visit),
                [self.writer.convert(self.lab_table, lab) for lab in labs],
            )
            for visit, labs in course.recorded
        ]

    def _converted_unrecorded(self, course: Course) -> list[Any]:
        template = dict(course.schedule[-1])
        template |= {"visit_date": None, "findings": {}, "scores": {}}
        template |= {"engine_version": None, "signed_by_id": None, "signed_at": None}
        return self.writer.convert(self.visit_table, template)

    def _column(self, table: Table, name: str) -> int:
        return [column.name for column in table.columns].index(name)

    def clone(self, number: int) -> None:
        index = number % len(self.courses)
        course = self.courses[index]
        completed = self.rng.random() < COMPLETED_SHARE
        plan = self.plans[index]
        ahead = 0 if completed else AHEAD_VISITS
        last_past = plan[len(plan) - 1 - ahead].study_day
        gap = plan[len(plan) - ahead].study_day - last_past if ahead else 60
        first = self.today - dt.timedelta(days=last_past + int(self.rng.integers(1, max(2, gap))))
        shift = first - course.first_day
        site = course.patient["site_id"]
        self.numbers[site] = self.numbers.get(site, 0) + 1
        mapping: dict[uuid.UUID, uuid.UUID] = {}
        patient = self._patient(course, number, site, completed, shift)
        mapping[course.patient["id"]] = patient["id"]
        self.writer.add(self.patient_table, patient)
        lot_codes: dict[uuid.UUID, str] = {}
        for table in PER_PATIENT:
            for template in course.rows[table.name]:
                row = self._remapped(template, table, mapping, shift)
                if table.name == "lots":
                    row["code"] = f"BENCH{number:08d}{len(lot_codes) + 1}"
                    lot_codes[template["id"]] = row["code"]
                if table.name == "bedside_checks":
                    row["scanned_patient_code"] = patient["study_code"]
                    row["scanned_lot_code"] = lot_codes.get(
                        template["lot_id"], row["scanned_lot_code"]
                    )
                self.writer.add(table, row)
        for template in course.rows["adverse_events"]:
            row = self._remapped(template, self.adverse_table, mapping, shift)
            self.writer.add(self.adverse_table, row)
        self._visits(index, patient["id"], first)

    def _patient(
        self, course: Course, number: int, site: uuid.UUID, completed: bool, shift: dt.timedelta
    ) -> Row:
        row = dict(course.patient)
        female = row["sex"] == "female"
        names = FEMALE if female else MALE
        row |= {
            "id": self.ids(),
            "study_code": f"{self.sites[site]}-{self.numbers[site]:04d}",
            "medical_record_number": f"BENCH-{number:08d}",
            "given_name": names[number % len(names)],
            "family_name": FAMILY[(number // len(names)) % len(FAMILY)],
            "state": PatientState.COMPLETED if completed else PatientState.FOLLOW_UP,
            "date_of_birth": row["date_of_birth"] + shift,
        }
        if row["diagnosis_date"] is not None:
            row["diagnosis_date"] = row["diagnosis_date"] + shift
        return row

    def _remapped(
        self, template: Row, table: Table, mapping: dict[uuid.UUID, uuid.UUID], shift: dt.timedelta
    ) -> Row:
        row = dict(template)
        new = self.ids()
        mapping[row["id"]] = new
        row["id"] = new
        for column in table.columns:
            if column.foreign_keys and row[column.name] in mapping:
                row[column.name] = mapping[row[column.name]]
        _shift(row, table, shift)
        return row

    def _visits(self, index: int, patient_id: uuid.UUID, first: dt.date) -> None:
        visit_table, lab_table = self.visit_table, self.lab_table
        columns = [column.name for column in visit_table.columns]
        at = {name: columns.index(name) for name in columns}
        lab_columns = [column.name for column in lab_table.columns]
        lab_id, lab_visit = lab_columns.index("id"), lab_columns.index("visit_id")
        process = self.writer.column_processors(visit_table)
        lab_process = self.writer.column_processors(lab_table)
        pool = self.recorded[index]
        missed = self.rng.random(len(self.plans[index])) < MISSED_SHARE
        for number, planned in enumerate(self.plans[index]):
            target = first + dt.timedelta(days=planned.study_day)
            recorded = target <= self.today and (number == 0 or not missed[number])
            if recorded:
                values, labs = pool[number % len(pool)]
            else:
                values, labs = self.unrecorded, []
            row = list(values)
            new_id = self.ids()
            converted_id = _apply(process[at["id"]], new_id)
            row[at["id"]] = converted_id
            row[at["patient_id"]] = _apply(process[at["patient_id"]], patient_id)
            row[at["code"]] = planned.code
            row[at["study_day"]] = planned.study_day
            row[at["target_date"]] = _apply(process[at["target_date"]], target)
            start = target - dt.timedelta(days=planned.before)
            end = target + dt.timedelta(days=planned.after)
            row[at["window_start"]] = _apply(process[at["window_start"]], start)
            row[at["window_end"]] = _apply(process[at["window_end"]], end)
            if recorded:
                row[at["visit_date"]] = _apply(process[at["visit_date"]], target)
                if row[at["signed_at"]] is not None:
                    signed = dt.datetime.combine(target, dt.time(17), tzinfo=dt.UTC)
                    row[at["signed_at"]] = _apply(process[at["signed_at"]], signed)
            self.writer.add_converted(visit_table, row)
            self.visit_count += 1
            for lab in labs:
                copied = list(lab)
                copied[lab_id] = _apply(lab_process[lab_id], self.ids())
                copied[lab_visit] = converted_id
                self.writer.add_converted(lab_table, copied)
                self.lab_count += 1


def _apply(process: Callable[[Any], Any] | None, value: Any) -> Any:
    return value if process is None else process(value)


def _analyze(engine: Engine) -> None:
    """Planner statistics for the new rows; on PostgreSQL also the visibility map (VACUUM), as
    autovacuum would set it after a bulk load, so index-only scans need no heap fetches."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


def build(
    url: str,
    patients: int,
    *,
    visits_per_patient: int = 50,
    templates: int = 40,
    seed: int = 0,
    all_labs: bool = False,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Build a bench registry of ``patients`` at ``url`` (an empty database; module docstring)."""
    started = time.perf_counter()
    database = Database(url)
    database.upgrade()
    with database.sessions() as session:
        if session.scalar(select(func.count()).select_from(Patient)):
            raise SystemExit(f"{url} already holds patients: give an empty database")
    template_seconds = _templates(database, min(templates, patients), seed)
    courses = _read_courses(database.engine, None if all_labs else CHARTED)
    if not courses:
        raise SystemExit("no template patient was infused: raise --templates")
    with database.sessions() as session:
        loaded = session.scalar(select(func.count()).select_from(Patient)) or 0
    writer = Writer(database.engine)
    cloner = Cloner(writer, courses, visits_per_patient, seed)
    try:
        for number in range(patients - loaded):
            cloner.clone(number)
            if (number + 1) % batch == 0:
                writer.flush()
                if progress is not None:
                    progress(number + 1)
        writer.flush()
    finally:
        writer.close()
    _analyze(database.engine)
    counts = _counts(database.engine)
    database.dispose()
    return BuildReport(
        patients=counts["patients"],
        visits=counts["visits"],
        lab_results=counts["lab_results"],
        template_patients=loaded,
        seconds=time.perf_counter() - started,
        template_seconds=template_seconds,
        counts=counts,
    )


def _counts(engine: Engine) -> dict[str, int]:
    names = ("patients", "visits", "lab_results", "medications", "infusions", "adverse_events")
    with engine.connect() as connection:
        return {
            name: int(connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar() or 0)  # noqa: S608
            for name in names
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty database (or new file)")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--visits-per-patient", type=int, default=50)
    parser.add_argument("--templates", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--labs", choices=("charted", "all"), default="charted")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(done: int) -> None:
        if done % 10_000 == 0:
            print(f"  {done:,} patients cloned ({time.perf_counter() - started:.0f} s)", flush=True)

    report = build(
        args.database_url,
        args.patients,
        visits_per_patient=args.visits_per_patient,
        templates=args.templates,
        seed=args.seed,
        all_labs=args.labs == "all",
        progress=progress,
    )
    print(
        f"built {report.patients:,} patients, {report.visits:,} visits, "
        f"{report.lab_results:,} lab results in {report.seconds:.0f} s "
        f"({report.template_patients} template patients through the services in "
        f"{report.template_seconds:.0f} s); counts {report.counts}"
    )


if __name__ == "__main__":
    main()
