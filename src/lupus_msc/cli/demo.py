"""``lupus-msc demo`` and ``lupus-msc serve`` (DESIGN.md, Interfaces; issue 6).

``demo`` builds a demo database — by default the SQLite file ``lupus-msc-demo.sqlite3`` in the
current directory, rebuilt from scratch (after saying so) when it exists — with a seeded
synthetic cohort of about 200 patients at two sites named "Demo …", every pathway state
represented, loaded through the services (``services.cohort_loader``), and one account per role
(``services.cohort_staff.DEMO_ACCOUNTS``, password ``demo-password``); then it serves the web
application on http://127.0.0.1:8000 (``--no-serve`` only builds). It never touches a
database that is not a demo database.

``serve`` serves the database named by ``LUPUS_MSC_DATABASE_URL`` after checking that it
exists and answers. The web application is started by import string (the CLI never imports
``web``; tests/test_layers.py).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import event, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from lupus_msc.cli import registry
from lupus_msc.services import cohort_staff
from lupus_msc.services.cohort_staff import DEMO_ACCOUNTS, DEMO_PASSWORD, RealUsersPresent
from lupus_msc.services.fields import today
from lupus_msc.services.unit import unit_of_work
from lupus_msc.settings import load_settings
from lupus_msc.store.database import Database
from lupus_msc.store.models import PatientState

DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000
DEMO_FILE = "lupus-msc-demo.sqlite3"
DEMO_URL = f"sqlite:///{DEMO_FILE}"
"""The demo database: a SQLite file in the current directory (``make demo``: the checkout)."""
DEMO_PATIENTS = 200
DEMO_SITES = 2
APP = "lupus_msc.web.app:create_app"
README_EXAMPLE = '{"arthritis": true, "rash": true, "labs": {"c3_g_l": 0.7, "c3_lln_g_l": 0.9}}'
SQLITE_PREFIX = "sqlite:///"


def _sqlite_path(url: str) -> Path | None:
    return Path(url[len(SQLITE_PREFIX) :]) if url.startswith(SQLITE_PREFIX) else None


def _refusal(database: Database) -> str | None:
    """Why the database at ``database`` may not be rebuilt (None: empty, or a demo database)."""
    tables = set(inspect(database.engine).get_table_names())
    if not tables:
        return None
    if "users" not in tables or "sites" not in tables:
        return "it holds tables that are not a lupus-msc registry's"
    with database.sessions() as session:
        real = cohort_staff.real_users(session)
        if real:
            return f"it has real users (e.g. {real[0]})"
        if (
            not cohort_staff.is_demo(session)
            and session.execute(text("SELECT 1 FROM sites LIMIT 1")).first()
        ):
            return 'its sites are not named "Demo …"'
    return None


def _clear(url: str) -> None:
    """Remove the demo database at ``url`` if there is one (after saying so); refuse to touch
    any other database."""
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return
    database = Database(url)
    try:
        try:
            refusal = _refusal(database)
        except SQLAlchemyError as error:
            raise registry.fail(f"cannot read {url}: {error.__class__.__name__}") from error
        if refusal is not None:
            raise registry.fail(
                f"{url} is not a demo database ({refusal}); refusing to rebuild it. "
                "Give the demo its own --database-url."
            )
        if path is not None:
            typer.echo(f"A demo database exists at {path}: rebuilding it from scratch.")
            database.dispose()
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            return
        tables = inspect(database.engine).get_table_names()
        if tables:
            typer.echo(f"A demo database exists at {url}: rebuilding it from scratch.")
            with database.engine.begin() as connection:
                for table in tables:
                    connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    finally:
        database.dispose()


def _states(counts: Counter[PatientState]) -> str:
    return ", ".join(f"{state.value} {counts[state]}" for state in PatientState)


def _sqlite_sync_normal(dbapi_connection: Any, _record: Any) -> None:
    """While the demo is built: WAL with synchronous=NORMAL (no fsync at every commit; a crash
    may lose the last transactions, never corrupt the file; a demo is rebuilt anyway)."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def build_demo(url: str, patients: int, seed: int) -> None:
    """Build the demo database at ``url`` (module docstring) and print what it holds."""
    from rich.console import Console
    from rich.progress import Progress

    from lupus_msc.services.cohort_loader import LoadError, load

    started = time.perf_counter()
    _clear(url)
    path = _sqlite_path(url)
    if path is not None and path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    database = Database(url)
    if path is not None:
        event.listen(database.engine, "connect", _sqlite_sync_normal)
    try:
        database.upgrade()
        on = today()
        qualified = (on - dt.timedelta(days=365), on.replace(year=on.year + 2, day=min(on.day, 28)))
        with unit_of_work(database, None) as session:
            sites = cohort_staff.demo_sites(session)
            cohort_staff.add_demo_accounts(session, [site.id for site in sites], qualified)
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("loading the demo cohort", total=patients)
            result = load(
                database,
                patients,
                seed=seed,
                sites=DEMO_SITES,
                demo=True,
                progress=lambda _: progress.advance(task),
            )
    except RealUsersPresent as error:
        raise registry.fail(str(error)) from error
    except LoadError as error:
        raise registry.fail(str(error)) from error
    finally:
        database.dispose()
    seconds = time.perf_counter() - started
    typer.echo(
        f"Demo database {url}: {len(result.patients)} synthetic patients (seed {seed}) at "
        f"{DEMO_SITES} demo sites, built in {seconds:.0f} s.\n"
        f"Pathway states: {_states(result.states())}."
    )


def _print_accounts() -> None:
    typer.echo(f"\nDemo accounts (demo databases only), each with the password {DEMO_PASSWORD}:")
    for username, role, kind, _ in DEMO_ACCOUNTS:
        qualification = f", qualified for {kind.value}" if kind is not None else ""
        typer.echo(f"- {username:<13} {role.value}{qualification}")


def _print_try(base: str) -> None:
    typer.echo(
        f"\nOpen {base}/ and sign in. The scoring API (interactive docs: {base}/docs):\n\n"
        "Score a visit over HTTP:\n"
        f"  curl -s -X POST {base}/api/v1/score/sledai2k "
        f"-H 'content-type: application/json' -d '{README_EXAMPLE}'\n\n"
        "Score the same visit from the command line:\n"
        f"  echo '{README_EXAMPLE}' | .venv/bin/lupus-msc score sledai2k\n"
    )


def _run_app(url: str, host: str, port: int) -> None:
    import uvicorn

    os.environ["LUPUS_MSC_DATABASE_URL"] = url
    uvicorn.run(APP, factory=True, host=host, port=port)


def demo(
    database_url: Annotated[
        str | None,
        typer.Option(help=f"Where to build the demo database (default: {DEMO_URL})."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEMO_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEMO_PORT,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Build the demo database only; do not serve.")
    ] = False,
    patients: Annotated[
        int, typer.Option(min=1, help="Synthetic patients (fewer build faster).")
    ] = DEMO_PATIENTS,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic cohort.")] = 0,
) -> None:
    """Build a demo database (synthetic cohort, two demo sites, one account per role) and serve
    the web application on it. An existing demo database is rebuilt from scratch; any other
    database is refused."""
    url = database_url or DEMO_URL
    build_demo(url, patients, seed)
    _print_accounts()
    _print_try(f"http://{host}:{port}")
    if not no_serve:
        _run_app(url, host, port)


def check_database(url: str) -> None:
    """Refuse (exit 2) a database that does not answer or is not a registry; a SQLite file
    that does not exist yet is created as an empty registry, after saying so (its directory
    must exist)."""
    path = _sqlite_path(url)
    if path is not None and not path.is_file():
        if not path.parent.is_dir():
            raise registry.fail(f"no directory {path.parent} for the database {path}")
        typer.echo(
            f"no database at {path} yet: serving a new, empty registry there (add users with "
            "`lupus-msc user add`; `lupus-msc demo` builds a demo database instead)"
        )
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            tables = set(inspect(connection).get_table_names())
    except SQLAlchemyError as error:
        raise registry.fail(f"cannot open {url}: {error.__class__.__name__}: {error}") from error
    finally:
        database.dispose()
    if tables and "users" not in tables:
        raise registry.fail(f"{url} is not a lupus-msc registry (it has no users table)")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEMO_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEMO_PORT,
) -> None:
    """Serve the web application and its HTTP API on the database named by
    LUPUS_MSC_DATABASE_URL (brought up to the newest schema when it starts)."""
    url = load_settings().database_url
    check_database(url)
    typer.echo(f"serving {url} on http://{host}:{port}")
    _run_app(url, host, port)
