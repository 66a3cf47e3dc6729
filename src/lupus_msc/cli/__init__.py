"""The ``lupus-msc`` command line: a thin shell over the library (DESIGN.md, Interfaces)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from lupus_msc.cli import demo, evidence, export, imports, registry, report, synth_load
from lupus_msc.cli.import_fhir import register_fhir_import
from lupus_msc.cli.import_redcap import register_redcap_import
from lupus_msc.scoring.jsonio import ScoreInputError
from lupus_msc.scoring.registry import INSTRUMENTS, UnknownInstrument, get_instrument
from lupus_msc.scoring.run import score_text

app = typer.Typer(
    help="lupus-msc: run an MSC therapy programme for SLE and measure it with validated tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise _fail(f"--input: cannot read {source}: {error.strerror}") from error


@app.command()
def score(
    instrument: Annotated[
        str | None, typer.Argument(help="Instrument name, as listed by --list.")
    ] = None,
    input_path: Annotated[
        str, typer.Option("--input", "-i", help="JSON file, or - for standard input.")
    ] = "-",
    list_instruments: Annotated[
        bool, typer.Option("--list", help="List the instruments and exit.")
    ] = False,
    show_schema: Annotated[
        bool,
        typer.Option(
            "--schema", help="Print the instrument's input fields (JSON Schema) and exit."
        ),
    ] = False,
) -> None:
    """Score one assessment (a JSON object) or many (a JSON array) with a clinical instrument.

    Prints the result as JSON. Bad input exits with code 2, a message naming the field on
    standard error, and nothing on standard output.
    """
    if list_instruments:
        for item in INSTRUMENTS.values():
            typer.echo(f"{item.name}\t{item.section}\t{item.title}")
        return
    if instrument is None:
        raise _fail("INSTRUMENT is required (see lupus-msc score --list)")
    if show_schema:
        try:
            model = get_instrument(instrument).input_model
        except UnknownInstrument as error:
            raise _fail(str(error)) from error
        typer.echo(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))
        return
    try:
        output = score_text(instrument, _read_input(input_path))
    except UnknownInstrument as error:
        raise _fail(str(error)) from error
    except ScoreInputError as error:
        for field, message in error.problems:
            typer.echo(f"error: {instrument}: {field}: {message}", err=True)
        raise typer.Exit(code=2) from error
    typer.echo(output)


@app.command("score-batch")
def score_batch(
    input_path: Annotated[Path, typer.Option("--input", "-i", help="Visit table (Parquet).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the scored table.")],
) -> None:
    """Score every visit of a visit table with every batch instrument (columns: see README).

    Bad columns or types are refused, naming the column, before any scoring starts.
    """
    import time

    import polars as pl
    from rich.console import Console
    from rich.progress import Progress

    from lupus_msc.clinical.batch.engine import STAGES, score_visits
    from lupus_msc.clinical.batch.frame import BatchInputError, check_columns

    try:
        check_columns(pl.read_parquet_schema(input_path))
        visits = pl.read_parquet(input_path)
    except (OSError, pl.exceptions.ComputeError) as error:
        raise _fail(f"--input: cannot read {input_path} as Parquet: {error}") from error
    except BatchInputError as error:
        raise _fail(f"--input: column {error}") from error
    started = time.perf_counter()
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("scoring", total=len(STAGES))
        try:
            scored = score_visits(visits, on_stage=lambda _: progress.advance(task))
        except BatchInputError as error:
            raise _fail(f"--input: column {error}") from error
    out.parent.mkdir(parents=True, exist_ok=True)
    scored.write_parquet(out)
    seconds = time.perf_counter() - started
    patients = scored.select(pl.col("patient_id").n_unique()).item()
    typer.echo(f"scored {scored.height} visits of {patients} patients in {seconds:.1f} s → {out}")


synth_app = typer.Typer(help="Synthetic cohorts for the demo, the tests and the benchmarks.")
app.add_typer(synth_app, name="synth")


@synth_app.command("visits")
def synth_visits(
    patients: Annotated[int, typer.Option(min=1, help="Number of patients.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for visits.parquet.")],
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same cohort.")
    ] = 0,
) -> None:
    """Write a seeded synthetic visit table (recorded items only) to DIR/visits.parquet."""
    from lupus_msc.synth.visits import write_visits

    path = write_visits(patients, out, seed=seed)
    typer.echo(f"wrote {path}")


app.command("demo")(demo.demo)
app.command("serve")(demo.serve)
app.command("init")(registry.init)
synth_app.command("load")(synth_load.synth_load)
app.command("backup")(registry.backup)
app.command("restore")(registry.restore)
app.add_typer(registry.site_app, name="site")
app.add_typer(registry.user_app, name="user")
app.add_typer(registry.audit_app, name="audit")
app.add_typer(evidence.app, name="evidence")
app.add_typer(report.app, name="report")
app.add_typer(export.app, name="export")
app.add_typer(imports.app, name="import")
register_fhir_import(imports.app)
register_redcap_import(imports.app)


if __name__ == "__main__":  # pragma: no cover
    app()
