"""REDCap round trip of the demo database (issue 8, "Done when"): the demo registry, built as
``lupus-msc demo`` builds it (``build_demo``: about 200 synthetic patients at two sites, in every
pathway state), is exported as a REDCap project and imported back, with the identity mapping we
ship, into an empty registry holding only the protocol and the sites (as ``lupus-msc init`` and
``lupus-msc site add`` leave it). The same patients, recorded visits with their scores, and
current lab results must come back; a records file with bad rows must change nothing, and its
dry run must name every bad row. The comparisons are those of ``test_redcap`` (its seeded
20-patient registry runs on both backends; the demo is SQLite, as ``make demo`` builds it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lupus_msc.cli.demo import DEMO_PATIENTS, build_demo
from lupus_msc.interop.redcap_export import FILES
from lupus_msc.interop.redcap_import import run_import
from lupus_msc.interop.redcap_mapping import IDENTITY_FILE, load
from lupus_msc.store.database import Database
from tests.interop.test_redcap import (
    _bad_file,
    _counts,
    _labs,
    _patients,
    _visits,
    empty_registry,
    export_project,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    build_demo(url, DEMO_PATIENTS, 0)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def exported(demo: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_project(demo, tmp_path_factory.mktemp("demo-redcap"))


@pytest.fixture
def target(demo: Database, tmp_path: Path) -> Iterator[Database]:
    database = empty_registry(f"sqlite:///{tmp_path / 'target.sqlite3'}", demo)
    yield database
    database.dispose()


def test_the_demo_exported_to_redcap_comes_back_the_same(
    demo: Database, exported: Path, target: Database
) -> None:
    report = run_import(
        target, exported / FILES["dictionary"], exported / FILES["records"], load(IDENTITY_FILE)
    )
    assert report.problems == [] and report.written
    patients = _patients(demo)
    assert len(patients) >= DEMO_PATIENTS - 5
    assert _patients(target) == patients
    visits = _visits(demo)
    assert len(visits) > 500
    assert _visits(target) == visits
    labs = _labs(demo)
    assert len(labs) > 5_000
    assert _labs(target) == labs
    assert report.created["patients"] == len(patients)
    assert report.created["visits"] == len(visits)
    assert report.created["lab results"] == len(labs)


def test_a_demo_file_with_bad_rows_changes_nothing_and_the_dry_run_names_each(
    exported: Path, target: Database, tmp_path: Path
) -> None:
    bad, where = _bad_file(exported, tmp_path)
    before = _counts(target)
    arguments = (target, exported / FILES["dictionary"], bad, load(IDENTITY_FILE))
    report = run_import(*arguments)
    assert not report.written and _counts(target) == before
    dry = run_import(*arguments, dry_run=True)
    assert _counts(target) == before
    found = {(p.line, p.record, p.event) for p in dry.problems}
    assert set(where.values()) <= found
    assert len(dry.problems) == len(where)
