"""``lupus-msc export sdtm|odm`` (issue 8) on a real registry, as a subprocess.

A seeded cohort is loaded through the services into SQLite. Each format writes its files; a
de-identified export holds no study code, name, record number or date of birth of any source
patient anywhere in its text; with ``--dates days`` no calendar date of a patient is left at all,
and with ``--dates shift`` every date of a record is the identified record's date moved by a
non-zero offset, the same for all of a patient's records. Bad options exit 2 naming the option,
with nothing written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from lupus_msc.store.database import Database
from lupus_msc.store.models import DeidentificationKey, Patient
from tests.cli_fixtures import (
    Identity,
    assert_no_identifier,
    files_text,
    registry_fixtures,
    run_cli,
)

AS_OF = "2026-06-30"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
METADATA_DATES = ("datasetJSONCreationDateTime", "CreationDateTime", "FileOID")

registry_url, identities = registry_fixtures("cdisc", patients=12, seed=5)


def run(command: list[str], url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(command, url, "export", *args)


def _rows(out: Path, name: str) -> list[dict[str, object]]:
    document = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    names = [column["name"] for column in document["columns"]]
    return [dict(zip(names, row, strict=True)) for row in document["rows"]]


@pytest.mark.parametrize(
    ("kind", "files"),
    [
        ("sdtm", {f"{d}.{e}" for d in ("dm", "ae", "cm", "ex", "lb", "vs", "qs", "rs")
                  for e in ("json", "csv")} | {"define.json"}),
        ("odm", {"odm.xml"}),
    ],
)  # fmt: skip
def test_each_format_writes_its_files(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path, kind: str, files: set[str]
) -> None:
    done = run(lupus_msc_command, registry_url, kind, "--out", str(tmp_path), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert {path.name for path in tmp_path.iterdir()} == files
    assert "12 patients" in done.stdout


def _no_identifier(text: str, identities: list[Identity]) -> None:
    assert "P-" in text
    assert_no_identifier(text, identities)


@pytest.mark.parametrize("kind", ["sdtm", "odm"])
def test_days_leaves_no_identifier_and_no_calendar_date(
    lupus_msc_command: list[str],
    registry_url: str,
    identities: list[Identity],
    tmp_path: Path,
    kind: str,
) -> None:
    args = (kind, "--deidentify", "--dates", "days", "--out", str(tmp_path))
    done = run(lupus_msc_command, registry_url, *args)
    assert done.returncode == 0, done.stderr
    text = files_text(tmp_path)
    _no_identifier(text, identities)
    for line in text.splitlines():
        if not any(key in line for key in METADATA_DATES):
            assert not ISO_DATE.search(line), line
    if kind == "sdtm":
        assert any(row["LBDY"] is not None for row in _rows(tmp_path, "lb"))


def _keys(url: str) -> dict[str, tuple[str, int]]:
    """Pseudonym → (study code, offset in days), read from the registry's key table."""
    database = Database(url)
    with database.reads() as session:
        query = select(
            DeidentificationKey.pseudonym, Patient.study_code, DeidentificationKey.date_offset_days
        ).join(Patient, Patient.id == DeidentificationKey.patient_id)
        found = {pseudonym: (code, days) for pseudonym, code, days in session.execute(query)}
    database.dispose()
    return found


def _moved(value: object, days: int) -> str:
    day, separator, time = str(value).partition("T")
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat() + separator + time


DATES = {
    "dm": ("RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC", "RFICDTC"),
    "ae": ("AESTDTC", "AEENDTC"),
    "cm": ("CMSTDTC", "CMENDTC"),
    "ex": ("EXSTDTC", "EXENDTC"),
    "lb": ("LBDTC",),
    "rs": ("RSDTC",),
}


def test_shift_moves_every_date_of_a_patient_by_their_offset(
    lupus_msc_command: list[str],
    registry_url: str,
    identities: list[Identity],
    tmp_path: Path,
) -> None:
    plain, private = tmp_path / "plain", tmp_path / "private"
    for out, extra in ((plain, ()), (private, ("--deidentify",))):
        done = run(lupus_msc_command, registry_url, "sdtm", *extra, "--out", str(out))
        assert done.returncode == 0, done.stderr
    _no_identifier(files_text(private), identities)
    keys = _keys(registry_url)
    for name, dates in DATES.items():
        seq = "SUBJID" if name == "dm" else f"{name.upper()}SEQ"
        source = {(r["USUBJID"], r[seq]): r for r in _rows(plain, name)}
        rows = _rows(private, name)
        assert len(rows) == len(source) > 0
        for row in rows:
            studyid, pseudonym = str(row["USUBJID"]).split("-P-")
            code, days = keys[f"P-{pseudonym}"]
            assert days != 0
            key = (f"{studyid}-{code}", code if name == "dm" else row[seq])
            original = source[key]
            for variable in dates:
                if original[variable] is None:
                    assert row[variable] is None
                else:
                    assert row[variable] == _moved(original[variable], days), variable
            if name == "dm":
                assert row["BRTHDTC"] is None and original["BRTHDTC"] is not None
                assert row["SUBJID"] == f"P-{pseudonym}"
                assert row["AGE"] == original["AGE"]  # the seeded cohort has no one over 89


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--dates", "days"), "--dates"),
        (("--as-of", "30/06/2026"), "--as-of"),
        (("--site", "NOPE"), "--site"),
        (("--dates", "weeks", "--deidentify"), "--dates"),
    ],
)
@pytest.mark.parametrize("kind", ["sdtm", "odm"])
def test_a_bad_option_exits_2_naming_it_and_writes_nothing(
    lupus_msc_command: list[str],
    registry_url: str,
    tmp_path: Path,
    kind: str,
    args: tuple[str, ...],
    option: str,
) -> None:
    out = tmp_path / "out"
    done = run(lupus_msc_command, registry_url, kind, "--out", str(out), *args)
    assert done.returncode == 2
    assert option in done.stderr
    assert not out.exists()


def test_out_must_be_a_directory(
    lupus_msc_command: list[str], registry_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    done = run(lupus_msc_command, registry_url, "odm", "--out", str(target))
    assert done.returncode == 2 and "--out" in done.stderr
    assert target.read_text() == "x"
