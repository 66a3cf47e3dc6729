"""``lupus-msc import fhir BUNDLE.json [--dry-run]`` (issue 8) on a real SQLite registry, as a
subprocess: a Bundle of a visit's own results, sent back after the visit was cleared, is written
(or only reported with ``--dry-run``); a bad Bundle exits 2 naming the entry and field, with
nothing written."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lupus_msc.interop import fhir_observations
from lupus_msc.interop.fhir_common import STUDY_CODE_SYSTEM
from lupus_msc.services import visits
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.store.database import Database
from lupus_msc.store.models import AuditEvent, LabResult, Patient, Visit
from tests.cli_fixtures import count_rows, run_cli, seeded_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any], uuid.UUID]:
    """The registry's URL, a Bundle of one visit's results, and that visit (now cleared)."""
    url = seeded_registry(tmp_path_factory, "import", patients=4, seed=2)
    database = Database(url)
    with unit_of_work(database, None) as session:
        lab = session.scalars(select(LabResult).where(~LabResult.superseded).limit(1)).one()
        visit = session.get(Visit, lab.visit_id)
        patient = session.get(Patient, visit.patient_id) if visit else None
        assert visit is not None and patient is not None
        query = select(LabResult).where(LabResult.visit_id == visit.id, ~LabResult.superseded)
        entries = []
        for result in session.scalars(query):
            observation = fhir_observations.lab_observation(result, visit).model_dump(mode="json")
            observation["id"] = str(uuid.uuid4())
            observation["subject"] = {
                "identifier": {"system": STUDY_CODE_SYSTEM, "value": patient.study_code}
            }
            entries.append({"resource": observation})
        data = VisitIn.model_validate(
            {**visit.findings, "visit_date": visit.visit_date, "labs": [], "reason": "test"}
        )
        visits.write(session, visit, patient, data)
        visit_id = visit.id
    database.dispose()
    bundle = {"resourceType": "Bundle", "id": "feed-7", "type": "collection", "entry": entries}
    return url, bundle, visit_id


def run(command: list[str], url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(command, url, "import", "fhir", *args)


def counts(url: str, visit_id: uuid.UUID) -> tuple[int, int, int]:
    """Rows of lab_results, of the audit trail, and the visit's current results."""
    labs, audit = count_rows(url, LabResult, AuditEvent)
    database = Database(url)
    with database.reads() as session:
        current = select(func.count()).where(LabResult.visit_id == visit_id, ~LabResult.superseded)
        active = session.scalar(current) or 0
    database.dispose()
    return labs, audit, active


def write(path: Path, bundle: dict[str, Any]) -> str:
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return str(path)


def test_a_bad_bundle_exits_2_naming_entry_and_field_and_writes_nothing(
    lupus_msc_command: list[str],
    registry: tuple[str, dict[str, Any], uuid.UUID],
    tmp_path: Path,
) -> None:
    url, bundle, visit_id = registry
    bad = json.loads(json.dumps(bundle))
    bad["entry"][1]["resource"]["status"] = "preliminary"
    bad["entry"][2]["resource"]["valueQuantity"]["code"] = "kg"
    before = counts(url, visit_id)
    done = run(lupus_msc_command, url, write(tmp_path / "bad.json", bad))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0] == (
        "error: Bundle.entry[1].resource.status: preliminary results are not imported; "
        "only final, amended, corrected"
    )
    assert lines[1].startswith("error: Bundle.entry[2].resource.valueQuantity.code: kg is not")
    assert len(lines) == 2
    assert counts(url, visit_id) == before


def test_an_unreadable_file_exits_2(
    lupus_msc_command: list[str], registry: tuple[str, dict[str, Any], uuid.UUID], tmp_path: Path
) -> None:
    done = run(lupus_msc_command, registry[0], str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: BUNDLE: cannot read")


def test_a_dry_run_reports_and_the_import_writes(
    lupus_msc_command: list[str],
    registry: tuple[str, dict[str, Any], uuid.UUID],
    tmp_path: Path,
) -> None:
    url, bundle, visit_id = registry
    path = write(tmp_path / "bundle.json", bundle)
    sent = len(bundle["entry"])
    labs, audit, active = counts(url, visit_id)
    assert active == 0

    dry = run(lupus_msc_command, url, path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[-1] == (
        f"dry run: {sent} results for 1 patient would be written from FHIR Bundle feed-7; "
        "nothing was written"
    )
    assert counts(url, visit_id) == (labs, audit, 0)

    done = run(lupus_msc_command, url, path)
    assert done.returncode == 0, done.stderr
    assert f": {sent} added" in done.stdout.splitlines()[0]
    assert (
        done.stdout.splitlines()[-1]
        == f"wrote {sent} results for 1 patient from FHIR Bundle feed-7"
    )
    assert counts(url, visit_id)[0::2] == (labs + sent, sent)

    again = run(lupus_msc_command, url, path)
    assert f"{sent} already stored, skipped" in again.stdout
    assert again.stdout.splitlines()[-1] == "wrote 0 results for 1 patient from FHIR Bundle feed-7"
