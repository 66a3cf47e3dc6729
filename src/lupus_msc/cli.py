"""The ``lupus-msc`` command line: a thin shell over the library (DESIGN.md, Interfaces)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lupus_msc.scoring.jsonio import ScoreInputError
from lupus_msc.scoring.registry import INSTRUMENTS, UnknownInstrument
from lupus_msc.scoring.run import score_text

app = typer.Typer(
    help="lupus-msc: run an MSC therapy programme for SLE and measure it with validated tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000
README_EXAMPLE = '{"arthritis": true, "rash": true, "labs": {"c3_g_l": 0.7, "c3_lln_g_l": 0.9}}'


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
    try:
        output = score_text(instrument, _read_input(input_path))
    except UnknownInstrument as error:
        raise _fail(str(error)) from error
    except ScoreInputError as error:
        for field, message in error.problems:
            typer.echo(f"error: {instrument}: {field}: {message}", err=True)
        raise typer.Exit(code=2) from error
    typer.echo(output)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEMO_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEMO_PORT,
) -> None:
    """Serve the web application and its HTTP API."""
    import uvicorn

    uvicorn.run("lupus_msc.web.app:create_app", factory=True, host=host, port=port)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEMO_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEMO_PORT,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Print the instructions only; do not serve.")
    ] = False,
) -> None:
    """Start the demo: the scoring API on localhost, with two commands to try."""
    base = f"http://{host}:{port}"
    typer.echo(
        f"lupus-msc demo: API on {base}  (interactive docs: {base}/docs)\n\n"
        "Score a visit over HTTP:\n"
        f"  curl -s -X POST {base}/api/v1/score/sledai2k "
        f"-H 'content-type: application/json' -d '{README_EXAMPLE}'\n\n"
        "Score the same visit from the command line:\n"
        f"  echo '{README_EXAMPLE}' | .venv/bin/lupus-msc score sledai2k\n"
    )
    if not no_serve:
        serve(host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    app()
