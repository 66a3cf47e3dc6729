"""``lupus-msc synth load --patients N [--seed S]`` (DESIGN.md Interfaces; issue 5): a synthetic
cohort loaded through the services into the database named by LUPUS_MSC_DATABASE_URL, with a
summary on standard output and never a password."""

from __future__ import annotations

import itertools
import secrets
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from lupus_msc.cli import app
from lupus_msc.services import cohort_product
from lupus_msc.services.errors import Refused
from lupus_msc.store import audit
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient, User


@pytest.fixture
def database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "registry.sqlite3"
    monkeypatch.setenv("LUPUS_MSC_DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def known_passwords(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The staff's passwords, made recognisable so the output can be searched for them."""
    drawn: list[str] = []
    numbers = itertools.count(1)

    def token_urlsafe(_: int | None = None) -> str:
        drawn.append(f"secret-password-{next(numbers):04d}")
        return drawn[-1]

    monkeypatch.setattr(secrets, "token_urlsafe", token_urlsafe)  # cohort_staff draws them
    return drawn


def test_it_loads_the_cohort_and_prints_a_summary_without_passwords(
    database_file: Path, known_passwords: list[str]
) -> None:
    done = CliRunner().invoke(app, ["synth", "load", "--patients", "2", "--seed", "3"])
    assert done.exit_code == 0, done.output
    assert "loaded 2 synthetic patients (seed 3)" in done.output
    assert "s per patient" in done.output
    assert len(known_passwords) == 5
    assert not any(password in done.output for password in known_passwords)
    database = Database(f"sqlite:///{database_file}")
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 2
        assert session.scalar(select(func.count()).select_from(User)) == 5
        assert audit.verify(session).intact
    database.dispose()


def test_it_refuses_fewer_than_one_patient(database_file: Path) -> None:
    done = CliRunner().invoke(app, ["synth", "load", "--patients", "0"])
    assert done.exit_code == 2
    assert "Invalid value for '--patients'" in done.output
    assert not database_file.exists()


def test_a_refused_step_exits_2_naming_the_patient(
    database_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise Refused("lot: refused for the test")

    monkeypatch.setattr(cohort_product, "infuse", refuse)
    done = CliRunner().invoke(app, ["synth", "load", "--patients", "1"])
    assert done.exit_code == 2
    assert "error: synthetic patient S01-000001: lot: refused for the test" in done.output
