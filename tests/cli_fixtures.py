"""Shared pieces of the CLI tests that run ``lupus-msc`` as a subprocess on a real registry: a
SQLite registry seeded through the services, its patients' identifiers, running a command on it,
and the check that an export holds none of those identifiers.

Each test module gets its own module-scoped registry (its own cohort size and seed).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select

from lupus_msc.services.cohort_loader import load
from lupus_msc.store.base import Base
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient

Identity = tuple[str, str, str, str, str]
"""A patient's study code, given name, family name, record number and ISO date of birth."""


def seeded_registry(
    tmp_path_factory: pytest.TempPathFactory, name: str, patients: int, seed: int
) -> str:
    """The URL of a new SQLite registry holding a synthetic cohort loaded through the services."""
    url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'registry.sqlite3'}"
    database = Database(url)
    database.upgrade()
    load(database, patients, seed=seed)
    database.dispose()
    return url


def registry_fixtures(name: str, patients: int, seed: int) -> tuple[Any, Any]:
    """A module's ``registry_url`` and ``identities`` fixtures, both module-scoped: a registry of
    ``patients`` loaded with ``seed``, and its patients' identifiers. Assign them at module level
    under those two names, where pytest finds them."""

    @pytest.fixture(scope="module")
    def registry_url(tmp_path_factory: pytest.TempPathFactory) -> str:
        return seeded_registry(tmp_path_factory, name, patients, seed)

    @pytest.fixture(scope="module")
    def identities(registry_url: str) -> list[Identity]:
        return identities_of(registry_url)

    return registry_url, identities


def identities_of(url: str) -> list[Identity]:
    """Every patient's identifiers, read from the registry."""
    database = Database(url)
    with database.reads() as session:
        rows = session.execute(
            select(
                Patient.study_code,
                Patient.given_name,
                Patient.family_name,
                Patient.medical_record_number,
                Patient.date_of_birth,
            )
        ).all()
    database.dispose()
    return [(code, given, family, mrn, born.isoformat()) for code, given, family, mrn, born in rows]


def run_cli(
    command: list[str], url: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``lupus-msc ARGS`` on the registry at ``url``, with ``env`` added to the environment."""
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "LUPUS_MSC_DATABASE_URL": url, **(env or {})},
    )


def files_text(directory: Path) -> str:
    """Everything an export holds, as text: text files as written, Parquet as CSV."""
    parts = []
    for path in sorted(directory.iterdir()):
        if path.suffix == ".parquet":
            parts.append(pl.read_parquet(path).write_csv())
        else:
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def assert_no_identifier(text: str, identities: list[Identity]) -> None:
    """No study code, record number or date of birth of any patient is in ``text``, nor any
    given or family name as a whole word in any case."""
    for code, given, family, mrn, born in identities:
        assert code not in text
        assert mrn not in text
        assert born not in text
        for name in (given, family):
            assert not re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE), name


def count_rows(url: str, *tables: type[Base]) -> tuple[int, ...]:
    """How many rows each of ``tables`` holds in the registry at ``url``."""
    database = Database(url)
    with database.reads() as session:
        found = tuple(
            session.scalar(select(func.count()).select_from(table)) or 0 for table in tables
        )
    database.dispose()
    return found
