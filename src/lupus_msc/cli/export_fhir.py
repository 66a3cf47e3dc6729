"""``lupus-msc export fhir``: every resource of the registry as FHIR R4 NDJSON (issue 8).

The files are those of the ``/fhir/$export`` Bulk Data export (``interop.fhir_bulk``): one
``<Type>.ndjson`` per resource type, one resource per line, written ``BATCH`` patients at a time
with a progress bar on stderr. ``--deidentify`` gives the resources of
``interop.fhir_deidentify`` (pseudonyms, dates shifted by each patient's secret offset, no names,
birth dates or lot codes, identifying words redacted from free text); FHIR has no "day n" date
form, so ``--dates`` is not offered. ``--type`` limits the resource types. Options are checked
before anything is written: a bad one exits 2 naming it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lupus_msc.cli.export import DeidentifyOption, OutOption, SiteOption, _check_out, _check_sites
from lupus_msc.cli.registry import fail

TypeOption = Annotated[
    list[str] | None,
    typer.Option("--type", help="Only this resource type (repeat), e.g. Patient, Observation."),
]


def export_fhir(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    site: SiteOption = None,
    resource_type: TypeOption = None,
) -> None:
    """FHIR R4 resources as NDJSON, one file per type (the Bulk Data export's files)."""
    from rich.console import Console
    from rich.progress import Progress

    from lupus_msc.cli.registry import open_database
    from lupus_msc.interop.fhir_bulk import check_types, export_ndjson
    from lupus_msc.services.errors import ServiceError

    try:
        types = check_types(resource_type)
    except ServiceError as error:
        raise fail(f"--type: {error.message.removeprefix('_type: ')}") from error
    _check_out(out)
    sites = list(dict.fromkeys(site or ()))
    database = open_database()
    try:
        if sites:
            _check_sites(database, sites)
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("patients", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = export_ndjson(
                database,
                None,
                out,
                types=types,
                site_codes=sites or None,
                deidentify_all=deidentify,
                on_batch=advance,
            )
    finally:
        database.dispose()
    form = "de-identified " if deidentify else ""
    counts = ", ".join(f"{result.counts[kind]:,} {kind}" for kind in result.files)
    typer.echo(f"{form}{result.patients:,} patients → {counts} in {out}")


def register_fhir_export(app: typer.Typer) -> None:
    """Add ``fhir`` to the ``export`` command group."""
    app.command("fhir")(export_fhir)
