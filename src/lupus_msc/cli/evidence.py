"""``lupus-msc evidence``: published evidence (issue 7; rules in shared/evidence/README.md)."""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lupus_msc.analytics.meta_analysis import MetaAnalysisInputError, pool_proportions

app = typer.Typer(help="Published studies of MSC therapy in SLE, and pooling their results.")


class PoolMethod(StrEnum):
    REML = "REML"
    DL = "DL"


class PoolMeasure(StrEnum):
    logit = "logit"
    ft = "ft"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _whole_number(text: str, *, column: str, line: int) -> int:
    try:
        value = float(text.strip())
    except ValueError:
        raise _fail(f"--input line {line}, column {column!r}: {text!r} is not a number") from None
    if not value.is_integer():
        raise _fail(f"--input line {line}, column {column!r}: {text!r} is not a whole number")
    return int(value)


def _read_counts(path: Path, *, events: str, total: str) -> tuple[list[int], list[int], list[int]]:
    """Event and total columns of a CSV file, with the file line of each row."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for column, option in ((events, "--events"), (total, "--total")):
                if column not in columns:
                    raise _fail(f"{option}: no column {column!r} in {path}")
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise _fail(f"--input: cannot read {path} as CSV: {error}") from error
    lines = [line for line, _ in rows]
    event_counts = [_whole_number(row[events] or "", column=events, line=n) for n, row in rows]
    totals = [_whole_number(row[total] or "", column=total, line=n) for n, row in rows]
    return event_counts, totals, lines


@app.command("pool")
def pool(
    input_path: Annotated[Path, typer.Option("--input", "-i", help="CSV file, one row a study.")],
    events: Annotated[str, typer.Option(help="Column with the number of events (responders).")],
    total: Annotated[str, typer.Option(help="Column with the number of patients.")],
    method: Annotated[PoolMethod, typer.Option(help="tau² estimator.")] = PoolMethod.REML,
    measure: Annotated[
        PoolMeasure, typer.Option(help="logit (default) or Freeman–Tukey double arcsine.")
    ] = PoolMeasure.logit,
    knapp_hartung: Annotated[
        bool, typer.Option("--knapp-hartung", help="Knapp–Hartung adjustment (t, k−1 df).")
    ] = False,
) -> None:
    """Random-effects pooled proportion, as R's metafor computes it; prints one JSON object.

    Pool only rows of one outcome at comparable time points, never two rows of one overlap group,
    never HSCT with MSC (shared/evidence/README.md). Bad input exits with code 2.
    """
    event_counts, totals, lines = _read_counts(input_path, events=events, total=total)
    try:
        result = pool_proportions(
            event_counts,
            totals,
            method=method.value,
            measure=measure.value,
            knapp_hartung=knapp_hartung,
        )
    except MetaAnalysisInputError as error:
        where = "--input"
        if error.row is not None:
            column = events if error.field == "events" else total
            where = f"--input line {lines[error.row]}, column {column!r}"
        raise _fail(f"{where}: {error}") from error
    fields = ("k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q")
    typer.echo(json.dumps({name: getattr(result, name) for name in fields}))
