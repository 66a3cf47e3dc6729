"""The registry commands as a user runs them: init, site add, user add, audit verify, backup,
restore (real subprocesses over a real SQLite file)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

PASSWORD = "a long enough password\n"  # noqa: S105 - a test user


@pytest.fixture
def run(lupus_msc_command: list[str], tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(
        *args: str, database: str = "registry.sqlite3", stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "LUPUS_MSC_DATABASE_URL": f"sqlite:///{tmp_path / database}"}
        return subprocess.run(
            [*lupus_msc_command, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=environment,
            cwd=tmp_path,
            check=False,
            timeout=120,
        )

    return run


def test_init_user_add_and_an_intact_chain(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("init", "--site", "A01", "--site-name", "Alpha").returncode == 0
    added = run(
        "user",
        "add",
        "--email",
        "ann@example.org",
        "--name",
        "Ann",
        "--role",
        "admin",
        "--site",
        "A01",
        "--password-stdin",
        "--token",
        stdin=PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[-1].startswith("lmsc_")
    verified = run("audit", "verify")
    assert verified.returncode == 0 and "audit chain intact" in verified.stdout
    anchor = verified.stdout.split("anchor ")[1].strip()
    assert run("audit", "verify", "--anchor", anchor).returncode == 0


def test_audit_verify_names_the_first_broken_row(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", "--site", "A01", "--site-name", "Alpha")
    run("site", "add", "--code", "B01", "--name", "Beta")
    with sqlite3.connect(tmp_path / "registry.sqlite3") as connection:
        connection.execute("UPDATE audit_events SET reason = 'covered up' WHERE seq = 2")
    verified = run("audit", "verify")
    assert verified.returncode == 1
    assert "BROKEN at row 2" in verified.stderr


def test_an_anchor_catches_a_rewritten_history(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", "--site", "A01", "--site-name", "Alpha")
    anchor = run("audit", "verify").stdout.split("anchor ")[1].strip()
    seq = anchor.split(":")[0]
    with sqlite3.connect(tmp_path / "registry.sqlite3") as connection:
        connection.execute(f"UPDATE audit_events SET row_hash = 'x' WHERE seq = {seq}")  # noqa: S608
    assert run("audit", "verify", "--anchor", anchor).returncode == 1


def test_backup_and_restore_keep_an_intact_chain(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("init", "--site", "A01", "--site-name", "Alpha")
    backup = run("backup", "--out", str(tmp_path / "copy.bak"))
    assert backup.returncode == 0, backup.stderr
    again = run("backup", "--out", str(tmp_path / "copy.bak"))
    assert again.returncode == 2 and "error:" in again.stderr
    restored = run("restore", "--from", str(tmp_path / "copy.bak"), database="restored.sqlite3")
    assert restored.returncode == 0, restored.stderr
    assert "audit chain intact" in restored.stdout


def test_a_bad_site_code_is_refused_naming_the_field(run) -> None:  # type: ignore[no-untyped-def]
    refused = run("init", "--site", "lowercase")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: code:")
