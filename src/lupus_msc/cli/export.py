"""``lupus-msc export csv|parquet|sdtm|odm|redcap|fhir``: the registry in the standard formats,
identified or de-identified (issue 8).

Each command is one ``interop.exports.ExportRequest`` run by ``interop.exports.run`` — the same
exports the API's ``/api/v1/exports`` jobs write:

* ``csv``, ``parquet`` — the analysis dataset of ``lupus-msc report dataset`` (patients,
  visits, adverse events, dataset.json), ``--batch-size`` patients at a time
  (``interop.dataset_export``);
* ``sdtm`` — SDTM-style DM, AE, CM, EX, LB, VS, QS, RS as Dataset-JSON 1.1 and CSV with
  define.json; ``odm`` — CDISC ODM 1.3.2 (``interop.cdisc_export``);
* ``redcap`` — a REDCap project: data dictionary, events, instrument–event mapping, repeating
  instruments and records (``interop.redcap_project``);
* ``fhir`` — FHIR R4 NDJSON, one file per resource type, the files of ``/fhir/$export``
  (``interop.fhir_bulk``); ``--type`` limits the types.

``--deidentify`` gives the Safe Harbor form (README, "De-identification"): pseudonyms, dates
shifted by each patient's secret offset or, with ``--dates days`` (csv, parquet, sdtm, odm),
day numbers from the first infusion; no names, record numbers or birth dates; ages over 89
grouped; identifying words redacted from free text. The keys are created on first need as the
system (no one is signed in on the command line). ``--as-of`` is the data cut-off (csv,
parquet, sdtm, odm). The registry is ``LUPUS_MSC_DATABASE_URL``; progress is drawn on stderr.

Every option is checked, and the sites looked up, before anything is read or written: a bad
option exits with code 2, a message naming it, and no file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lupus_msc.cli.registry import fail
from lupus_msc.cli.report import parse_date
from lupus_msc.interop.dataset_export import BATCH_SIZE, MAX_BATCH_SIZE

if TYPE_CHECKING:
    from lupus_msc.interop.exports import ExportRequest, Format
    from lupus_msc.services.errors import ServiceError

app = typer.Typer(help="Export the registry: CSV, Parquet, SDTM, ODM, REDCap or FHIR NDJSON.")


class DateForm(StrEnum):
    shift = "shift"
    days = "days"


OutOption = Annotated[
    Path, typer.Option("--out", "-o", help="Directory to write the files to (created).")
]
DeidentifyOption = Annotated[
    bool,
    typer.Option(
        "--deidentify",
        help="Safe Harbor de-identification: pseudonyms, shifted dates or day numbers, "
        "ages over 89 grouped.",
    ),
]
DatesOption = Annotated[
    DateForm | None,
    typer.Option(
        "--dates",
        help="With --deidentify: shift (each patient's secret offset, the default) or days "
        "(day numbers from the first infusion).",
    ),
]
SiteOption = Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeat).")]
BatchSizeOption = Annotated[
    int,
    typer.Option(
        "--batch-size",
        min=1,
        max=MAX_BATCH_SIZE,
        help="Patients read and written at a time (memory grows with it, not with the registry).",
    ),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Data cut-off, YYYY-MM-DD (default: today).")
]
TypeOption = Annotated[
    list[str] | None,
    typer.Option("--type", help="Only this resource type (repeat), e.g. Patient, Observation."),
]
OPTIONS = {
    "dates": "--dates",
    "as_of": "--as-of",
    "sites": "--site",
    "types": "--type",
    "batch_size": "--batch-size",
}
"""The request's fields as the command line names them."""


def _progress(steps: tuple[str, ...]) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A progress bar on stderr over ``steps``: the callback to advance it and to close it."""
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(console=Console(stderr=True), transient=True)
    task = progress.add_task(steps[0], total=len(steps))
    progress.start()

    def advance(step: str) -> None:
        progress.update(task, advance=1, description=step)

    return advance, progress.stop


def _option_error(error: ServiceError) -> typer.Exit:
    """A service's refusal as the command line says it, with the option's name."""
    if error.fields:
        field, message = error.fields[0]
        return fail(f"{OPTIONS.get(field, field)}: {message}")
    return fail(error.message)


def export(request: ExportRequest, out: Path) -> None:
    """Check the request (exit 2 naming the first bad option), then export and say what was
    written."""
    from lupus_msc.cli.registry import open_database
    from lupus_msc.interop.exports import check, run, scope_sites
    from lupus_msc.services.errors import ServiceError

    try:
        request = check(request)
    except ServiceError as error:
        raise _option_error(error) from error
    if out.exists() and not out.is_dir():
        raise fail(f"--out: {out} exists and is not a directory")
    database = open_database()
    try:
        request = replace(request, sites=scope_sites(database, None, request.sites))
        exported = run(database, request, out, progress=_progress)
    except ServiceError as error:
        raise _option_error(error) from error
    finally:
        database.dispose()
    form = f"de-identified (dates: {request.date_form}) " if request.deidentified else ""
    names = ", ".join(path.name for path in exported.paths)
    typer.echo(f"{form}{exported.summary} → {names} in {out}")


def _request(
    kind: Format,
    deidentify: bool,
    dates: DateForm | None = None,
    site: list[str] | None = None,
    as_of: str | None = None,
    *,
    batch_size: int | None = None,
    types: list[str] | None = None,
) -> ExportRequest:
    from lupus_msc.interop.exports import ExportRequest

    return ExportRequest(
        kind,
        deidentified=deidentify,
        dates=None if dates is None else dates.value,
        sites=tuple(site or ()),
        as_of=parse_date(as_of, "--as-of"),
        types=None if types is None else tuple(types),
        batch_size=batch_size,
    )


def _dataset_command(kind: Format, doc: str) -> Callable[..., None]:
    def command(
        out: OutOption,
        deidentify: DeidentifyOption = False,
        dates: DatesOption = None,
        site: SiteOption = None,
        as_of: AsOfOption = None,
        batch_size: BatchSizeOption = BATCH_SIZE,
    ) -> None:
        export(_request(kind, deidentify, dates, site, as_of, batch_size=batch_size), out)

    command.__doc__ = doc
    return command


def _cdisc_command(kind: Format, doc: str) -> Callable[..., None]:
    def command(
        out: OutOption,
        deidentify: DeidentifyOption = False,
        dates: DatesOption = None,
        site: SiteOption = None,
        as_of: AsOfOption = None,
    ) -> None:
        export(_request(kind, deidentify, dates, site, as_of), out)

    command.__doc__ = doc
    return command


app.command("csv")(
    _dataset_command("csv", "The analysis dataset as CSV: patients, visits, adverse events and "
                     "dataset.json.")
)  # fmt: skip
app.command("parquet")(
    _dataset_command("parquet", "The analysis dataset as Parquet: patients, visits, adverse "
                     "events and dataset.json.")
)  # fmt: skip
app.command("sdtm")(
    _cdisc_command("sdtm", "SDTM-style DM, AE, CM, EX, LB, VS, QS, RS as Dataset-JSON 1.1 and "
                   "CSV, and define.json.")
)  # fmt: skip
app.command("odm")(
    _cdisc_command("odm", "CDISC ODM 1.3.2 (odm.xml): study events, forms, items and the "
                   "clinical data.")
)  # fmt: skip


@app.command("redcap")
def export_redcap(
    out: OutOption, deidentify: DeidentifyOption = False, site: SiteOption = None
) -> None:
    """A REDCap project: dictionary, events, mapping, repeating instruments, records."""
    export(_request("redcap", deidentify, site=site), out)


@app.command("fhir")
def export_fhir(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    site: SiteOption = None,
    resource_type: TypeOption = None,
) -> None:
    """FHIR R4 resources as NDJSON, one file per type (the Bulk Data export's files)."""
    export(_request("fhir", deidentify, site=site, types=resource_type), out)
