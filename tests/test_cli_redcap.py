"""``lupus-msc export redcap`` and ``lupus-msc import redcap`` (issue 8) as subprocesses on real
SQLite registries: the export writes the five REDCap files; a de-identified export holds no
study code, name, record number or date of birth of any source patient anywhere in its text and
keeps no identifier column; the export imports back with the shipped identity mapping (dry run
first, writing nothing), and a bad mapping exits 2 naming the option."""

# ruff: noqa: F811 - the shared fixtures are imported from tests.test_cli_export
from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from lupus_msc.interop.redcap_export import FILES
from lupus_msc.interop.redcap_mapping import IDENTITY_FILE
from lupus_msc.store.database import Database
from lupus_msc.store.models import AuditEvent, Patient
from tests.test_cli_export import identities, registry_url  # noqa: F401 - shared fixtures


def run(command: list[str], url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "LUPUS_MSC_DATABASE_URL": url},
    )


def test_export_writes_the_five_redcap_files(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    done = run(lupus_msc_command, registry_url, "export", "redcap", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert {path.name for path in tmp_path.iterdir()} == set(FILES.values())
    assert "20 patients" in done.stdout


def test_a_deidentified_export_holds_no_identifier(
    lupus_msc_command: list[str],
    registry_url: str,
    identities: list[tuple[str, str, str, str, str]],
    tmp_path: Path,
) -> None:
    done = run(
        lupus_msc_command, registry_url, "export", "redcap", "--deidentify", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(tmp_path.iterdir()))
    for code, given, family, mrn, born in identities:
        assert code not in text
        assert mrn not in text
        assert born not in text
        for name in (given, family):
            assert not re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE), name
    with (tmp_path / FILES["records"]).open(newline="", encoding="utf-8") as stream:
        records = list(csv.DictReader(stream))
    assert not {"given_name", "family_name", "mrn", "dob"} & set(records[0])
    assert all(re.fullmatch(r"P-[A-Z2-7]{10}", row["record_id"]) for row in records)
    assert all(int(row["age_at_infusion"]) <= 90 for row in records if row["age_at_infusion"])


def _counts(url: str) -> tuple[int, int]:
    database = Database(url)
    with database.reads() as session:
        patients = session.scalar(select(func.count()).select_from(Patient)) or 0
        audit = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    database.dispose()
    return patients, audit


def test_an_export_imports_back_after_a_dry_run(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert (
        run(lupus_msc_command, registry_url, "export", "redcap", "--out", str(out)).returncode == 0
    )
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    for site in ("S01", "S02", "S03"):
        done = run(lupus_msc_command, target, "site", "add", "--code", site, "--name", site)
        assert done.returncode == 0, done.stderr
    assert run(lupus_msc_command, target, "init").returncode == 0
    arguments = [
        "import", "redcap", "--dictionary", str(out / FILES["dictionary"]),
        "--records", str(out / FILES["records"]), "--mapping", str(IDENTITY_FILE),
    ]  # fmt: skip
    before = _counts(target)
    dry = run(lupus_msc_command, target, *arguments, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would create 20 patients" in dry.stdout
    assert _counts(target) == before
    done = run(lupus_msc_command, target, *arguments)
    assert done.returncode == 0, done.stderr
    assert "imported 20 patients" in done.stdout
    patients, audit = _counts(target)
    assert patients == 20 and audit > before[1]


def test_a_bad_mapping_exits_2_naming_the_option(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text('{"record_id": "record_id", "fields": {"x": "patient.height"}}')
    done = run(
        lupus_msc_command, registry_url, "import", "redcap", "--dictionary", "d.csv",
        "--records", "r.csv", "--mapping", str(mapping),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: --mapping: fields.x: no registry field")
