"""``lupus-msc import fhir BUNDLE.json [--dry-run]``: lab results from a FHIR R4 Bundle of
Observations (issue 8), all or nothing, as the system actor (rules: ``services.lab_import`` and
``interop.fhir_import``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lupus_msc.cli.registry import fail, open_database
from lupus_msc.interop.fhir_import import import_bundle
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.lab_import import ImportRefused, ImportSummary, VisitImport


def register_fhir_import(app: typer.Typer) -> None:
    app.command("fhir")(import_fhir)


def import_fhir(
    bundle: Annotated[Path, typer.Argument(help="A FHIR R4 Bundle (JSON) of lab Observations.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report the import; write nothing.")
    ] = False,
) -> None:
    """Import lab results from a FHIR Bundle of Observations onto the visits recorded on their
    dates. Every problem is printed on standard error naming the entry and field, and the
    command exits with code 2 having written nothing."""
    try:
        text = bundle.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"BUNDLE: cannot read {bundle}: {error}") from error
    database = open_database()
    try:
        summary = import_bundle(database, None, text, dry_run=dry_run)
    except ImportRefused as error:
        for where, message in error.fields:
            typer.echo(f"error: {where}: {message}", err=True)
        raise typer.Exit(code=2) from error
    except ServiceError as error:
        raise fail(error.message) from error
    finally:
        database.dispose()
    for visit in summary.visits:
        typer.echo(_visit_line(visit))
    typer.echo(_total_line(summary))


def _visit_line(visit: VisitImport) -> str:
    counts = [
        (len(visit.created), "added"),
        (len(visit.replaced), "replaced (the old result kept, superseded)"),
        (len(visit.skipped), "already stored, skipped"),
    ]
    done = ", ".join(f"{count} {what}" for count, what in counts if count)
    line = f"{visit.study_code} visit {visit.visit_code} ({visit.visit_date}): {done}"
    if visit.signature_cleared:
        line += "; its signature was cleared: the investigator signs it again"
    return line


def _total_line(summary: ImportSummary) -> str:
    results = f"{summary.results_written} result{'s' if summary.results_written != 1 else ''}"
    patients = len(summary.patients)
    counted = f"{results} for {patients} patient{'s' if patients != 1 else ''}"
    if summary.dry_run:
        return f"dry run: {counted} would be written from {summary.source}; nothing was written"
    return f"wrote {counted} from {summary.source}"
