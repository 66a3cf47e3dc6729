"""Back up and restore the registry's database with each engine's own tools.

SQLite: Python's ``sqlite3`` online backup API copies one consistent snapshot while other
processes keep writing (WAL lets readers and the writer work side by side); the copy is a single
self-contained file (rollback journal, no ``-wal`` beside it). PostgreSQL: ``pg_dump
--format=custom``, which also reads one snapshot, and ``pg_restore`` in a single transaction
(DESIGN.md: backed up with PostgreSQL's own tools).

A backup is written to a temporary file beside the destination and only then given its name, so a
failed or interrupted backup never leaves a half-written file under that name, and an existing
file is never overwritten. A restore refuses a database that already holds tables unless told to
``force`` it. Neither trusts the data it copies: verify the audit chain afterwards
(``audit.verify``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from psycopg.conninfo import make_conninfo
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")
BUSY_TIMEOUT_S = 30.0
USER_TABLES = text(
    "SELECT count(*) FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    " AND n.nspname NOT LIKE 'pg\\_%'"
)


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why and what to do."""


def backup(url: str, destination: Path) -> Path:
    """Copy the database named by ``url`` into the new file ``destination``; return it."""
    parsed = _parse(url)
    with _new_file(destination) as temporary:
        if parsed.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(parsed), temporary)
        else:
            _pg_dump(parsed, temporary)
    return destination


def restore(source: Path, url: str, *, force: bool = False) -> None:
    """Load the backup ``source`` into the database named by ``url``.

    The target must hold no tables, unless ``force``: then SQLite's file is replaced as a whole,
    and PostgreSQL's tables that the backup holds are dropped and recreated (other tables stay;
    prefer a new, empty database). Run ``audit.verify`` on the result before using it.
    """
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        _expect_kind(source, SQLITE_MAGIC, "a SQLite backup")
        _sqlite_restore(source, _sqlite_path(parsed), force=force)
    else:
        _expect_kind(source, PG_DUMP_MAGIC, "a PostgreSQL backup (pg_dump custom format)")
        _pg_restore(source, parsed, force=force)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise BackupError(f"the database URL is not valid: {error}") from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise BackupError(
            f"backups work for SQLite and PostgreSQL databases, not {parsed.get_backend_name()}"
        )
    return parsed


@contextlib.contextmanager
def _new_file(destination: Path) -> Iterator[Path]:
    """A temporary file beside ``destination`` that takes its name only if the body succeeds."""
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose a new file name for the backup")
    if not destination.parent.is_dir():
        raise BackupError(f"the folder {destination.parent} does not exist")
    handle, name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(handle)  # mkstemp made it readable by its owner only: a backup holds patient data
    temporary = Path(name)
    try:
        yield temporary
        _publish(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def _publish(temporary: Path, destination: Path) -> None:
    """Give the finished file its name without ever replacing a file that appeared meanwhile."""
    try:
        os.link(temporary, destination)  # fails if the name is taken, unlike a rename
    except FileExistsError:
        raise BackupError(
            f"{destination} appeared while the backup was written; not replaced"
        ) from None
    except OSError:  # no hard links here (e.g. a FAT-formatted USB drive): check, then rename
        if destination.exists():
            raise BackupError(f"{destination} already exists; not replaced") from None
        temporary.rename(destination)
    _sync_folder(destination.parent)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open or sync a folder
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _expect_kind(source: Path, magic: bytes, kind: str) -> None:
    try:
        with source.open("rb") as file:
            start = file.read(len(magic))
    except OSError as error:
        raise BackupError(f"cannot read the backup {source}: {error.strerror}") from None
    if start != magic:
        raise BackupError(f"{source} is not {kind}; it cannot be restored into this database")


# SQLite ------------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if url.database in {None, "", ":memory:"}:
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(str(url.database)).resolve()


def _sqlite_open(path: Path, mode: str, what: str = "the SQLite database") -> sqlite3.Connection:
    """Open an existing database file (``mode`` ``ro`` or ``rw``); never create one by mistake."""
    uri = f"{path.as_uri()}?mode={mode}"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as error:
        raise BackupError(f"cannot open {what} {path}: {error}") from None
    return connection


def _sqlite_backup(source: Path, temporary: Path) -> None:
    if not source.is_file():
        raise BackupError(f"there is no SQLite database at {source}")
    live = _sqlite_open(source, "rw")
    with contextlib.closing(live), contextlib.closing(sqlite3.connect(temporary)) as copy:
        try:
            live.backup(copy)  # all pages in one step: one snapshot, writers carry on
            copy.execute("PRAGMA journal_mode=DELETE")  # one file; no -wal beside it
        except sqlite3.Error as error:
            raise BackupError(f"the backup of {source} failed: {error}") from None


def _sqlite_restore(source: Path, target: Path, *, force: bool) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    with contextlib.closing(_sqlite_open(source, "ro", "the backup")) as copy:
        (check,) = copy.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(f"the backup {source} is damaged ({check}); it was not restored")
        if target.exists():
            _refuse_if_in_use(target, force=force)
        with contextlib.closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_S)) as live:
            try:
                copy.backup(live)  # one transaction on the target: all of it or nothing
            except sqlite3.Error as error:
                raise BackupError(f"the restore into {target} failed: {error}") from None


def _refuse_if_in_use(target: Path, *, force: bool) -> None:
    with contextlib.closing(_sqlite_open(target, "rw")) as live:
        (tables,) = live.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()
    if tables and not force:
        raise BackupError(
            f"{target} already holds {tables} tables; restore into a new file, or force it to"
            " replace everything in it"
        )


# PostgreSQL --------------------------------------------------------------------------------------


def _pg_dump(url: URL, temporary: Path) -> None:
    conninfo, env = _libpq(url)
    _run_pg_tool(
        "pg_dump",
        ["--format=custom", "--no-password", f"--file={temporary}", f"--dbname={conninfo}"],
        env,
        failure=f"the backup of database {url.database} failed",
    )


def _pg_restore(source: Path, url: URL, *, force: bool) -> None:
    tables = _pg_table_count(url)
    if tables and not force:
        raise BackupError(
            f"database {url.database} already holds {tables} tables; restore into a new, empty"
            " database, or force it to replace the tables the backup holds"
        )
    conninfo, env = _libpq(url)
    options = ["--no-owner", "--exit-on-error", "--single-transaction", "--no-password"]
    if force:
        options += ["--clean", "--if-exists"]
    _run_pg_tool(
        "pg_restore",
        [*options, f"--dbname={conninfo}", str(source)],
        env,
        failure=f"the restore into database {url.database} failed and changed nothing",
    )


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and an environment that carries it.

    A password on the command line would be visible to every user of the machine (``ps``).
    """
    params = {
        key: value if isinstance(value, str) else value[-1] for key, value in url.query.items()
    }
    password = params.pop("password", None) or url.password
    named = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    params.update({key: str(value) for key, value in named.items() if value is not None})
    if "dbname" not in params:
        raise BackupError("the database URL names no database")
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def _pg_table_count(url: URL) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(USER_TABLES).scalar_one())
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        raise BackupError(f"cannot reach database {url.database}: {reason}") from None
    finally:
        engine.dispose()


def _run_pg_tool(tool: str, arguments: list[str], env: dict[str, str], *, failure: str) -> None:
    command = [_pg_tool(tool), *arguments]
    result = subprocess.run(  # noqa: S603 - a fixed program; arguments are never run by a shell
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(
            f"{failure}: {result.stderr.strip() or f'{tool} exit code {result.returncode}'}"
        )


def _pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program: ``pg_config --bindir``, Debian's newest, or PATH.

    Among Debian's versions the newest wins: ``pg_dump`` cannot dump a server newer than itself.
    """
    candidates = [folder / name for folder in _pg_config_bindir()]
    candidates += sorted(DEBIAN_POSTGRESQL.glob(f"*/bin/{name}"), key=_version, reverse=True)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    if on_path := shutil.which(name):
        return on_path
    raise BackupError(
        f"{name} was not found; install the PostgreSQL client programs (Debian and Ubuntu:"
        f" apt install postgresql-client) or put {name} on the PATH"
    )


def _pg_config_bindir() -> list[Path]:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return []
    found = subprocess.run(  # noqa: S603 - a fixed program; no shell
        [pg_config, "--bindir"], capture_output=True, text=True, check=False
    )
    return [Path(found.stdout.strip())] if found.returncode == 0 else []


def _version(program: Path) -> list[int]:
    """``/usr/lib/postgresql/9.6/bin/pg_dump`` -> [9, 6]: compare versions as numbers."""
    return [int(part) for part in re.findall(r"\d+", program.parent.parent.name)]
