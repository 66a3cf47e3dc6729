"""The test PostgreSQL server: real, isolated per database, and started correctly as root."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import postgres_server
from tests.postgres_server import PostgresServer


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_server_accepts_sqlalchemy_connections(postgresql_server: PostgresServer) -> None:
    engine = sa.create_engine(postgresql_server.new_database("version"))
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version()")).scalar_one()
            settings = {
                name: conn.execute(sa.text(f"show {name}")).scalar_one()
                for name in ("listen_addresses", "fsync", "synchronous_commit", "full_page_writes")
            }
    finally:
        engine.dispose()
    assert "PostgreSQL" in version
    assert settings == {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }


def test_new_database_gives_distinct_empty_independent_databases(
    postgresql_server: PostgresServer,
) -> None:
    first = postgresql_server.new_database("Isolation-Test")
    second = postgresql_server.new_database("Isolation-Test")
    assert first != second
    assert first.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{postgresql_server.port}/")
    assert _tables(first) == [] and _tables(second) == []

    engine = sa.create_engine(first)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("create table only_in_first (id integer primary key)"))
    finally:
        engine.dispose()

    assert _tables(first) == ["only_in_first"]
    assert _tables(second) == []


def test_cluster_is_owned_by_an_unprivileged_user(postgresql_server: PostgresServer) -> None:
    """As root, initdb/pg_ctl ran as ``postgres``; otherwise as the current user."""
    expected = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert postgresql_server.data_dir.stat().st_uid == expected != 0


def test_client_binaries_reach_the_server(
    postgresql_server: PostgresServer, tmp_path: Path
) -> None:
    dbname = postgresql_server.new_database("dump").rsplit("/", 1)[1]
    psql = postgresql_server.run_client(
        "psql", "-d", dbname, "-Atc", "create table dumped (id int); select 41 + 1"
    )
    assert psql.stdout.strip().splitlines()[-1] == "42"

    dump = tmp_path / "dump.sql"  # written by pg_dump, as the current user
    postgresql_server.run_client("pg_dump", "-d", dbname, "-f", str(dump))
    assert "CREATE TABLE public.dumped" in dump.read_text()


def test_newest_debian_bin_dir_is_chosen_by_version_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in ("9.6", "15", "13"):
        (tmp_path / version / "bin").mkdir(parents=True)
        (tmp_path / version / "bin" / "initdb").touch()
    (tmp_path / "16" / "bin").mkdir(parents=True)  # client-only install: no initdb
    monkeypatch.setattr(shutil, "which", lambda _name: None)  # no pg_config
    assert postgres_server.find_bin_dir(tmp_path) == tmp_path / "15" / "bin"


def test_missing_binaries_fail_with_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_server, "find_bin_dir", lambda: None)
    with pytest.raises(pytest.fail.Exception, match=r"make test"):
        postgres_server.require_bin_dir()
