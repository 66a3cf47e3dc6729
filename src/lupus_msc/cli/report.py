"""``lupus-msc report``: the program outcomes report, the safety report, one patient's summary
and the analysis dataset.

Reports read the registry (``LUPUS_MSC_DATABASE_URL``) or an analysis dataset written before by
``lupus-msc report dataset`` (``--dataset DIR``: for registry-wide runs, DESIGN.md "analytics
read columnar exports"). HTML is one self-contained file; PDF lays out the same HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lupus_msc.cli.registry import fail

if TYPE_CHECKING:
    from lupus_msc.analytics.cohort_filter import CohortFilter
    from lupus_msc.analytics.dataset import AnalysisDataset

app = typer.Typer(help="Reports: program outcomes, safety, one patient; the analysis dataset.")


class Format(StrEnum):
    html = "html"
    pdf = "pdf"


class DatasetFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


DatasetOption = Annotated[
    Path | None,
    typer.Option("--dataset", help="Read this analysis dataset (Parquet) instead of the registry."),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Data cut-off, YYYY-MM-DD (default: today).")
]
SiteOption = Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeat).")]
SourceOption = Annotated[
    list[str] | None,
    typer.Option("--source", help="Only this tissue source, e.g. umbilical-cord (repeat)."),
]
DoseOption = Annotated[
    list[str] | None, typer.Option("--dose-band", help='Only this dose band, e.g. "1 to < 2".')
]
FromOption = Annotated[
    str | None, typer.Option("--from", help="First infusion on or after YYYY-MM-DD.")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="First infusion on or before YYYY-MM-DD.")
]
FormatOption = Annotated[Format, typer.Option("--format", help="html or pdf.")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the report.")]


def parse_date(text: str | None, option: str) -> dt.date | None:
    """An ISO date given as ``option`` (None stays None); exit 2 naming the option if bad."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def load_dataset(dataset: Path | None, as_of: dt.date | None) -> AnalysisDataset:
    """The analysis dataset: read from ``dataset`` or built from the registry."""
    from lupus_msc.analytics.dataset import AnalysisDataset, build
    from lupus_msc.analytics.registry_extract import read_registry
    from lupus_msc.cli.registry import open_database
    from lupus_msc.services.fields import today

    if dataset is not None:
        if as_of is not None:
            raise fail("--as-of: a dataset keeps its own cut-off; leave --as-of out")
        try:
            return AnalysisDataset.read(dataset)
        except ValueError as error:
            raise fail(f"--dataset: {error}") from error
    database = open_database()
    try:
        with database.reads() as session:
            tables = read_registry(session)
    finally:
        database.dispose()
    return build(tables, as_of or today())


def _progress(steps: tuple[str, ...]) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A progress bar on stderr over ``steps``: the callback to advance it and to close it."""
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(console=Console(stderr=True), transient=True)
    task = progress.add_task("report", total=len(steps))
    progress.start()

    def advance(step: str) -> None:
        progress.update(task, advance=1, description=step)

    return advance, progress.stop


def _write(html: str, kind: Format, out: Path | None, default_name: str) -> Path:
    from lupus_msc.analytics.report_render import to_pdf

    path = out or Path(f"{default_name}.{kind.value}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind is Format.pdf:
        path.write_bytes(to_pdf(html))
    else:
        path.write_text(html, encoding="utf-8")
    return path


def _cohort(
    sites: list[str] | None,
    sources: list[str] | None,
    doses: list[str] | None,
    start: str | None,
    end: str | None,
) -> CohortFilter:
    from lupus_msc.analytics.cohort_filter import CohortFilter

    try:
        return CohortFilter(
            sites=tuple(sites or ()),
            tissue_sources=tuple(sources or ()),
            dose_bands=tuple(doses or ()),
            infused_from=parse_date(start, "--from"),
            infused_to=parse_date(end, "--to"),
        )
    except ValueError as error:
        raise fail(f"--from/--to: {error}") from error


def _selected(
    dataset: Path | None, as_of: str | None, chosen: CohortFilter
) -> tuple[CohortFilter, AnalysisDataset]:
    """The filter and the dataset of the patients it keeps (read or built, then selected)."""
    from lupus_msc.analytics.cohort_filter import select

    return chosen, select(load_dataset(dataset, parse_date(as_of, "--as-of")), chosen)


@app.command("outcomes")
def outcomes(
    kind: FormatOption = Format.html,
    out: OutOption = None,
    dataset: DatasetOption = None,
    as_of: AsOfOption = None,
    site: SiteOption = None,
    source: SourceOption = None,
    dose_band: DoseOption = None,
    start: FromOption = None,
    end: ToOption = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence",
            help="A CSV of your own published-study rows (the shipped table's columns), added.",
        ),
    ] = None,
) -> None:
    """The program outcomes report: Table 1, outcomes by time point and subgroup, time to
    LLDAS / remission / flare, medication and organ changes, safety, published results."""
    from lupus_msc.analytics.evidence_table import EvidenceTableError, studies
    from lupus_msc.analytics.report_outcomes import STEPS, outcomes_report
    from lupus_msc.analytics.report_render import outcomes_html

    try:
        rows = studies(evidence)
    except EvidenceTableError as error:
        raise fail(f"--evidence: {error}") from error
    chosen, data = _selected(dataset, as_of, _cohort(site, source, dose_band, start, end))
    advance, close = _progress((*STEPS, "render"))
    try:
        report = outcomes_report(data, cohort=chosen, on_step=advance, evidence_rows=rows)
        html = outcomes_html(report)
        path = _write(html, kind, out, "outcomes-report")
        advance("render")
    except ValueError as error:
        raise fail(str(error)) from error
    finally:
        close()
    typer.echo(f"outcomes report of {report.patients} patients → {path}")


@app.command("safety")
def safety(
    kind: FormatOption = Format.html,
    out: OutOption = None,
    dataset: DatasetOption = None,
    as_of: AsOfOption = None,
    site: SiteOption = None,
    source: SourceOption = None,
    dose_band: DoseOption = None,
    start: FromOption = None,
    end: ToOption = None,
) -> None:
    """The safety report for a monitoring board: adverse events by grade, seriousness and
    relatedness, rates per 100 patient-years, infusion reactions, deaths, serious events listed."""
    from lupus_msc.analytics.report_render import safety_html
    from lupus_msc.analytics.report_safety import safety_report

    chosen, data = _selected(dataset, as_of, _cohort(site, source, dose_band, start, end))
    try:
        report = safety_report(data, cohort=chosen)
    except ValueError as error:
        raise fail(str(error)) from error
    path = _write(safety_html(report), kind, out, "safety-report")
    typer.echo(f"safety report of {report.summary.patients} patients → {path}")


@app.command("patient")
def patient(
    code: Annotated[str, typer.Argument(metavar="PATIENT_CODE", help="Study code, e.g. A01-0001.")],
    kind: FormatOption = Format.html,
    out: OutOption = None,
) -> None:
    """One patient's summary for the referring doctor: identification, screening, infusions,
    visits with their outcome states, adverse events, figures, and what published studies report
    for patients like this one (published results, not a prediction).

    No one is signed in on the command line: the registry is read, read-only, as an
    administrator would read it (every site, identity included), so whoever can run this command
    against the database can read any patient's identified summary.
    """
    from lupus_msc.analytics.report_patient import UnknownPatient, patient_report, reader
    from lupus_msc.analytics.report_render import patient_html
    from lupus_msc.cli.registry import open_database

    database = open_database()
    try:
        with database.reads() as session:
            report = patient_report(session, reader(), code)
    except UnknownPatient:
        raise fail(f"PATIENT_CODE: no patient with code {code!r}") from None
    finally:
        database.dispose()
    path = _write(patient_html(report), kind, out, f"patient-{report.patient.study_code}")
    started = "" if report.follow_up_started else " (follow-up not started)"
    typer.echo(f"patient summary of {report.patient.study_code}{started} → {path}")


@app.command("dataset")
def dataset_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the files to.")],
    kind: Annotated[DatasetFormat, typer.Option("--format")] = DatasetFormat.parquet,
    as_of: AsOfOption = None,
) -> None:
    """The analysis dataset: patients, visits (every derived outcome) and adverse events."""
    data = load_dataset(None, parse_date(as_of, "--as-of"))
    paths = data.write(out, kind.value)
    typer.echo(
        f"{data.patients.height} patients, {data.visits.height} visits, "
        f"{data.adverse_events.height} adverse events → {', '.join(p.name for p in paths)} in {out}"
    )
