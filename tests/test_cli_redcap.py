"""``lupus-msc export redcap`` and ``lupus-msc import redcap`` (issue 8) as subprocesses on real
SQLite registries: the export writes the five REDCap files; a de-identified export holds no
study code, name, record number or date of birth of any source patient anywhere in its text and
keeps no identifier column; the export imports back with the shipped identity mapping (dry run
first, writing nothing); a bad mapping or an unknown ``--site`` exits 2 naming the option."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from lupus_msc.interop.redcap_export import FILES
from lupus_msc.interop.redcap_mapping import IDENTITY_FILE
from lupus_msc.store.models import AuditEvent, Patient
from tests.cli_fixtures import (
    Identity,
    assert_no_identifier,
    count_rows,
    files_text,
    registry_fixtures,
    run_cli,
)

registry_url, identities = registry_fixtures("redcap", patients=20, seed=3)


def import_arguments(command: list[str], registry_url: str, out: Path) -> list[str]:
    """The registry exported as a REDCap project in ``out``; the import command's arguments."""
    exported = run_cli(command, registry_url, "export", "redcap", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    return [
        "import", "redcap", "--dictionary", str(out / FILES["dictionary"]),
        "--records", str(out / FILES["records"]), "--mapping", str(IDENTITY_FILE),
    ]  # fmt: skip


def test_export_writes_the_five_redcap_files(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    done = run_cli(lupus_msc_command, registry_url, "export", "redcap", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert {path.name for path in tmp_path.iterdir()} == set(FILES.values())
    assert "20 patients" in done.stdout


def test_a_deidentified_export_holds_no_identifier(
    lupus_msc_command: list[str],
    registry_url: str,
    identities: list[Identity],
    tmp_path: Path,
) -> None:
    done = run_cli(
        lupus_msc_command, registry_url, "export", "redcap", "--deidentify", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert_no_identifier(files_text(tmp_path), identities)
    with (tmp_path / FILES["records"]).open(newline="", encoding="utf-8") as stream:
        records = list(csv.DictReader(stream))
    assert not {"given_name", "family_name", "mrn", "dob"} & set(records[0])
    assert all(re.fullmatch(r"P-[A-Z2-7]{10}", row["record_id"]) for row in records)
    assert all(int(row["age_at_infusion"]) <= 90 for row in records if row["age_at_infusion"])


def test_an_export_imports_back_after_a_dry_run(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    arguments = import_arguments(lupus_msc_command, registry_url, tmp_path / "out")
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    for site in ("S01", "S02", "S03"):
        done = run_cli(lupus_msc_command, target, "site", "add", "--code", site, "--name", site)
        assert done.returncode == 0, done.stderr
    assert run_cli(lupus_msc_command, target, "init").returncode == 0
    before = count_rows(target, Patient, AuditEvent)
    dry = run_cli(lupus_msc_command, target, *arguments, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would create 20 patients" in dry.stdout
    assert count_rows(target, Patient, AuditEvent) == before
    done = run_cli(lupus_msc_command, target, *arguments)
    assert done.returncode == 0, done.stderr
    assert "imported 20 patients" in done.stdout
    patients, audit = count_rows(target, Patient, AuditEvent)
    assert patients == 20 and audit > before[1]


def test_a_bad_mapping_exits_2_naming_the_option(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text('{"record_id": "record_id", "fields": {"x": "patient.height"}}')
    done = run_cli(
        lupus_msc_command, registry_url, "import", "redcap", "--dictionary", "d.csv",
        "--records", "r.csv", "--mapping", str(mapping),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error: --mapping: fields.x: no registry field")


def test_an_unknown_site_exits_2_once_naming_the_option(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    """A mistyped ``--site`` is one error naming the option, not a problem on every record."""
    arguments = import_arguments(lupus_msc_command, registry_url, tmp_path / "out")
    before = count_rows(registry_url, Patient, AuditEvent)
    done = run_cli(lupus_msc_command, registry_url, *arguments, "--site", "S9", "--dry-run")
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: --site: no site S9 in the registry"]
    assert count_rows(registry_url, Patient, AuditEvent) == before
