"""``lupus-msc report outcomes|safety|dataset`` (issue 7) on a real registry, as a subprocess.

A seeded cohort is loaded through the services into a SQLite registry; the commands must write
the files they name, from the registry or from an exported analysis dataset, with the same
numbers either way, and refuse bad options with exit code 2 and a message naming the option.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest

from lupus_msc.analytics.dataset import AnalysisDataset, build
from lupus_msc.analytics.registry_extract import read_registry
from lupus_msc.store.database import Database
from tests.cli_fixtures import run_cli, seeded_registry

AS_OF = "2026-06-30"


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_registry(tmp_path_factory, "report", patients=12, seed=3)


def run(command: list[str], url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(command, url, "report", *args)


@pytest.fixture(scope="module")
def exported(
    lupus_msc_command: list[str], registry_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    directory = tmp_path_factory.mktemp("dataset")
    done = run(
        lupus_msc_command, registry_url, "dataset", "--out", str(directory), "--as-of", AS_OF
    )
    assert done.returncode == 0, done.stderr
    return directory


def test_the_dataset_export_is_the_dataset_built_from_the_registry(
    registry_url: str, exported: Path
) -> None:
    import datetime as dt

    database = Database(registry_url)
    with database.reads() as session:
        built = build(read_registry(session), dt.date.fromisoformat(AS_OF))
    database.dispose()
    read = AnalysisDataset.read(exported)
    assert read.as_of == built.as_of
    assert read.patients.equals(built.patients)
    assert read.visits.equals(built.visits)
    assert read.adverse_events.equals(built.adverse_events)


def test_a_csv_export_writes_the_three_tables(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    done = run(
        lupus_msc_command, registry_url, "dataset", "--out", str(tmp_path), "--format", "csv"
    )
    assert done.returncode == 0, done.stderr
    visits = pl.read_csv(tmp_path / "visits.csv")
    assert "lldas" in visits.columns and visits.height > 0


@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_the_outcomes_report_is_written_from_the_registry(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / f"outcomes.{kind}"
    done = run(
        lupus_msc_command, registry_url, "outcomes", "--format", kind, "--out", str(out),
        "--as-of", AS_OF,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"→ {out}" in done.stdout
    head = out.read_bytes()[:5]
    assert head == (b"%PDF-" if kind == "pdf" else b"<!DOC")


def test_the_report_from_the_export_equals_the_report_from_the_registry(
    lupus_msc_command: list[str], registry_url: str, exported: Path, tmp_path: Path
) -> None:
    direct, from_export = tmp_path / "direct.html", tmp_path / "export.html"
    assert (
        run(
            lupus_msc_command, registry_url, "outcomes", "--out", str(direct), "--as-of", AS_OF
        ).returncode
        == 0
    )
    done = run(
        lupus_msc_command, registry_url, "outcomes", "--dataset", str(exported),
        "--out", str(from_export),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert direct.read_text() == from_export.read_text()


def test_the_safety_report_and_a_site_filter(
    lupus_msc_command: list[str], registry_url: str, exported: Path, tmp_path: Path
) -> None:
    sites = AnalysisDataset.read(exported).patients["site"].unique().sort().to_list()
    out = tmp_path / "safety.html"
    done = run(
        lupus_msc_command, registry_url, "safety", "--dataset", str(exported),
        "--site", sites[0], "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert f"site {sites[0]}" in page
    assert "Serious adverse events and deaths" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("outcomes", "--as-of", "30/06/2026"), "--as-of: '30/06/2026' is not a date"),
        (("outcomes", "--from", "2026-02-01", "--to", "2026-01-01"), "--from/--to"),
        (("outcomes", "--site", "NOWHERE"), "cohort: no infused patient"),
        (("outcomes", "--dataset", "/nonexistent"), "--dataset:"),
        (("safety", "--format", "docx"), "docx"),
    ],
)
def test_bad_options_are_refused_naming_the_option(
    lupus_msc_command: list[str],
    registry_url: str,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    out = tmp_path / "report.out"
    done = run(lupus_msc_command, registry_url, *args, "--out", str(out))
    assert done.returncode == 2
    assert message in done.stderr
    assert not out.exists()


def _own_rows(path: Path, **changes: str) -> Path:
    """A user's evidence file: one shipped MSC row under a new study id, changed as given."""
    import csv

    from lupus_msc.analytics.evidence_table import columns, published_studies

    row = next(r for r in published_studies() if r["study_id"] == "kamen2022")
    row.update(study_id="own2026", first_author="Own A", year="2026", **changes)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns(), extrasaction="ignore")
        writer.writeheader()
        writer.writerow(row)
    return path


def test_users_own_study_rows_join_the_comparison(
    lupus_msc_command: list[str], registry_url: str, exported: Path, tmp_path: Path
) -> None:
    own = _own_rows(tmp_path / "own.csv", n_any_response="11", response_denominator="20")
    out = tmp_path / "outcomes.html"
    done = run(
        lupus_msc_command, registry_url, "outcomes", "--dataset", str(exported),
        "--evidence", str(own), "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "Own A 2026" in page and "11/20 (55%)" in page
    assert "Pooled, random effects (k = 5)" in page


def test_a_users_study_file_without_sources_is_refused(
    lupus_msc_command: list[str], registry_url: str, exported: Path, tmp_path: Path
) -> None:
    own = _own_rows(tmp_path / "own.csv", sources="")
    out = tmp_path / "outcomes.html"
    done = run(
        lupus_msc_command, registry_url, "outcomes", "--dataset", str(exported),
        "--evidence", str(own), "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 2
    assert "--evidence: own.csv line 2: sources is empty" in done.stderr
    assert not out.exists()
