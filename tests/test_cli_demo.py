"""``lupus-msc demo`` and ``lupus-msc serve`` (DESIGN.md Interfaces; issue 6), run as real
subprocesses: the demo database holds every pathway state at both demo sites, its seven demo
accounts sign in with ``demo-password`` (through the services, and through the sign-in form of
a real server), its audit chain verifies, and a database that is not a demo one is never
touched."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from lupus_msc.services import accounts, cohort_staff
from lupus_msc.services.accounts import TokenRequest, UserIn
from lupus_msc.services.cohort_staff import DEMO_PASSWORD, RealUsersPresent
from lupus_msc.services.errors import Unauthenticated
from lupus_msc.services.fields import today
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient, PatientState, QualificationKind, Role, Site, User

PATIENTS = 40
"""Small enough to build in well under a minute; the demo plan still gives every state."""
ROLES = ("admin", "physician", "coordinator", "lab", "nurse", "monitor", "statistician")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with code {process.returncode}"
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not start within 60 s")


@dataclass(frozen=True)
class Built:
    path: Path
    url: str
    output: str


def _run(
    command: list[str], *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def demo_db(lupus_msc_command: list[str], tmp_path_factory: pytest.TempPathFactory) -> Built:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    url = f"sqlite:///{path}"
    done = _run(
        lupus_msc_command, "demo", "--no-serve", "--patients", str(PATIENTS), "--database-url", url
    )
    assert done.returncode == 0, done.stderr
    return Built(path, url, done.stdout)


@pytest.fixture
def database(demo_db: Built) -> Iterator[Database]:
    opened = Database(demo_db.url)
    yield opened
    opened.dispose()


def test_every_pathway_state_occurs_at_both_demo_sites(database: Database) -> None:
    with database.sessions() as session:
        states = set(session.scalars(select(Patient.state).distinct()))
        per_site = dict(
            session.execute(
                select(Site.name, func.count(Patient.id))
                .join(Patient, Patient.site_id == Site.id)
                .group_by(Site.name)
            ).all()
        )
        total = session.scalar(select(func.count()).select_from(Patient))
    assert states == set(PatientState)
    assert len(per_site) == 2
    assert all(name.startswith("Demo ") and count > 0 for name, count in per_site.items())
    assert total == PATIENTS


def test_the_demo_accounts_sign_in_with_the_demo_password(database: Database) -> None:
    with database.sessions() as session:
        signed_in = {
            name: accounts.login(session, TokenRequest(email=name, password=DEMO_PASSWORD))
            for name in ROLES
        }
        with pytest.raises(Unauthenticated):
            accounts.login(session, TokenRequest(email="physician", password=DEMO_PASSWORD + "-x"))
    assert {name: user.role.value for name, user in signed_in.items()} == {n: n for n in ROLES}
    in_future = today() + dt.timedelta(days=30)

    def kinds(user: User) -> set[QualificationKind]:
        return {q.kind for q in user.qualifications if q.valid_on(today())}

    assert kinds(signed_in["physician"]) == {QualificationKind.INFUSION}
    assert kinds(signed_in["nurse"]) == {QualificationKind.INFUSION}
    assert kinds(signed_in["lab"]) == {QualificationKind.LOT_RELEASE}
    assert all(
        q.expires_on > in_future
        for name in ("physician", "nurse", "lab")
        for q in signed_in[name].qualifications
    )
    assert all(len(user.site_ids) == 2 for user in signed_in.values())


def test_the_output_names_every_account_and_its_password(demo_db: Built) -> None:
    listed = re.findall(r"^- (\w+) +(\w+)", demo_db.output, flags=re.MULTILINE)
    assert [name for name, _ in listed] == list(ROLES)
    assert "demo-password" in demo_db.output
    assert f"{PATIENTS} synthetic patients" in demo_db.output
    assert "built in" in demo_db.output


def test_its_audit_chain_verifies(lupus_msc_command: list[str], demo_db: Built) -> None:
    done = _run(lupus_msc_command, "audit", "verify", env={"LUPUS_MSC_DATABASE_URL": demo_db.url})
    assert done.returncode == 0, done.stderr
    assert "audit chain intact" in done.stdout


def test_serve_serves_the_demo_and_the_sign_in_form_takes_a_demo_account(
    lupus_msc_command: list[str], demo_db: Built
) -> None:
    port = _free_port()
    env = {**os.environ, "LUPUS_MSC_DATABASE_URL": demo_db.url}
    command = [*lupus_msc_command, "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process)
        with httpx.Client(base_url=base) as client:
            form = client.get("/sign-in")
            nonce = re.search(r'name="sign_in_nonce" value="([^"]+)"', form.text)
            assert nonce is not None
            data = {"login": "nurse", "password": "demo-password", "next": "/"}
            answer = client.post("/sign-in", data={**data, "sign_in_nonce": nonce.group(1)})
            assert answer.status_code == 303
            assert client.get("/").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_second_build_says_it_rebuilds_from_scratch(
    lupus_msc_command: list[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    first = _run(lupus_msc_command, "demo", "--no-serve", "--patients", "2", "--database-url", url)
    assert first.returncode == 0, first.stderr
    assert "rebuilding" not in first.stdout
    again = _run(lupus_msc_command, "demo", "--no-serve", "--patients", "2", "--database-url", url)
    assert again.returncode == 0, again.stderr
    assert "rebuilding it from scratch" in again.stdout
    database = Database(url)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 2
        assert session.scalar(select(func.count()).where(User.username == "admin")) == 1
    database.dispose()


def test_a_database_with_real_users_is_never_touched(
    lupus_msc_command: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "registry.sqlite3"
    env = {"LUPUS_MSC_DATABASE_URL": f"sqlite:///{path}"}
    assert _run(lupus_msc_command, "init", "--site", "A01", env=env).returncode == 0
    added = subprocess.run(
        [
            *lupus_msc_command,
            "user",
            "add",
            "--email",
            "ada@clinic.example",
            "--name",
            "Ada",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a-real-password-1\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert added.returncode == 0, added.stderr
    before = path.read_bytes()
    done = _run(lupus_msc_command, "demo", "--no-serve", "--database-url", f"sqlite:///{path}")
    assert done.returncode == 2
    assert "not a demo database" in done.stderr and "real users" in done.stderr
    assert path.read_bytes() == before


def test_serve_refuses_a_database_that_is_not_a_registry(
    lupus_msc_command: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    done = _run(
        lupus_msc_command,
        "serve",
        "--port",
        str(_free_port()),
        env={"LUPUS_MSC_DATABASE_URL": f"sqlite:///{path}"},
        timeout=60,
    )
    assert done.returncode == 2
    assert "not a lupus-msc registry" in done.stderr


def test_the_two_scoring_commands_it_prints_work(
    lupus_msc_command: list[str], live_server: str, tmp_path: Path
) -> None:
    """The demo's output ends with two commands a newcomer can paste (the only lines indented
    by two spaces); both must really score the same visit."""
    port = live_server.rsplit(":", 1)[1]
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    done = _run(
        lupus_msc_command,
        "demo",
        "--no-serve",
        "--port",
        port,
        "--patients",
        "2",
        "--database-url",
        url,
    )
    assert done.returncode == 0, done.stderr
    commands = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert len(commands) == 2
    bin_dir = str(Path(lupus_msc_command[0]).parent) + "/"
    outputs = [
        subprocess.run(  # noqa: S602 - the demo's own printed command
            command.replace(".venv/bin/", bin_dir),
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for command in commands
    ]
    results = [json.loads(output) for output in outputs]
    assert results[0] == results[1]
    assert results[0]["total"] == 8


def test_demo_accounts_are_refused_where_a_real_user_exists(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    database.upgrade()
    on = today()
    with unit_of_work(database, None) as session:
        sites = cohort_staff.demo_sites(session)
        real = UserIn(
            email="ada@clinic.example",
            full_name="Ada",
            role=Role.ADMIN,
            password="a-real-password-1",  # noqa: S106 - a test user
        )
        accounts.add_user(session, None, real, hasher=accounts.GENERATED_PASSWORD_HASHER)
    with unit_of_work(database, None) as session, pytest.raises(RealUsersPresent):
        cohort_staff.add_demo_accounts(session, [site.id for site in sites], (on, on))
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
    database.dispose()
