"""The bulk export's fast path writes what the R4B models would (issue 8, performance).

``export_ndjson`` validates each resource's ``fhir_common.Draft`` with its R4B model and writes
the Draft's JSON form instead of dumping the model, and builds batches in worker processes. For
a seeded cohort every written line must be, byte for byte, the R4B model's dump of the resource
parsed from that line (so key order and number types too: ``30`` is not ``30.0``), and the same
as the model path (``fhir_records.resources`` + ``model_dump`` + ``deidentify``, what the
export wrote before); worker processes must not change a byte either.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.encounter import Encounter
from sqlalchemy import select

from lupus_msc.analytics.dataset import build
from lupus_msc.analytics.registry_extract import read_registry
from lupus_msc.interop import fhir_bulk, fhir_records
from lupus_msc.interop.deidentify import deidentify_dataset
from lupus_msc.interop.fhir_bulk import export_ndjson, patients_of
from lupus_msc.interop.fhir_common import Draft, quantity
from lupus_msc.interop.fhir_deidentify import deidentify
from lupus_msc.interop.fhir_view import fhir_keys, research_studies
from lupus_msc.interop.progress import Cancelled
from lupus_msc.services.deidentification import keys_for
from lupus_msc.services.fields import today
from lupus_msc.store.database import Database
from lupus_msc.store.models import DeidentificationKey, Infusion, Patient
from tests.registry_fixtures import database_url, loaded_cohort  # noqa: F401 - the backend fixture

PATIENTS = 6
SEED = 11


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[Database]:  # noqa: F811
    yield from loaded_cohort(database_url, PATIENTS, SEED)


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def _model(kind: str) -> Any:
    return getattr(importlib.import_module(f"fhir.resources.R4B.{kind.lower()}"), kind)


def _dumped(resource: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _lines(out: Path) -> dict[str, list[str]]:
    return {
        path.stem: path.read_text("utf-8").splitlines() for path in sorted(out.glob("*.ndjson"))
    }


def _model_path(database: Database, private: bool, batch: int) -> dict[str, list[str]]:
    """What the export wrote before the fast path: R4B models, dumped, then de-identified."""
    ids = patients_of(database, None)
    lines: dict[str, list[str]] = {
        "ResearchStudy": [_line(s) for s in research_studies(database, None)]
    }
    for start in range(0, len(ids), batch):
        with database.reads() as session:
            records = fhir_records.read(session, ids[start : start + batch])
        keys = fhir_keys(database, None, records.patients) if private else None
        for patient_id, resource in fhir_records.resources(records):
            data = _dumped(resource)
            if keys is not None:
                data = deidentify(data, keys[patient_id])
            lines.setdefault(resource.get_resource_type(), []).append(_line(data))
    return lines


@pytest.mark.parametrize("private", [False, True], ids=["identified", "de-identified"])
def test_every_line_is_the_r4b_dump_of_the_resource_it_holds(
    loaded: Database, tmp_path: Path, private: bool
) -> None:
    export_ndjson(loaded, None, tmp_path, deidentify_all=private, workers=1)
    written = _lines(tmp_path)
    assert set(written) == set(fhir_records.TYPES)
    for kind, lines in written.items():
        for line in lines:
            assert _line(_dumped(_model(kind).model_validate(json.loads(line)))) == line


@pytest.mark.parametrize("private", [False, True], ids=["identified", "de-identified"])
def test_the_fast_path_writes_what_the_model_path_wrote(
    loaded: Database, tmp_path: Path, private: bool
) -> None:
    export_ndjson(loaded, None, tmp_path, deidentify_all=private, batch=4, workers=1)
    assert _lines(tmp_path) == _model_path(loaded, private, batch=4)


AGE_URL = "https://lupus-msc.org/fhir/StructureDefinition/age-at-first-infusion"


def _registry_ages(database: Database) -> dict[str, int | None]:
    """Pseudonym → completed years on the first infusion day, by hand from the registry."""
    with database.reads() as session:
        born = {pid: day for pid, day in session.execute(select(Patient.id, Patient.date_of_birth))}
        pseudonyms = select(DeidentificationKey.patient_id, DeidentificationKey.pseudonym)
        pseudonym = {pid: name for pid, name in session.execute(pseudonyms)}
        first: dict[uuid.UUID, dt.date] = {}
        for pid, started in session.execute(select(Infusion.patient_id, Infusion.started_at)):
            first[pid] = min(started.date(), first.get(pid, started.date()))
    ages: dict[str, int | None] = {pseudonym[pid]: None for pid in born}
    for pid, day in first.items():
        birthday_ahead = (day.month, day.day) < (born[pid].month, born[pid].day)
        ages[pseudonym[pid]] = day.year - born[pid].year - birthday_ahead
    return ages


def test_the_de_identified_patient_carries_the_age_the_tabular_export_gives(
    loaded: Database, tmp_path: Path
) -> None:
    """Same age, same reference (the first infusion) as the CSV/Parquet export's ``age_years``;
    a patient never infused has none (the cohort has ages 18–70: over 89 is
    test_fhir_deidentify's)."""
    export_ndjson(loaded, None, tmp_path, deidentify_all=True, workers=1)
    patients = [json.loads(line) for line in _lines(tmp_path)["Patient"]]
    by_hand = _registry_ages(loaded)
    with loaded.reads() as session:
        dataset = build(read_registry(session), today())
    tabular = deidentify_dataset(dataset, keys_for(loaded, None, dataset.patients["patient_id"]))
    age_years = dict(tabular.patients.select("patient_id", "age_years").iter_rows())
    sent = {}
    for patient in patients:
        ages = [e["valueAge"] for e in patient.get("extension", []) if e["url"] == AGE_URL]
        sent[patient["id"]] = ages[0]["value"] if ages else None
        assert len(ages) <= 1 and "birthDate" not in patient
        if ages:
            assert ages[0] == {
                "value": ages[0]["value"],
                "unit": "a",
                "system": "http://unitsofmeasure.org",
                "code": "a",
            }
    assert sent == by_hand
    assert any(age is not None for age in sent.values())
    assert {p: str(sent[p]) for p in age_years} == age_years


def test_worker_processes_write_the_same_bytes_in_patient_order(
    loaded: Database, tmp_path: Path
) -> None:
    progress: list[tuple[int, int]] = []
    alone = export_ndjson(loaded, None, tmp_path / "one", deidentify_all=True, batch=2, workers=1)
    pooled = export_ndjson(
        loaded,
        None,
        tmp_path / "two",
        deidentify_all=True,
        batch=2,
        workers=2,
        on_batch=lambda done, total: progress.append((done, total)),
    )
    assert pooled.counts == alone.counts
    assert list(pooled.files) == list(alone.files)
    for kind, path in alone.files.items():
        assert pooled.files[kind].read_bytes() == path.read_bytes()
    assert progress == [(2, PATIENTS), (4, PATIENTS), (6, PATIENTS)]


def test_a_process_running_threads_spawns_its_workers(
    loaded: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web server runs exports in a thread: there the workers are spawned, not forked."""
    methods: list[str | None] = []
    get_context = multiprocessing.get_context

    def spy(method: str | None = None) -> Any:
        methods.append(method)
        return get_context(method)

    monkeypatch.setattr(fhir_bulk.multiprocessing, "get_context", spy)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        pooled = export_ndjson(loaded, None, tmp_path / "two", batch=3, workers=2)
    finally:
        release.set()
        other.join()
    alone = export_ndjson(loaded, None, tmp_path / "one", batch=3, workers=1)
    assert methods == ["spawn"]
    for kind, path in alone.files.items():
        assert pooled.files[kind].read_bytes() == path.read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_cancelled_export_stops_between_batches(
    loaded: Database, tmp_path: Path, workers: int
) -> None:
    progress: list[int] = []
    with pytest.raises(Cancelled):
        export_ndjson(
            loaded,
            None,
            tmp_path,
            batch=2,
            workers=workers,
            on_batch=lambda done, _total: progress.append(done),
            cancelled=lambda: bool(progress),
        )
    assert progress == [2]


def test_a_draft_names_elements_as_json_does() -> None:
    with pytest.raises(ValueError, match="class_fhir"):
        Draft(Encounter, id=str(uuid.uuid4()), status="finished", class_fhir={"code": "AMB"})


def test_quantities_that_are_equal_decimals_keep_their_own_spelling() -> None:
    assert _line(quantity(Decimal("30"), "mg").json) != _line(quantity(Decimal("30.0"), "mg").json)
    assert quantity(Decimal("30"), "mg").json["value"] == 30
    assert isinstance(quantity(Decimal("30.0"), "mg").json["value"], float)
