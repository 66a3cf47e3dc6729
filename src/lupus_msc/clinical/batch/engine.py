"""Score a whole visit table with every batch instrument, in dependency order.

``score_visits`` validates the table (refusing it before any work), prepares it, then runs the
per-visit instruments and the longitudinal ones that read their results. The result is the input
table, sorted by patient and visit date, with every instrument's result columns appended
(``<instrument>.<field>``); the exact working columns (fixed-point values, positions) stay inside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from types import ModuleType

import polars as pl

from lupus_msc.clinical.batch import (
    ctcae,
    doris,
    egfr,
    episodes,
    facit_f,
    lldas,
    prednisone_equivalent,
    renal_response,
    sdi,
    sfi,
    sledai2k,
    sri,
)
from lupus_msc.clinical.batch.frame import ROW, prepare, sorted_visits
from lupus_msc.clinical.batch.longitudinal import add_positions


@dataclass(frozen=True)
class Stage:
    """One step of the batch run: a name for progress reports and a frame → frame function."""

    name: str
    run: Callable[[pl.DataFrame], pl.DataFrame]


STAGES: tuple[Stage, ...] = (
    Stage("positions", add_positions),
    # per visit
    Stage("sledai2k", sledai2k.score),
    Stage("prednisone-equivalent", prednisone_equivalent.score),
    Stage("egfr-ckdepi2021", egfr.score),
    Stage("ctcae", ctcae.score),
    Stage("facit-f", facit_f.score),
    Stage("sdi", sdi.score),
    # longitudinal: against the baseline or the previous visit, reading the per-visit results
    Stage("sri", sri.score),
    Stage("sfi", sfi.score),
    Stage("lldas", lldas.score),
    Stage("doris", doris.score),
    Stage("renal-response", renal_response.score),
    Stage("episodes", episodes.score),
)


PER_RECORD: tuple[tuple[ModuleType, str], ...] = (
    (sledai2k, "sledai2k"),
    (prednisone_equivalent, "prednisone-equivalent"),
    (egfr, "egfr-ckdepi2021"),
    (facit_f, "facit-f"),
    (sdi, "sdi"),
    (sri, "sri"),
    (sfi, "sfi"),
    (lldas, "lldas"),
    (doris, "doris"),
    (renal_response, "renal-response"),
)
"""Batch modules with the single-record instrument each mirrors: ``single_record_input(row)``
gives the input a per-record scorer would get for that row (benchmarks and comparisons)."""


def result_columns(frame: pl.DataFrame) -> list[str]:
    """The instrument result columns of a scored frame (``<instrument>.<field>``)."""
    return [name for name in frame.columns if "." in name and not name.startswith("_")]


ROWS_PER_CHUNK = 1_000_000
"""Whole patients are scored a chunk of about this many visits at a time: every instrument only
reads a patient's own visits, and chunks keep the working columns small enough to stay fast and
to bound memory on a registry of millions of visits."""


def patient_chunks(prepared: pl.DataFrame, rows_per_chunk: int = ROWS_PER_CHUNK) -> list[range]:
    """Row ranges of about ``rows_per_chunk`` visits that never split a patient."""
    patient = pl.col("patient_id")
    starts = (
        prepared.select(pl.arg_where((patient != patient.shift(1)).fill_null(True)))
        .to_series()
        .to_numpy()
    )
    bounds = [0]
    for target in range(rows_per_chunk, prepared.height, rows_per_chunk):
        boundary = int(starts[min(int(starts.searchsorted(target)), len(starts) - 1)])
        if boundary > bounds[-1]:
            bounds.append(boundary)
    bounds.append(prepared.height)
    return [range(a, b) for a, b in pairwise(bounds) if b > a]


def score_prepared(
    prepared: pl.DataFrame,
    stages: Iterable[Stage] = STAGES,
    on_stage: Callable[[str], None] | None = None,
    rows_per_chunk: int = ROWS_PER_CHUNK,
) -> pl.DataFrame:
    """The prepared table with every stage's result columns, scored whole patients a chunk at a
    time; ``on_stage`` hears each stage's name when it ends in each chunk."""
    if prepared.height == 0:  # no chunk to score: the stages still give their (empty) columns
        frame = prepared
        for stage in stages:
            frame = stage.run(frame)
        return prepared.hstack(frame.select(result_columns(frame)))
    results = []
    for rows in patient_chunks(prepared, rows_per_chunk):
        frame = prepared.slice(rows.start, len(rows)).drop(ROW).with_row_index(ROW)
        for stage in stages:
            frame = stage.run(frame)
            if on_stage is not None:
                on_stage(stage.name)
        results.append(frame.select(result_columns(frame)))
    return prepared.hstack(pl.concat(results, how="vertical"))


def score_visits(
    visits: pl.DataFrame,
    on_stage: Callable[[str], None] | None = None,
    rows_per_chunk: int = ROWS_PER_CHUNK,
) -> pl.DataFrame:
    """The visit table sorted by patient and date, with every instrument's result columns."""
    scored = score_prepared(prepare(visits), on_stage=on_stage, rows_per_chunk=rows_per_chunk)
    original = sorted_visits(visits)
    return original.hstack(scored.select(result_columns(scored)))
