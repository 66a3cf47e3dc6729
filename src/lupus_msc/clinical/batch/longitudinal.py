"""Positions in a prepared visit table: each visit's patient, previous visit and baseline visit.

The baseline visit of a patient is the first visit flagged ``is_baseline``, else the first visit.
``add_positions`` adds the row numbers once; ``previous(column)`` and ``baseline(column)`` then
read another visit's value for every row with a single gather (the table is sorted by patient and
date, see ``frame.prepare``).
"""

from __future__ import annotations

import polars as pl

from lupus_msc.clinical.batch.frame import ROW

PATIENT = "_patient"
PREVIOUS_ROW = "_previous_row"
BASELINE_ROW = "_baseline_row"
POSITION_COLUMNS = (PATIENT, PREVIOUS_ROW, BASELINE_ROW)


def add_positions(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the patient number and the previous and baseline visits' row numbers."""
    if BASELINE_ROW in frame.columns:
        return frame
    first_visit = (pl.col("patient_id") != pl.col("patient_id").shift(1)).fill_null(True)
    with_patient = frame.with_columns(first_visit.cum_sum().alias(PATIENT))
    flagged = pl.when(pl.col("is_baseline").fill_null(False)).then(pl.col(ROW))
    return with_patient.with_columns(
        pl.when(~first_visit).then(pl.col(ROW) - 1).alias(PREVIOUS_ROW),
        pl.coalesce(flagged.min().over(PATIENT), pl.col(ROW).min().over(PATIENT)).alias(
            BASELINE_ROW
        ),
    )


def previous(value: str | pl.Expr) -> pl.Expr:
    """The value at the patient's previous visit (null at the first visit)."""
    expr = pl.col(value) if isinstance(value, str) else value
    return pl.when(pl.col(PREVIOUS_ROW).is_not_null()).then(expr.shift(1))


def baseline(value: str | pl.Expr) -> pl.Expr:
    """The value at the patient's baseline visit."""
    expr = pl.col(value) if isinstance(value, str) else value
    return expr.gather(pl.col(BASELINE_ROW))


def is_baseline_visit() -> pl.Expr:
    """True on the row that is its patient's baseline visit."""
    return pl.col(ROW) == pl.col(BASELINE_ROW)
