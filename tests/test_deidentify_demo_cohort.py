"""De-identification on the demo cohort, in every export format (issue 8, "Done when").

The demo database is built exactly as ``lupus-msc demo`` builds it (``build_demo``: ~200 synthetic
patients at two sites, every pathway state, demo staff). Each export format is then run as a user
runs it, ``lupus-msc export <format> --deidentify``, and every file it writes is read as text
(Parquet as CSV). No direct identifier of any source patient may appear anywhere: study code,
given and family name (as whole words), medical record number, the registry's internal patient
id, and the chain-of-identity code of any lot infused into or allocated to a patient. The secret
keys themselves (the date offsets) never appear as a column either.

Dates of birth are checked record by record: a record (a CSV or NDJSON line, an ODM SubjectData,
a Dataset-JSON row) that carries a patient's pseudonym must not carry that patient's date of
birth. Checked over the whole text instead, a date of birth turns up by chance: with dates
shifted, some patient's shifted diagnosis date is another patient's birthday.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from lupus_msc.cli.demo import DEMO_PATIENTS, build_demo
from lupus_msc.store import models
from lupus_msc.store.database import Database

FORMATS = ("csv", "parquet", "sdtm", "odm", "redcap", "fhir")
PSEUDONYM = re.compile(r"P-[A-Z2-7]{10}")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    build_demo(url, DEMO_PATIENTS, 0)
    return url


@pytest.fixture(scope="module")
def identifiers(demo_url: str) -> list[re.Pattern[str]]:
    """One pattern per identifying value of the demo's patients and their lots."""
    database = Database(demo_url)
    with database.reads() as session:
        patients = list(session.scalars(select(models.Patient)))
        lots = session.scalars(
            select(models.Lot.code).where(models.Lot.allocated_patient_id.is_not(None))
        ).all()
        infused = session.scalars(
            select(models.Lot.code).join(
                models.InfusionLot, models.InfusionLot.lot_id == models.Lot.id
            )
        ).all()
    database.dispose()
    assert len(patients) >= DEMO_PATIENTS - 5 and infused
    exact = {*lots, *infused}
    words: set[str] = set()
    for patient in patients:
        exact |= {patient.study_code, patient.medical_record_number, str(patient.id)}
        words |= {patient.given_name, patient.family_name}
    patterns = [re.compile(re.escape(value)) for value in sorted(exact)]
    patterns += [re.compile(rf"\b{re.escape(word)}\b") for word in sorted(words)]
    return patterns


def _records(directory: Path) -> list[str]:
    """Every file's records as text: Dataset-JSON rows, lines of everything else (Parquet read
    as CSV; the ODM file holds one SubjectData per line)."""
    records: list[str] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            records += pl.read_parquet(path).write_csv().splitlines()
            continue
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else None
        if isinstance(document, dict) and isinstance(document.get("rows"), list):
            records += [json.dumps(row) for row in document["rows"]]
            records.append(json.dumps({k: v for k, v in document.items() if k != "rows"}))
        else:
            records += text.splitlines()
    return records


def _births(demo_url: str) -> dict[str, str]:
    """Pseudonym → date of birth, for every patient with a de-identification key."""
    database = Database(demo_url)
    with database.reads() as session:
        rows = session.execute(
            select(models.DeidentificationKey.pseudonym, models.Patient.date_of_birth).join(
                models.Patient, models.Patient.id == models.DeidentificationKey.patient_id
            )
        ).all()
    database.dispose()
    return {pseudonym: born.isoformat() for pseudonym, born in rows}


@pytest.mark.parametrize("kind", FORMATS)
def test_a_de_identified_export_of_the_demo_holds_no_identifier(
    kind: str,
    demo_url: str,
    identifiers: list[re.Pattern[str]],
    lupus_msc_command: list[str],
    tmp_path: Path,
) -> None:
    out = tmp_path / kind
    done = subprocess.run(
        [*lupus_msc_command, "export", kind, "--deidentify", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "LUPUS_MSC_DATABASE_URL": demo_url},
    )
    assert done.returncode == 0, done.stderr
    records = _records(out)
    text = "\n".join(records)
    assert len(text) > 10_000  # the export holds the cohort, not just headers
    found = [p.pattern for p in identifiers if p.search(text)]
    assert found == []
    assert not re.search(r"date_offset|offset_days", text, re.IGNORECASE)
    births = _births(demo_url)
    with_pseudonym = 0
    for record in records:
        for pseudonym in set(PSEUDONYM.findall(record)):
            with_pseudonym += 1
            assert births[pseudonym] not in record, (pseudonym, record[:200])
    assert with_pseudonym >= len(births) // 2  # patients are found by their pseudonyms
