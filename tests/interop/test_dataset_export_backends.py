"""The export's read and pipeline on SQLite and PostgreSQL.

``export_batches``: batches read ahead (two at once on PostgreSQL) must give the files of one
batch of every patient, and what ``dataset.build`` gives in one go. ``read_visits``: on
PostgreSQL the parts of each visit's documents are split out once (``json_to_record``) rather
than by one ``->`` per part; both must give what the registry stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import String, cast, select

from lupus_msc.analytics import registry_extract
from lupus_msc.analytics.dataset import FRAMES, build
from lupus_msc.analytics.registry_extract import read_registry, read_visits
from lupus_msc.clinical import facit_f, sledai2k
from lupus_msc.interop import dataset_export
from lupus_msc.interop.dataset_export import export_batches
from lupus_msc.store.database import Database
from lupus_msc.store.models import Visit
from tests.registry_fixtures import database_url, loaded_cohort  # noqa: F401 - the backend fixture

PATIENTS = 12
SEED = 5
CUT_OFF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[Database]:  # noqa: F811
    yield from loaded_cohort(database_url, PATIENTS, SEED)


def test_postgresql_reads_two_batches_ahead_and_sqlite_one(loaded: Database) -> None:
    expected = 2 if loaded.engine.dialect.name == "postgresql" else 1
    assert dataset_export._readers(loaded) == expected


@pytest.mark.parametrize("dates", [None, "days"])
def test_batches_read_ahead_give_the_files_of_one_batch(
    loaded: Database, tmp_path: Path, dates: dataset_export.Dates | None
) -> None:
    outs = {size: tmp_path / f"batch-{size}" for size in (2, 1000)}
    for size, out in outs.items():
        export_batches(
            loaded, out, "parquet", cut_off=CUT_OFF, dates=dates, sites=[], batch_size=size
        )
    small, single = outs[2], outs[1000]
    for name in FRAMES:
        written = pl.read_parquet(small / f"{name}.parquet")
        assert written.height > 0, name
        assert written.equals(pl.read_parquet(single / f"{name}.parquet")), name
    assert (small / "dataset.json").read_bytes() == (single / "dataset.json").read_bytes()


def test_the_identified_files_are_the_dataset_built_in_one_go(
    loaded: Database, tmp_path: Path
) -> None:
    export_batches(loaded, tmp_path, "parquet", cut_off=CUT_OFF, dates=None, sites=[], batch_size=3)
    with loaded.reads() as session:
        whole = build(read_registry(session), CUT_OFF)
    by_patient = {"patients": ["patient_id"], "visits": ["patient_id", "visit_date"]}
    for name in FRAMES:
        written = pl.read_parquet(tmp_path / f"{name}.parquet")
        expected = getattr(whole, name)
        keys = by_patient.get(name)
        if keys:
            written, expected = written.sort(keys), expected.sort(keys)
        assert written.height == expected.height > 0, name
        if keys:
            assert written.equals(expected), name


def _by_visit(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("pid", "visit_code")


def test_the_parts_equal_those_read_one_key_at_a_time(
    loaded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with loaded.reads() as session:
        read = _by_visit(read_visits(session))
    monkeypatch.setattr(
        registry_extract,
        "_documents",
        lambda session: (Visit.findings, Visit.scores, Visit.__table__),
    )
    with loaded.reads() as session:
        one_key_at_a_time = _by_visit(read_visits(session))
    assert read.height > PATIENTS
    assert read.equals(one_key_at_a_time)


def _stored(loaded: Database) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """Each visit read as its documents, by the patient id's text (as ``read_visits`` has it)
    and the visit code."""
    with loaded.reads() as session:
        return {
            (pid, visit.code): (visit.findings, visit.scores)
            for pid, visit in session.execute(
                select(cast(Visit.patient_id, String), Visit).where(
                    Visit.visit_date.is_not(None),
                    Visit.study_day <= registry_extract.HORIZON_DAYS,
                )
            )
        }


def test_descriptors_answers_and_egfr_are_the_stored_values(loaded: Database) -> None:
    stored = _stored(loaded)
    with loaded.reads() as session:
        read = read_visits(session)
    assert read.height == len(stored)
    seen = {"sledai2k": 0, "facit_f": 0, "egfr": 0}
    for row in read.iter_rows(named=True):
        findings, scores = stored[(row["pid"], row["visit_code"])]
        descriptors = findings.get("sledai2k")
        if descriptors:
            for descriptor in sledai2k.DESCRIPTORS:
                assert row["findings"]["sledai2k"][descriptor.key] == descriptors.get(
                    descriptor.key
                )
            seen["sledai2k"] += 1
        answers = findings.get("facit_f")
        if answers:
            for item in facit_f.ITEMS:
                assert row["findings"]["facit_f"][item] == answers.get(item)
            seen["facit_f"] += 1
        egfr = scores.get("egfr")
        if egfr:
            expected = egfr.get("egfr_cr")  # a Decimal as the registry decodes JSON numbers
            assert row["scores"]["egfr"]["egfr_cr"] == (
                None if expected is None else float(expected)
            )
            seen["egfr"] += 1
        else:
            assert row["scores"]["egfr"] is None
    assert all(seen.values()), seen
