"""Registry commands: init, site add, user add, backup, restore, audit verify."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.protocol import default_protocol_text
from lupus_msc.services import accounts, protocols
from lupus_msc.services.accounts import SiteIn, UserIn
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.unit import unit_of_work
from lupus_msc.settings import load_settings
from lupus_msc.store import audit
from lupus_msc.store import backup as store_backup
from lupus_msc.store.database import Database
from lupus_msc.store.models import ProtocolVersion, Role, Site

site_app = typer.Typer(help="Sites of the programme.")
user_app = typer.Typer(help="Users, their roles and sites.")
audit_app = typer.Typer(help="The audit trail.")


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _describe(error: ServiceError | ValidationError) -> str:
    if isinstance(error, ServiceError):
        return error.message
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    return f"{field}: {first['msg']}"


def open_database() -> Database:
    """The database named by LUPUS_MSC_DATABASE_URL, brought up to the newest schema."""
    database = Database(load_settings().database_url)
    database.upgrade()
    return database


def init(
    site: Annotated[str | None, typer.Option(help="Code of a first site, e.g. A01.")] = None,
    site_name: Annotated[str | None, typer.Option(help="Name of that site.")] = None,
) -> None:
    """Create or upgrade the database and load the default protocol (once)."""
    database = open_database()
    with unit_of_work(database, None) as session:
        if session.scalar(select(ProtocolVersion.id).limit(1)) is None:
            version = protocols.add(session, None, default_protocol_text())
            typer.echo(f"loaded protocol {version.protocol_code} {version.version}")
        if site is not None:
            try:
                accounts.add_site(session, None, SiteIn(code=site, name=site_name or site))
            except (ServiceError, ValidationError) as error:
                raise fail(_describe(error)) from error
            typer.echo(f"added site {site}")
    typer.echo(f"database ready: {database.url}")


@site_app.command("add")
def site_add(
    code: Annotated[str, typer.Option(help="Site code: a capital letter, then 1–5 of A–Z, 0–9.")],
    name: Annotated[str, typer.Option(help="Site name.")],
) -> None:
    """Add a site."""
    with unit_of_work(open_database(), None) as session:
        try:
            accounts.add_site(session, None, SiteIn(code=code, name=name))
        except (ServiceError, ValidationError) as error:
            raise fail(_describe(error)) from error
    typer.echo(f"added site {code}")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Option(help="Login email.")],
    name: Annotated[str, typer.Option("--name", help="Full name, as signatures show it.")],
    role: Annotated[Role, typer.Option(help="What the user does.")],
    site: Annotated[list[str] | None, typer.Option(help="Site code (repeat for more).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    token: Annotated[bool, typer.Option("--token", help="Also print a new API token.")] = False,
) -> None:
    """Add a user (password hashed with Argon2); optionally print an API token for them."""
    password = _password(password_stdin)
    with unit_of_work(open_database(), None) as session:
        try:
            site_ids = [_site_id(session, code) for code in site or []]
            user = accounts.add_user(
                session,
                None,
                UserIn(
                    email=email, full_name=name, role=role, password=password, site_ids=site_ids
                ),
            )
            issued = accounts.issue_token(session, user, "cli") if token else None
        except (ServiceError, ValidationError) as error:
            raise fail(_describe(error)) from error
    typer.echo(f"added {role.value} {user.email}")
    if issued is not None:
        typer.echo(issued.token)


def _site_id(session: Session, code: str) -> uuid.UUID:
    found = session.scalar(select(Site.id).where(Site.code == code))
    if found is None:
        raise ServiceError(f"--site: no site {code}")
    return found


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="ROW:HASH printed by an earlier verify and kept elsewhere: that row must still "
            "carry that hash (catches a tail rewritten together with the head)."
        ),
    ] = None,
) -> None:
    """Walk the audit hash chain; exit 1 naming the first broken row."""
    database = Database(load_settings().database_url)
    with database.sessions() as session:
        report = audit.verify(session)
        anchored = _anchor_holds(session, anchor) if anchor else True
    if not report.intact:
        typer.echo(f"audit chain BROKEN at row {report.broken_seq}: {report.problem}", err=True)
        raise typer.Exit(code=1)
    if not anchored:
        typer.echo(f"audit chain does not hold the anchor {anchor}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"audit chain intact: {report.rows} rows; anchor {report.rows}:{report.head_hash}")


def _anchor_holds(session: Session, anchor: str) -> bool:
    seq, _, expected = anchor.partition(":")
    if not seq.isdigit() or len(expected) != 64:
        raise fail("--anchor: give ROW:HASH as printed by `lupus-msc audit verify`")
    return audit.anchor_holds(session, int(seq), expected)


def backup(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Backup file to write (must not exist).")
    ],
) -> None:
    """Back up the database while it runs: SQLite online backup, or pg_dump for PostgreSQL."""
    try:
        written = store_backup.backup(load_settings().database_url, out)
    except store_backup.BackupError as error:
        raise fail(str(error)) from error
    typer.echo(f"backup written: {written}")


def restore(
    source: Annotated[Path, typer.Option("--from", help="A file written by `lupus-msc backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data.")
    ] = False,
) -> None:
    """Restore a backup into the database, then verify its audit chain."""
    url = load_settings().database_url
    try:
        store_backup.restore(source, url, force=force)
    except store_backup.BackupError as error:
        raise fail(str(error)) from error
    with Database(url).sessions() as session:
        report = audit.verify(session)
    if not report.intact:
        typer.echo(f"restored, but the audit chain is BROKEN at row {report.broken_seq}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"restored {source}; audit chain intact ({report.rows} rows)")
