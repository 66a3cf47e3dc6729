"""``lupus-msc export csv|parquet``: the analysis dataset of the registry, identified or
de-identified, for researchers (issue 8).

The registry is ``LUPUS_MSC_DATABASE_URL``. The files are those of ``lupus-msc report dataset``
(``patients``, ``visits``, ``adverse_events`` and ``dataset.json``); with ``--deidentify`` they
are ``interop.deidentify``'s Safe Harbor form: pseudonyms for study codes, dates shifted by each
patient's secret offset (``--dates shift``) or day numbers from the first infusion (``--dates
days``), ages over 89 as "90 or older", and only the year of the cut-off in ``dataset.json``.
The keys are created on first need by ``services.deidentification.keys_for`` as the system
(no one is signed in on the command line), so a later export gives the same pseudonyms and
offsets. Free text — the adverse-event term — is the export layer's to scrub: any word of it
that is a name, study code or record number of an exported patient becomes ``[redacted]``.

The registry is read ``--batch-size`` patients at a time (default 10,000): each batch is read,
built, de-identified and appended to the files before the next, which is read meanwhile, so
memory stays flat however large the registry (``export_batches``). The de-identification keys
are created a batch at a time too (one audited transaction each), and a de-identified export
is written in pseudonym order, as one batch of every patient would be (the study-code order
would say something of the enrolment order).

Every option is checked, and the sites looked up, before anything is read or written: a bad
option exits with code 2, a message naming it, and no file.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from lupus_msc.cli.registry import fail
from lupus_msc.cli.report import parse_date
from lupus_msc.interop.dataset_export import BATCH_SIZE, MAX_BATCH_SIZE, export_batches

if TYPE_CHECKING:
    from lupus_msc.store.database import Database

app = typer.Typer(help="Export the registry's data: the analysis dataset as CSV or Parquet.")


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


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise fail(f"--out: {out} exists and is not a directory")


def _check_sites(database: Database, sites: list[str]) -> None:
    from sqlalchemy import select

    from lupus_msc.store.models import Site

    with database.reads() as session:
        known = set(session.scalars(select(Site.code)))
    unknown = [code for code in sites if code not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise fail(f"--site: no site {unknown[0]!r} in the registry (sites: {listed})")


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


def _export(
    kind: Literal["csv", "parquet"],
    out: Path,
    deidentify: bool,
    dates: DateForm | None,
    site: list[str] | None,
    as_of: str | None,
    batch_size: int,
) -> None:
    from lupus_msc.cli.registry import open_database
    from lupus_msc.services.fields import today

    if dates is not None and not deidentify:
        raise fail("--dates: only with --deidentify (an identified export keeps real dates)")
    cut_off = parse_date(as_of, "--as-of")
    _check_out(out)
    sites = list(dict.fromkeys(site or ()))
    database = open_database()
    try:
        if sites:
            _check_sites(database, sites)
        form = (dates or DateForm.shift) if deidentify else None
        totals = export_batches(
            database, out, kind, cut_off=cut_off or today(),
            dates=None if form is None else form.value, sites=sites,
            batch_size=batch_size, progress=_progress,
        )  # fmt: skip
    finally:
        database.dispose()
    shown = f"de-identified (dates: {form.value}) " if form is not None else ""
    typer.echo(
        f"{shown}{totals.patients} patients, {totals.visits} visits, "
        f"{totals.adverse_events} adverse events → {', '.join(p.name for p in totals.paths)} "
        f"in {out}"
    )


@app.command("csv")
def export_csv(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    dates: DatesOption = None,
    site: SiteOption = None,
    as_of: AsOfOption = None,
    batch_size: BatchSizeOption = BATCH_SIZE,
) -> None:
    """The analysis dataset as CSV: patients, visits, adverse events and dataset.json."""
    _export("csv", out, deidentify, dates, site, as_of, batch_size)


@app.command("parquet")
def export_parquet(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    dates: DatesOption = None,
    site: SiteOption = None,
    as_of: AsOfOption = None,
    batch_size: BatchSizeOption = BATCH_SIZE,
) -> None:
    """The analysis dataset as Parquet: patients, visits, adverse events and dataset.json."""
    _export("parquet", out, deidentify, dates, site, as_of, batch_size)
