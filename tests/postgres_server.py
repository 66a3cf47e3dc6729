"""A throwaway PostgreSQL server for the tests, started from Debian's ``postgresql`` binaries.

Not pytest-postgresql: it runs ``pg_ctl`` as the current user, which refuses to run as root,
and keeps the data directory under pytest's root-only (0700) temp tree; making it work would
need a fake ``pg_ctl`` wrapper plus chmod-ing that tree. Here, as root, only the server
binaries (initdb, pg_ctl) run as the ``postgres`` system user, via ``runuser``.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_OS_USER = "postgres"  # created by Debian's postgresql package; used only when root
ROLE = "postgres"  # the superuser role initdb creates
HOST = "127.0.0.1"
SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def find_bin_dir(root: Path = DEBIAN_ROOT) -> Path | None:
    """``pg_config --bindir`` if it holds initdb, else the newest ``root/<version>/bin``."""
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bin_dir = Path(found.stdout.strip())
        if found.returncode == 0 and (bin_dir / "initdb").is_file():
            return bin_dir
    candidates = [initdb.parent for initdb in root.glob("*/bin/initdb")]
    return max(candidates, key=_version, default=None)


def _version(bin_dir: Path) -> list[int]:
    """``/usr/lib/postgresql/9.6/bin`` -> [9, 6]: compare versions as numbers, not text."""
    return [int(part) for part in re.findall(r"\d+", bin_dir.parent.name)]


def require_bin_dir() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: neither `pg_config --bindir`"
            f" nor {DEBIAN_ROOT}/*/bin has them. Run `make test` (or `make system-deps`),"
            " which installs Debian's `postgresql` package.",
            pytrace=False,
        )
    return bin_dir


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: hand them to the unprivileged ``postgres``."""
    return ["runuser", "-u", SERVER_OS_USER, "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    bin_dir: Path
    base_dir: Path  # holds data/, server.log and the unix socket
    port: int
    host: str = HOST
    user: str = ROLE

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def new_database(self, name_prefix: str) -> str:
        """Create a fresh, empty database; return its SQLAlchemy URL."""
        prefix = re.sub(r"[^a-z0-9_]", "_", name_prefix.lower())[:40]
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def client_command(self, tool: str, *args: str) -> list[str]:
        """argv for a client binary (psql, pg_dump, pg_restore, ...) aimed at this server.

        Clients run as the current user (they do not refuse root), so they can read and write
        the calling test's files.
        """
        connection = ["-h", self.host, "-p", str(self.port), "-U", self.user]
        return [str(self.bin_dir / tool), *connection, *args]

    def run_client(
        self, tool: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = self.client_command(tool, *args)
        return subprocess.run(command, capture_output=True, text=True, check=check)

    def _run_as_server_user(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        argv = _as_server_user([str(self.bin_dir / tool), "-D", str(self.data_dir), *args])
        return subprocess.run(argv, cwd=self.base_dir, capture_output=True, text=True)

    def _fail(self, what: str, result: subprocess.CompletedProcess[str]) -> NoReturn:
        log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
        pytest.fail(f"{what} failed:\n{result.stdout}{result.stderr}\n{log}", pytrace=False)

    def init(self) -> None:
        result = self._run_as_server_user(
            "initdb", "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"
        )
        if result.returncode != 0:
            self._fail("initdb", result)
        # Trust, but only over the unix socket and loopback. Rewriting keeps the files' owner.
        (self.data_dir / "pg_hba.conf").write_text(
            f"local all all trust\nhost all all {HOST}/32 trust\n"
        )
        settings = {**SETTINGS, "unix_socket_directories": f"'{self.base_dir}'"}
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> subprocess.CompletedProcess[str]:
        """Start on ``self.port``; -w returns only once the server accepts connections."""
        return self._run_as_server_user(
            "pg_ctl", "start", "-w", "-t", "30", "-o", f"-p {self.port}", "-l", str(self.log_file)
        )

    def stop(self) -> None:
        self._run_as_server_user("pg_ctl", "stop", "-m", "fast", "-w")


def start_server() -> PostgresServer:
    """initdb and start a cluster in a new temp dir owned by the server's OS user."""
    bin_dir = require_bin_dir()
    as_root = os.geteuid() == 0
    if as_root and SERVER_OS_USER not in {entry.pw_name for entry in pwd.getpwall()}:
        pytest.fail(f"running as root but there is no `{SERVER_OS_USER}` user", pytrace=False)
    base_dir = Path(tempfile.mkdtemp(prefix="lupus-msc-pg-"))
    if as_root:
        shutil.chown(base_dir, SERVER_OS_USER, SERVER_OS_USER)
    server = PostgresServer(bin_dir=bin_dir, base_dir=base_dir, port=_free_port())
    try:
        server.init()
        # Something else may take the free port before postgres binds it: try a few.
        for _ in range(3):
            result = server.start()
            if result.returncode == 0:
                return server
            server = dataclasses.replace(server, port=_free_port())
        server._fail("pg_ctl start", result)
    except BaseException:
        server.stop()
        shutil.rmtree(base_dir, ignore_errors=True)
        raise


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (one per xdist worker), removed afterwards."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.base_dir, ignore_errors=True)
