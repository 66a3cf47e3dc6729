"""Backup and restore on real SQLite files and a real PostgreSQL server, while the registry writes.

"Acknowledged" below means: the writer's ``session.commit()`` returned, so the database promised
the write is durable, and only then did the writer record the site's code. A code the test read
from that record before calling ``backup`` was therefore committed before the backup began, and
must be in the backup. Writes still in flight may or may not be in it; either way the restored
audit chain must be intact and must account for every row that is there.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lupus_msc.store import audit, backup
from lupus_msc.store.backup import BackupError
from lupus_msc.store.engine import make_engine, session_factory
from lupus_msc.store.migrate import upgrade
from lupus_msc.store.models import AuditEvent, Site
from tests.postgres_server import PostgresServer

NewDatabase = Callable[[], str]


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> NewDatabase:
    """Makes fresh, empty databases of one backend and returns their URLs."""
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgresql_server")
        return lambda: server.new_database("backup")
    names = iter(range(1000))
    return lambda: f"sqlite:///{tmp_path / f'registry-{next(names)}.db'}"


@pytest.fixture
def registry(new_database: NewDatabase) -> Iterator[str]:
    """A migrated database holding three sites; yields its URL."""
    url = new_database()
    engine = migrated(url)
    for code in ("A01", "A02", "A03"):
        with system_session(engine) as session:
            session.add(Site(code=code, name=f"Clinic {code}"))
            session.commit()
    engine.dispose()
    yield url


def migrated(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def system_session(engine: Engine, reason: str | None = None) -> Session:
    session = session_factory(engine)()
    session.info[audit.SYSTEM] = True
    if reason:
        session.info[audit.REASON] = reason
    return session


class Writer(threading.Thread):
    """Keeps writing until stopped: each transaction creates a site and renames the previous one.

    ``acknowledged`` gets a site's code only after its transaction's commit returned.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.acknowledged: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            number = 0
            while not self.stop.is_set():
                self.write(number)
                number += 1
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def write(self, number: int) -> None:
        code = f"W{number:05d}"
        with system_session(self.engine, reason="renamed while a backup ran") as session:
            session.add(Site(code=code, name=f"Site {number}"))
            if self.acknowledged:
                previous = self.acknowledged[-1]
                session.scalars(select(Site).where(Site.code == previous)).one().name += " (r)"
            session.commit()
        self.acknowledged.append(code)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.acknowledged) < count and self.error is None:
            assert time.monotonic() < deadline, "the writer stalled"
            time.sleep(0.01)
        assert self.error is None, self.error


def backup_while_writing(url: str, destination: Path) -> list[str]:
    """Back up ``url`` while a writer keeps writing; return the codes acknowledged before."""
    engine = migrated(url)
    writer = Writer(engine)
    writer.start()
    try:
        writer.wait_for(20)
        acknowledged_before = list(writer.acknowledged)
        backup.backup(url, destination)
        writer.wait_for(len(writer.acknowledged) + 5)  # it kept writing after the backup
    finally:
        writer.stop.set()
        writer.join()
        engine.dispose()
    assert writer.error is None, writer.error
    return acknowledged_before


def restored_state(url: str) -> tuple[audit.ChainReport, dict[str, str], dict[str, str]]:
    """The chain report, each site's stored name, and each site's name replayed from the trail."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            report = audit.verify(session)
            stored = {str(site.id): site.name for site in session.scalars(select(Site))}
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.entity == "sites").order_by(AuditEvent.seq)
            )
            replayed: dict[str, str] = {}
            for event in events:
                if event.action == "create":
                    replayed[event.entity_id] = json.loads(str(event.new_value))["name"]
                elif event.field == "name":
                    replayed[event.entity_id] = json.loads(str(event.new_value))
    finally:
        engine.dispose()
    return report, stored, replayed


def site_codes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return set(session.scalars(select(Site.code)))
    finally:
        engine.dispose()


def test_a_backup_taken_during_writes_restores_every_acknowledged_write_with_its_audit_chain(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    url, copy = new_database(), new_database()
    acknowledged_before = backup_while_writing(url, tmp_path / "registry.backup")

    backup.restore(tmp_path / "registry.backup", copy)

    report, stored, replayed = restored_state(copy)
    assert report.intact, report
    assert set(acknowledged_before) <= site_codes(copy)
    assert stored == replayed  # every site there, as it is, is explained by the trail
    assert report.rows == len(stored) * 2 - 1  # one create per site, one rename but the newest


def test_the_restored_database_is_the_one_backed_up(
    registry: str, tmp_path: Path, new_database: NewDatabase
) -> None:
    backup.backup(registry, tmp_path / "registry.backup")
    copy = new_database()
    backup.restore(tmp_path / "registry.backup", copy)
    assert site_codes(copy) == {"A01", "A02", "A03"}
    assert restored_state(copy)[0] == restored_state(registry)[0]


def test_it_refuses_to_overwrite_an_existing_file(registry: str, tmp_path: Path) -> None:
    destination = tmp_path / "registry.backup"
    destination.write_text("last week's backup")
    with pytest.raises(BackupError, match="already exists; choose a new file name"):
        backup.backup(registry, destination)
    assert destination.read_text() == "last week's backup"
    assert sorted(tmp_path.glob(".registry.backup.*")) == []


def another_registry(new_database: NewDatabase) -> str:
    url = new_database()
    engine = migrated(url)
    with system_session(engine) as session:
        session.add(Site(code="B01", name="Another registry"))
        session.commit()
    engine.dispose()
    return url


def test_it_refuses_to_restore_into_a_database_that_holds_tables(
    registry: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    backup.backup(registry, tmp_path / "registry.backup")
    other = another_registry(new_database)

    with pytest.raises(BackupError, match=r"already holds \d+ tables"):
        backup.restore(tmp_path / "registry.backup", other)
    assert site_codes(other) == {"B01"}


def test_force_replaces_a_database_that_holds_tables(
    registry: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    backup.backup(registry, tmp_path / "registry.backup")
    other = another_registry(new_database)

    backup.restore(tmp_path / "registry.backup", other, force=True)

    assert site_codes(other) == {"A01", "A02", "A03"}
    assert restored_state(other)[0].intact


def test_a_failed_backup_leaves_no_file(new_database: NewDatabase, tmp_path: Path) -> None:
    never_created = new_database().rsplit("/", 1)[0] + "/no_such_registry"
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(BackupError, match="no_such_registry"):
        backup.backup(never_created, folder / "registry.backup")
    assert list(folder.iterdir()) == []


def test_the_backup_is_readable_by_its_owner_only(registry: str, tmp_path: Path) -> None:
    """It holds patient data."""
    path = backup.backup(registry, tmp_path / "registry.backup")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_truncated_backup_restores_nothing(
    registry: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    whole = backup.backup(registry, tmp_path / "registry.backup").read_bytes()
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(whole[: len(whole) * 2 // 3])
    target = new_database()
    with pytest.raises(BackupError):
        backup.restore(truncated, target)
    assert tables_in(target) == 0


def tables_in(url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            return 0
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return len(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_it_refuses_a_backup_from_the_other_engine(registry: str, tmp_path: Path) -> None:
    other_kind = tmp_path / "other.backup"
    if registry.startswith("sqlite"):
        other_kind.write_bytes(b"PGDMP\x01\x0f")
        expected = "is not a SQLite backup"
    else:
        other_kind.write_bytes(b"SQLite format 3\x00")
        expected = "is not a PostgreSQL backup"
    with pytest.raises(BackupError, match=expected):
        backup.restore(other_kind, registry)


def test_it_says_when_the_backup_file_cannot_be_read(registry: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"cannot read the backup .*missing\.backup"):
        backup.restore(tmp_path / "missing.backup", registry)


def test_it_names_the_missing_postgresql_program(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config, no pg_dump
    monkeypatch.setattr(backup, "DEBIAN_POSTGRESQL", tmp_path)
    with pytest.raises(BackupError, match="pg_dump was not found; install"):
        backup.backup("postgresql+psycopg://u@localhost/registry", tmp_path / "x.backup")
    assert not (tmp_path / "x.backup").exists()


def test_the_password_travels_in_the_environment_not_the_command_line() -> None:
    url = make_url("postgresql+psycopg://clinic:s3cret@db.example.org:5433/registry")
    conninfo, env = backup._libpq(url)
    assert "s3cret" not in conninfo
    assert env["PGPASSWORD"] == "s3cret"
    assert set(conninfo.split()) == {
        "host=db.example.org",
        "port=5433",
        "user=clinic",
        "dbname=registry",
    }


def test_it_refuses_an_in_memory_database(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="in-memory"):
        backup.backup("sqlite://", tmp_path / "x.backup")


def test_it_refuses_other_database_engines(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="SQLite and PostgreSQL"):
        backup.backup("mysql://u@localhost/registry", tmp_path / "x.backup")
