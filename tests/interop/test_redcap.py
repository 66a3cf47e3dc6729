"""REDCap export and import (issue 8): a seeded 20-patient registry is exported as a REDCap
project and imported back, with the identity mapping we ship, into an empty registry (the
protocol and the sites only, as ``lupus-msc init`` leaves it); patients, visits, scores and labs
must come back record by record. A records file with bad rows must change nothing and the dry
run must name every bad row. What reads or writes a registry runs on SQLite and on PostgreSQL
(source and target on the same backend); the data dictionary and the longitudinal files come
from the protocol alone."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lupus_msc.interop.redcap_export import FILES, write_metadata, write_records
from lupus_msc.interop.redcap_import import run_import
from lupus_msc.interop.redcap_mapping import (
    IDENTITY_FILE,
    MappingError,
    from_data,
    identity,
    identity_yaml,
    load,
)
from lupus_msc.protocol import default_protocol, default_protocol_text
from lupus_msc.services import accounts, course, protocols
from lupus_msc.services.access import Actor
from lupus_msc.services.accounts import SiteIn
from lupus_msc.services.cohort_loader import load as load_cohort
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.base import Base
from lupus_msc.store.database import Database
from lupus_msc.store.models import AuditEvent, LabResult, Patient, Role, Site, User, Visit

PATIENTS = 20
SEED = 3
DICTIONARY_COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
"""REDCap's data dictionary columns, as REDCap's own template spells them."""


@pytest.fixture(scope="module")
def metadata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's metadata files, written from the default protocol (no registry read)."""
    out = tmp_path_factory.mktemp("redcap-metadata")
    write_metadata(out, default_protocol())
    return out


@pytest.fixture(scope="module")
def source(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    load_cohort(database, PATIENTS, seed=SEED)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def exported(source: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_project(source, tmp_path_factory.mktemp("redcap-out"), batch_size=7)


def export_project(source: Database, out: Path, **options: Any) -> Path:
    """The registry as a REDCap project (default protocol) in ``out``."""
    write_metadata(out, default_protocol())
    with (out / FILES["records"]).open("w", newline="", encoding="utf-8") as stream:
        write_records(stream, source.reads, default_protocol(), **options)
    return out


@pytest.fixture
def target(request: pytest.FixtureRequest, source: Database, tmp_path: Path) -> Iterator[Database]:
    """An empty registry on the source's backend: the default protocol and the source's sites."""
    if source.url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    else:
        url = request.getfixturevalue("postgresql_server").new_database("redcap_target")
    database = empty_registry(url, source)
    yield database
    database.dispose()


def empty_registry(url: str, source: Database) -> Database:
    """A new registry with the default protocol and the source's sites, nothing else."""
    database = Database(url)
    database.upgrade()
    sites = _sites(source)
    with unit_of_work(database, None) as session:
        protocols.add(session, None, default_protocol_text())
        for code in sites:
            accounts.add_site(session, None, SiteIn(code=code, name=f"Site {code}"))
    return database


def _sites(database: Database) -> list[str]:
    with database.reads() as session:
        return list(session.scalars(select(Site.code)))


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def write_rows(path: Path, records: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """``records`` as a REDCap flat records file, with the first record's columns by default."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, columns or list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return path


def test_the_dictionary_has_redcaps_columns_and_flags_identifiers(metadata: Path) -> None:
    with (metadata / FILES["dictionary"]).open(newline="", encoding="utf-8") as stream:
        table = list(csv.reader(stream))
    assert table[0] == DICTIONARY_COLUMNS
    assert table[1][0] == "record_id"
    fields = {row[0]: row for row in table[1:]}
    assert {row[7] for row in table[1:]} <= {"", "date_ymd", "number", "integer"}
    flagged = {name for name, row in fields.items() if row[10] == "y"}
    assert flagged == {"given_name", "family_name", "mrn", "dob"}
    assert fields["dob"][7] == "date_ymd"
    assert fields["sex"][5] == "1, female | 2, male"
    assert fields["pga"][8:10] == ["0", "3"]
    assert all(len(name) <= 26 and name == name.lower() for name in fields)


def test_the_longitudinal_files_follow_the_protocol_schedule(metadata: Path) -> None:
    events = rows(metadata / FILES["events"])
    assert [row["unique_event_name"] for row in events[:3]] == [
        "registration_arm_1",
        "day0_arm_1",
        "day7_arm_1",
    ]
    month3 = next(row for row in events if row["event_name"] == "month3")
    assert (month3["day_offset"], month3["offset_min"], month3["offset_max"]) == ("90", "14", "14")
    assert "screening" not in {row["event_name"] for row in events}
    forms = {(row["unique_event_name"], row["form"]) for row in rows(metadata / FILES["mapping"])}
    assert ("registration_arm_1", "adverse_events") in forms
    assert ("month24_arm_1", "visit") in forms
    repeating = rows(metadata / FILES["repeating"])
    assert {row["form_name"] for row in repeating} == {"medications", "adverse_events"}


def test_records_are_in_redcaps_flat_format(exported: Path, source: Database) -> None:
    records = rows(exported / FILES["records"])
    assert list(records[0])[:4] == [
        "record_id",
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
    ]
    assert {f"ae_serious___{code}" for code in range(1, 7)} <= set(records[0])
    with source.reads() as session:
        patients = session.scalar(select(func.count()).select_from(Patient))
        recorded = session.scalar(select(func.count()).where(Visit.visit_date.is_not(None)))
    registrations = [row for row in records if row["redcap_event_name"] == "registration_arm_1"]
    assert len({row["record_id"] for row in registrations if not row["redcap_repeat_instance"]})
    assert sum(1 for row in registrations if not row["redcap_repeat_instrument"]) == patients
    visits = [row for row in records if row["redcap_event_name"] != "registration_arm_1"]
    assert len(visits) == recorded
    medications = [row for row in records if row["redcap_repeat_instrument"] == "medications"]
    assert medications and all(int(row["redcap_repeat_instance"]) >= 1 for row in medications)


def test_the_shipped_identity_mapping_is_the_one_the_schema_gives() -> None:
    assert IDENTITY_FILE.read_text(encoding="utf-8") == identity_yaml(default_protocol())
    assert load(IDENTITY_FILE) == identity(default_protocol())


def test_a_mapping_to_an_unknown_registry_field_is_refused() -> None:
    with pytest.raises(MappingError, match=r"fields\.height: no registry field"):
        from_data({"record_id": "id", "events": {}, "fields": {"height": "patient.height"}})


def _patients(database: Database) -> list[tuple[Any, ...]]:
    with database.reads() as session:
        query = select(
            Patient.study_code,
            Patient.given_name,
            Patient.family_name,
            Patient.sex,
            Patient.date_of_birth,
            Patient.medical_record_number,
        ).order_by(Patient.study_code)
        return [tuple(row) for row in session.execute(query)]


def _visits(database: Database) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Per (study code, visit code): date, SLEDAI-2K total, PGA, FACIT-F score."""
    found = {}
    with database.reads() as session:
        query = (
            select(Patient.study_code, Visit)
            .join(Patient, Patient.id == Visit.patient_id)
            .where(Visit.visit_date.is_not(None))
        )
        for code, visit in session.execute(query):
            scores = visit.scores
            found[(code, visit.code)] = (
                visit.visit_date,
                visit.target_date,
                scores.get("sledai2k", {}).get("total"),
                scores.get("pga", {}).get("pga"),
                scores.get("facit_f", {}).get("score"),
                scores["prednisone_equivalent"]["prednisone_mg_day"],
            )
    return found


def _labs(database: Database) -> set[tuple[Any, ...]]:
    with database.reads() as session:
        query = (
            select(
                Patient.study_code,
                Visit.code,
                LabResult.analyte,
                LabResult.value,
                LabResult.unit,
                LabResult.reference_low,
                LabResult.reference_high,
            )
            .join(Visit, Visit.id == LabResult.visit_id)
            .join(Patient, Patient.id == Visit.patient_id)
            .where(~LabResult.superseded)
        )
        return {tuple(row) for row in session.execute(query)}


def test_an_export_imported_into_an_empty_registry_gives_the_same_records(
    source: Database, exported: Path, target: Database
) -> None:
    report = run_import(
        target,
        exported / FILES["dictionary"],
        exported / FILES["records"],
        load(IDENTITY_FILE),
    )
    assert report.problems == []
    assert report.written
    assert _patients(target) == _patients(source)
    visits = _visits(source)
    assert len(visits) > 50
    assert _visits(target) == visits
    labs = _labs(source)
    assert labs and _labs(target) == labs
    assert report.created["patients"] == PATIENTS
    assert report.created["visits"] == len(visits)
    assert report.created["lab results"] == len(labs)
    with target.reads() as session:
        importers = set(
            session.scalars(select(User.id).where(User.email.startswith("redcap-import.")))
        )
        written_by = set(
            session.scalars(select(AuditEvent.user_id).where(AuditEvent.entity == "patients"))
        )
    assert written_by == importers and len(importers) == len(_sites(source))
    _the_timeline_says_imported(source, target)


def _the_timeline_says_imported(source: Database, target: Database) -> None:
    """The patient page's timeline starts with the import, not a registration on the import
    day after years of visits; a patient registered in the registry keeps "Registered"."""
    admin = Actor(uuid.uuid4(), "a@example.org", "Admin", Role.ADMIN, frozenset(), ())
    for database, expected in ((target, "Imported from REDCap ("), (source, "Registered")):
        with database.reads() as session:
            patient_id = session.scalars(select(Patient.id)).first()
            assert patient_id is not None
            timeline = course.load(session, admin, patient_id).timeline
        (entry,) = [item for item in timeline if item.kind == "registered"]
        assert entry.title.startswith(expected), entry.title


def _counts(database: Database) -> dict[str, int]:
    with database.reads() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


BAD = {
    "unknown field": ("bogus_field", "x"),
    "bad date": ("visit_date", "2021-02-30"),
    "bad choice code": ("sex", "7"),
    "out of range": ("pga", "4"),
}


def _bad_file(exported: Path, out: Path) -> tuple[Path, dict[str, tuple[int, str, str]]]:
    """The exported records with one bad cell (or event) per kind; each bad row's line,
    record and event."""
    records = rows(exported / FILES["records"])
    columns = [*records[0], "bogus_field"]
    registration = [
        i
        for i, row in enumerate(records)
        if row["redcap_event_name"] == "registration_arm_1" and not row["redcap_repeat_instrument"]
    ]
    visits = [i for i, row in enumerate(records) if row["visit_date"]]
    chosen = {
        "unknown field": visits[0],
        "bad date": visits[5],
        "bad choice code": registration[2],
        "out of range": visits[9],
        "unknown event": visits[12],
    }
    where = {}
    for kind, index in chosen.items():
        row = records[index]
        if kind == "unknown event":
            row["redcap_event_name"] = "month99_arm_1"
        else:
            field, value = BAD[kind]
            row[field] = value
        where[kind] = (index + 2, row["record_id"], row["redcap_event_name"])
    return write_rows(out / "bad_records.csv", records, columns), where


def test_a_file_with_bad_rows_changes_nothing_and_the_dry_run_names_each(
    exported: Path, target: Database, tmp_path: Path
) -> None:
    bad, where = _bad_file(exported, tmp_path)
    before = _counts(target)
    mapping = load(IDENTITY_FILE)
    dictionary = exported / FILES["dictionary"]
    report = run_import(target, dictionary, bad, mapping)
    assert not report.written
    assert _counts(target) == before
    dry = run_import(target, dictionary, bad, mapping, dry_run=True)
    assert _counts(target) == before
    found = {(p.line, p.record, p.event, p.field): p.reason for p in dry.problems}
    expected_fields = {
        "unknown field": "bogus_field",
        "bad date": "visit_date",
        "bad choice code": "sex",
        "out of range": "pga",
        "unknown event": "redcap_event_name",
    }
    for kind, (line, record, event) in where.items():
        key = (line, record, event, expected_fields[kind])
        assert key in found, (kind, dry.problems)
    assert "not a field of the data dictionary" in found[(*where["unknown field"], "bogus_field")]
    assert "YYYY-MM-DD" in found[(*where["bad date"], "visit_date")]
    assert "'7' is not a choice" in found[(*where["bad choice code"], "sex")]
    assert "out of range" in found[(*where["out of range"], "pga")]
    assert len(dry.problems) == len(where)
    assert {problem.field for problem in report.problems} == set(expected_fields.values())


def test_a_dry_run_of_a_good_file_counts_and_writes_nothing(
    exported: Path, target: Database
) -> None:
    before = _counts(target)
    report = run_import(
        target,
        exported / FILES["dictionary"],
        exported / FILES["records"],
        load(IDENTITY_FILE),
        dry_run=True,
    )
    assert report.problems == [] and not report.written
    assert report.created["patients"] == PATIENTS
    assert _counts(target) == before


def test_a_study_code_that_does_not_fit_the_site_is_refused(
    exported: Path, target: Database, tmp_path: Path
) -> None:
    records = rows(exported / FILES["records"])
    first = records[0]["record_id"]
    site = first.split("-")[0]
    renamed = f"{site}-0042"
    for row in records:
        if row["record_id"] == first:
            row["record_id"] = renamed
    path = write_rows(tmp_path / "renamed.csv", records)
    report = run_import(target, exported / FILES["dictionary"], path, load(IDENTITY_FILE))
    refused = [p for p in report.problems if p.record == renamed]
    assert refused and refused[0].field == "record_id"
    assert "does not fit site" in refused[0].reason
    assert not report.written


def test_dates_and_numbers_survive_exactly(exported: Path) -> None:
    records = rows(exported / FILES["records"])
    for row in records:
        if row["visit_date"]:
            dt.date.fromisoformat(row["visit_date"])
        if row["pga"]:
            assert Decimal(row["pga"]) <= 3 and "e" not in row["pga"].lower()


def test_a_csv_mapping_reads_as_the_same_mapping(tmp_path: Path) -> None:
    mapping = identity(default_protocol())
    lines = ["section,source,target", f"record_id,,{mapping.record_id}"]
    lines += [f"event,{name},{target}" for name, target in mapping.events.items()]
    lines += [f"repeating,{name},{target}" for name, target in mapping.repeating.items()]
    lines += [f"field,{name},{target}" for name, target in mapping.fields.items()]
    lines += [
        f"choice,{name}={code},{value}"
        for name, codes in mapping.choices.items()
        for code, value in codes.items()
    ]
    path = tmp_path / "mapping.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load(path) == mapping


def test_an_over_long_name_on_a_sites_first_record_is_refused_naming_it(
    exported: Path, target: Database, tmp_path: Path
) -> None:
    """The first record of a site is where the site's import account is added; a refusal there
    (a given name over its 100-character column, caught by the service) must still be one
    problem naming the field, with the site's later records checked and nothing written."""
    records = rows(exported / FILES["records"])
    first = min(row["record_id"] for row in records)
    line, row = next(
        (index + 2, row)
        for index, row in enumerate(records)
        if row["record_id"] == first and row["redcap_event_name"] == "registration_arm_1"
        and not row["redcap_repeat_instrument"]
    )  # fmt: skip
    row["given_name"] = "x" * 101
    path = write_rows(tmp_path / "long_name.csv", records)
    before = _counts(target)
    report = run_import(target, exported / FILES["dictionary"], path, load(IDENTITY_FILE))
    assert [(p.line, p.record, p.field) for p in report.problems] == [(line, first, "given_name")]
    assert "100 characters" in report.problems[0].reason
    assert report.created["patients"] == PATIENTS - 1
    assert not report.written
    assert _counts(target) == before
