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

Every option is checked, and the sites looked up, before anything is read or written: a bad
option exits with code 2, a message naming it, and no file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from lupus_msc.cli.registry import fail
from lupus_msc.cli.report import parse_date

if TYPE_CHECKING:
    import polars as pl

    from lupus_msc.analytics.dataset import AnalysisDataset
    from lupus_msc.interop.deidentify import DeidentifiedDataset
    from lupus_msc.store.database import Database

app = typer.Typer(help="Export the registry's data: the analysis dataset as CSV or Parquet.")

REDACTED = "[redacted]"
WORD = re.compile(r"[\w-]+")


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


def _identifiers(database: Database, codes: Iterable[str]) -> set[str]:
    """Every word (lower case) of the names, study codes and record numbers of ``codes``."""
    from sqlalchemy import select

    from lupus_msc.services.deidentification import CHUNK
    from lupus_msc.store.models import Patient

    wanted = sorted(set(codes))
    words: set[str] = set()
    with database.reads() as session:
        for start in range(0, len(wanted), CHUNK):
            query = select(
                Patient.study_code,
                Patient.given_name,
                Patient.family_name,
                Patient.medical_record_number,
            ).where(Patient.study_code.in_(wanted[start : start + CHUNK]))
            for row in session.execute(query):
                for value in row:
                    words.update(word.lower() for word in WORD.findall(value))
    return words


def _scrub(text: str, identifiers: set[str]) -> str:
    return WORD.sub(lambda m: REDACTED if m[0].lower() in identifiers else m[0], text)


def scrub_terms(events: pl.DataFrame, identifiers: set[str]) -> pl.DataFrame:
    """``events`` with every identifying word of the free-text ``term`` redacted."""
    import polars as pl

    terms = events["term"].drop_nulls().unique().to_list()
    scrubbed = {term: _scrub(term, identifiers) for term in terms}
    changed = {term: new for term, new in scrubbed.items() if new != term}
    if not changed:
        return events
    return events.with_columns(pl.col("term").replace(changed))


def _codes(data: AnalysisDataset) -> set[str]:
    codes: set[str] = set()
    for frame in (data.patients, data.visits, data.adverse_events):
        codes.update(frame["patient_id"].drop_nulls().to_list())
    return codes


def _deidentify(database: Database, data: AnalysisDataset, dates: DateForm) -> DeidentifiedDataset:
    from dataclasses import replace

    from lupus_msc.interop.deidentify import deidentify_dataset
    from lupus_msc.services.deidentification import keys_for

    codes = _codes(data)
    keys = keys_for(database, None, codes)
    events = scrub_terms(data.adverse_events, _identifiers(database, codes))
    return deidentify_dataset(replace(data, adverse_events=events), keys, dates=dates.value)


def _write_deidentified(
    data: DeidentifiedDataset, out: Path, kind: Literal["csv", "parquet"]
) -> list[Path]:
    written = data.write(out, kind)
    about = out / "dataset.json"
    about.write_text(
        json.dumps(
            {
                "deidentified": "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)",
                "dates": data.dates,
                "as_of_year": data.as_of_year,
                "notes": asdict(data.notes),
            },
            indent=2,
        )
    )
    return [*written, about]


def _export(
    kind: Literal["csv", "parquet"],
    out: Path,
    deidentify: bool,
    dates: DateForm | None,
    site: list[str] | None,
    as_of: str | None,
) -> None:
    from lupus_msc.analytics.dataset import build
    from lupus_msc.analytics.registry_extract import read_registry
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
        steps = ("read registry", "build dataset", *(("de-identify",) if deidentify else ()))
        advance, close = _progress((*steps, "write files"))
        try:
            with database.reads() as session:
                tables = read_registry(session, site_codes=sites or None)
            advance("build dataset")
            data = build(tables, cut_off or today())
            if deidentify:
                advance("de-identify")
                private = _deidentify(database, data, dates or DateForm.shift)
                advance("write files")
                paths = _write_deidentified(private, out, kind)
            else:
                advance("write files")
                paths = data.write(out, kind)
            advance("done")
        finally:
            close()
    finally:
        database.dispose()
    form = f"de-identified (dates: {(dates or DateForm.shift).value}) " if deidentify else ""
    typer.echo(
        f"{form}{data.patients.height} patients, {data.visits.height} visits, "
        f"{data.adverse_events.height} adverse events → {', '.join(p.name for p in paths)} in {out}"
    )


@app.command("csv")
def export_csv(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    dates: DatesOption = None,
    site: SiteOption = None,
    as_of: AsOfOption = None,
) -> None:
    """The analysis dataset as CSV: patients, visits, adverse events and dataset.json."""
    _export("csv", out, deidentify, dates, site, as_of)


@app.command("parquet")
def export_parquet(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    dates: DatesOption = None,
    site: SiteOption = None,
    as_of: AsOfOption = None,
) -> None:
    """The analysis dataset as Parquet: patients, visits, adverse events and dataset.json."""
    _export("parquet", out, deidentify, dates, site, as_of)
