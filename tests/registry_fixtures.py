"""Registry fixtures: a migrated database on SQLite and on PostgreSQL, personas, and the app
served over real HTTP (uvicorn on a local port, in a thread of the test process).

Personas (STYLE habit 5): at site A01 an admin, two physicians, a coordinator, a lab scientist
who is a qualified person for release, two infusion-qualified nurses, a monitor and a
statistician; at site B01 a coordinator and a physician. Each has a bearer token.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from lupus_msc.protocol import default_protocol_text
from lupus_msc.services import accounts, protocols
from lupus_msc.services.accounts import QualificationIn, SiteIn, UserIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.database import Database
from lupus_msc.store.models import QualificationKind, Role
from lupus_msc.web.app import create_app

BACKENDS = ("sqlite", "postgresql")
TLS = ssl.create_default_context()
"""One TLS context for every test client: building one per client costs ~40 ms (plain HTTP here)."""
PASSWORD = "persona-0f4e9c2b7a51d8e3-test"  # noqa: S105 - test personas only
"""Hashed with the cheap hasher meant for machine-drawn passwords: signing is tested, not Argon2."""
PERSONAS: dict[str, tuple[Role, str, tuple[QualificationKind, ...]]] = {
    "admin": (Role.ADMIN, "A01", ()),
    "physician": (Role.PHYSICIAN, "A01", (QualificationKind.INFUSION,)),
    "physician2": (Role.PHYSICIAN, "A01", ()),
    "coordinator": (Role.COORDINATOR, "A01", ()),
    "lab": (Role.LAB, "A01", (QualificationKind.LOT_RELEASE,)),
    "lab_unqualified": (Role.LAB, "A01", ()),
    "nurse": (Role.NURSE, "A01", (QualificationKind.INFUSION,)),
    "nurse2": (Role.NURSE, "A01", (QualificationKind.INFUSION,)),
    "monitor": (Role.MONITOR, "A01", ()),
    "statistician": (Role.STATISTICIAN, "A01", ()),
    "coordinator_b": (Role.COORDINATOR, "B01", ()),
    "lab_b": (Role.LAB, "B01", (QualificationKind.LOT_RELEASE,)),
    "physician_b": (Role.PHYSICIAN, "B01", ()),
}


@dataclass
class Registry:
    """A seeded registry: its database, site ids, and each persona's user id and token."""

    database: Database
    sites: dict[str, uuid.UUID]
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def seed(database: Database) -> Registry:
    """The default protocol, sites A01 and B01, and every persona with a token."""
    today = dt.date.today()  # noqa: DTZ011 - qualification dates are calendar dates
    with unit_of_work(database, None) as session:
        protocols.add(session, None, default_protocol_text())
        sites = {
            code: accounts.add_site(session, None, SiteIn(code=code, name=f"Site {code}")).id
            for code in ("A01", "B01")
        }
        registry = Registry(database, sites)
        for name, (role, site, qualifications) in PERSONAS.items():
            user = accounts.add_user(
                session,
                None,
                UserIn(
                    email=f"{name}@example.org",
                    full_name=name.replace("_", " ").title(),
                    role=role,
                    password=PASSWORD,
                    site_ids=[sites[site]],
                ),
                hasher=accounts.GENERATED_PASSWORD_HASHER,
            )
            for kind in qualifications:
                grant = QualificationIn(
                    kind=kind,
                    granted_on=today.replace(year=today.year - 3),
                    expires_on=today.replace(year=today.year + 1),
                )
                accounts.add_qualification(session, None, user.id, grant)
            registry.users[name] = user.id
            registry.tokens[name] = accounts.issue_token(session, user, "tests").token
    return registry


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty database for the module: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.sqlite3'}"
    server: Any = request.getfixturevalue("postgresql_server")
    url: str = server.new_database("registry")
    return url


@pytest.fixture(scope="module")
def registry(database_url: str) -> Iterator[Registry]:
    database = Database(database_url)
    database.upgrade()
    yield seed(database)
    database.dispose()


@dataclass
class Api:
    """HTTP clients for the served app, one per persona."""

    base_url: str
    registry: Registry

    def as_(self, persona: str) -> httpx.Client:
        token = self.registry.tokens[persona]
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            verify=TLS,
        )

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, verify=TLS)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free local port, in a thread; yields the base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def api(registry: Registry) -> Iterator[Api]:
    """The app over ``registry``, served by uvicorn on a free local port."""
    with serving(create_app(registry.database.url)) as base_url:
        yield Api(base_url, registry)


def loaded_cohort(database_url: str, patients: int, seed: int) -> Iterator[Database]:
    """A module's registry at ``database_url`` with a seeded synthetic cohort loaded through
    the services (``services.cohort_loader``); for ``yield from`` in a module fixture."""
    from lupus_msc.services.cohort_loader import load

    database = Database(database_url)
    database.upgrade()
    load(database, patients, seed=seed)
    yield database
    database.dispose()
