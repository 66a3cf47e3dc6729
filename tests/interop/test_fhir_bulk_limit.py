"""``export_ndjson(..., limit=N)``: only the first N patients by study code (for the benchmark)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lupus_msc.interop.fhir_bulk import export_ndjson, patients_of
from lupus_msc.services.cohort_loader import load
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient
from tests.registry_fixtures import database_url  # noqa: F401 - the backend fixture

PATIENTS = 5
LIMIT = 3


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[Database]:  # noqa: F811
    database = Database(database_url)
    database.upgrade()
    load(database, PATIENTS, seed=5)
    yield database
    database.dispose()


def _by_study_code(database: Database) -> list[str]:
    with database.reads() as session:
        rows = session.execute(select(Patient.study_code, Patient.id)).all()
    return [str(pid) for _, pid in sorted(rows)]


def test_without_a_limit_every_patient_is_listed(loaded: Database) -> None:
    assert [str(pid) for pid in patients_of(loaded, None)] == _by_study_code(loaded)


def test_the_limit_keeps_the_first_patients_by_study_code(loaded: Database, tmp_path: Path) -> None:
    result = export_ndjson(loaded, None, tmp_path, types=["Patient", "Encounter"], limit=LIMIT)
    lines = (tmp_path / "Patient.ndjson").read_text("utf-8").splitlines()
    assert result.patients == LIMIT
    assert [json.loads(line)["id"] for line in lines] == _by_study_code(loaded)[:LIMIT]
    first = set(_by_study_code(loaded)[:LIMIT])
    for line in (tmp_path / "Encounter.ndjson").read_text("utf-8").splitlines():
        subject = json.loads(line)["subject"]["reference"]
        assert subject.removeprefix("Patient/") in first
