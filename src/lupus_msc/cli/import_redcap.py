"""``lupus-msc import redcap``: a REDCap project's records (data dictionary + flat records CSV),
translated by a mapping file, imported all or nothing through the services
(``interop.redcap_import``). ``--dry-run`` reports what would be created and every problem,
and writes nothing. Problems are printed one a line on stderr (line, record, event, field,
reason) and exit with code 2, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lupus_msc.cli.registry import fail, open_database

DictionaryOption = Annotated[
    Path, typer.Option("--dictionary", help="The REDCap data dictionary (CSV).")
]
RecordsOption = Annotated[
    Path, typer.Option("--records", help="The records export, REDCap's flat CSV format.")
]
MappingOption = Annotated[
    Path,
    typer.Option(
        "--mapping",
        help="Field, event and choice mapping (.yaml, .json or .csv); for files written by "
        "`lupus-msc export redcap` use lupus_msc/interop/redcap_identity_mapping.yaml.",
    ),
]
ImportSiteOption = Annotated[
    str | None, typer.Option("--site", help="Register every record at this site.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Report what would be created and every problem.")
]


def import_redcap(
    dictionary: DictionaryOption,
    records: RecordsOption,
    mapping: MappingOption,
    site: ImportSiteOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Import a REDCap project's records into the registry, all or nothing."""
    from lupus_msc.interop.redcap_import import KINDS, UnknownSite, run_import
    from lupus_msc.interop.redcap_mapping import MappingError, load
    from lupus_msc.interop.redcap_read import ReadError

    try:
        translation = load(mapping)
    except MappingError as error:
        raise fail(f"--mapping: {error}") from error
    for option, path in (("--dictionary", dictionary), ("--records", records)):
        if not path.is_file():
            raise fail(f"{option}: no file {path}")
    database = open_database()
    try:
        report = run_import(database, dictionary, records, translation, site=site, dry_run=dry_run)
    except ReadError as error:
        raise fail(str(error)) from error
    except UnknownSite as error:
        raise fail(f"--site: {error}") from error
    finally:
        database.dispose()
    counts = ", ".join(f"{report.created[kind]} {kind}" for kind in KINDS)
    for problem in report.problems:
        typer.echo(f"problem: {problem}", err=True)
    if report.problems:
        typer.echo(
            f"{len(report.problems)} problem(s); nothing imported (would create {counts})",
            err=True,
        )
        raise typer.Exit(code=2)
    verb = "would create" if dry_run else "imported"
    typer.echo(f"{verb} {counts}" + (" (dry run: nothing written)" if dry_run else ""))


def register_redcap_import(app: typer.Typer) -> None:
    app.command("redcap")(import_redcap)
