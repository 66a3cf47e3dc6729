"""Prednisone-equivalent mg/day over a prepared visit table (§11; contract §16.11).

A visit's glucocorticoids are the schema's medication slots. The daily dose is kept as an exact
fraction ``numerator / denominator`` (Int128 columns) so that the band, the LLDAS/DORIS dose
checks and the SFI comparisons downstream are decided exactly, as the single-record version does
with Python fractions: slot mg/day = dose_mg × 5 / equivalent_mg × doses_per_day / every_days.
A slot naming a drug without a dose leaves the visit's total unknown (null); a visit without any
slot took no glucocorticoid (0 mg, band "none").
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from lupus_msc.clinical.batch.frame import exact_value, fixed_threshold
from lupus_msc.clinical.batch.schema import GLUCOCORTICOID_SLOTS
from lupus_msc.clinical.prednisone_equivalent import (
    DORIS_MAX_MG_DAY,
    DOSE_BANDS,
    EQUIVALENT_DOSE_MG,
    LLDAS_MAX_MG_DAY,
    PREDNISONE_REFERENCE_MG,
)

PREFIX = "prednisone-equivalent."
NUMERATOR = PREFIX + "numerator"
DENOMINATOR = PREFIX + "denominator"
"""The exact daily dose in mg is NUMERATOR / DENOMINATOR (both Int128; null when unknown)."""
SLOTS = range(1, GLUCOCORTICOID_SLOTS + 1)


def _slot(slot: int) -> tuple[pl.Expr, pl.Expr]:
    """(numerator, denominator) of one slot's mg/day; (0, 1) for an empty slot."""
    prefix = f"glucocorticoid_{slot}"
    drug = pl.col(f"{prefix}_drug")
    dose = pl.col(f"{prefix}_dose_mg").cast(pl.Int128)  # mg × 10^3, exact (scale 3)
    equivalent = drug.replace_strict(
        {name: fixed_threshold(f"{prefix}_dose_mg", mg) for name, mg in EQUIVALENT_DOSE_MG.items()},
        default=None,
        return_dtype=pl.Int128,
    )
    per_day = pl.col(f"{prefix}_doses_per_day").fill_null(1).cast(pl.Int128)
    every = pl.col(f"{prefix}_every_days").fill_null(1).cast(pl.Int128)
    reference = int(PREDNISONE_REFERENCE_MG)
    numerator = pl.when(drug.is_null()).then(0).otherwise(dose * reference * per_day)
    denominator = pl.when(drug.is_null()).then(1).otherwise(equivalent * every)
    return numerator.cast(pl.Int128), denominator.cast(pl.Int128)


def at_most(
    limit: Decimal | int, numerator: str = NUMERATOR, denominator: str = DENOMINATOR
) -> pl.Expr:
    """Exactly: numerator / denominator ≤ limit (null when the dose is unknown)."""
    bound = Fraction(limit)
    return pl.col(numerator) * bound.denominator <= pl.col(denominator) * bound.numerator


def _band() -> pl.Expr:
    expression: Any = pl.when(pl.col(NUMERATOR) == 0).then(pl.lit("none"))
    for band, upper in DOSE_BANDS[1:]:
        condition = pl.lit(True) if upper is None else at_most(upper)
        expression = expression.when(condition).then(pl.lit(band))
    return pl.when(pl.col(NUMERATOR).is_not_null()).then(expression)


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return numerator.cast(pl.Float64) / denominator.cast(pl.Float64)


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the prednisone-equivalent result columns to a prepared visit table (§11, §16.11)."""
    (n1, d1), (n2, d2) = (_slot(slot) for slot in SLOTS)
    weight = pl.col("weight_kg").cast(pl.Int128)  # kg × 10 (scale 1)
    exact = frame.with_columns(
        (n1 * d2 + n2 * d1).alias(NUMERATOR),
        (d1 * d2).alias(DENOMINATOR),
        _ratio(n1, d1).alias(PREFIX + "slot_1_mg_day"),
        _ratio(n2, d2).alias(PREFIX + "slot_2_mg_day"),
    )
    return exact.with_columns(
        _ratio(pl.col(NUMERATOR), pl.col(DENOMINATOR)).alias(PREFIX + "prednisone_mg_day"),
        _band().alias(PREFIX + "band"),
        _ratio(pl.col(NUMERATOR) * 10, pl.col(DENOMINATOR) * weight).alias(PREFIX + "mg_kg_day"),
        at_most(LLDAS_MAX_MG_DAY).alias(PREFIX + "lldas_dose_ok"),
        at_most(DORIS_MAX_MG_DAY).alias(PREFIX + "doris_dose_ok"),
    )


def result_fields(row: dict[str, Any]) -> dict[str, Any] | None:
    """One scored row in the single-record result's shape (§16.11); None when unknown."""
    if row[NUMERATOR] is None:
        return None
    per_drug = [
        {
            "drug": row[f"glucocorticoid_{slot}_drug"],
            "prednisone_mg_day": row[PREFIX + f"slot_{slot}_mg_day"],
        }
        for slot in SLOTS
        if row[f"glucocorticoid_{slot}_drug"] is not None
    ]
    return {
        "prednisone_mg_day": row[PREFIX + "prednisone_mg_day"],
        "per_drug": per_drug,
        "band": row[PREFIX + "band"],
        "mg_kg_day": row[PREFIX + "mg_kg_day"],
        "lldas_dose_ok": row[PREFIX + "lldas_dose_ok"],
        "doris_dose_ok": row[PREFIX + "doris_dose_ok"],
        "missing": [],
    }


def single_record_input(row: dict[str, Any]) -> dict[str, Any] | None:
    """The single-record input (§16.11) for one prepared row; None when a drug has no dose."""
    medications = []
    for slot in SLOTS:
        prefix = f"glucocorticoid_{slot}"
        if row[f"{prefix}_drug"] is None:
            continue
        if row[f"{prefix}_dose_mg"] is None:
            return None
        medication = {
            "drug": row[f"{prefix}_drug"],
            "dose_mg": exact_value(row, f"{prefix}_dose_mg"),
        }
        for field in ("doses_per_day", "every_days"):
            if row[f"{prefix}_{field}"] is not None:
                medication[field] = row[f"{prefix}_{field}"]
        medications.append(medication)
    return {"medications": medications, "weight_kg": exact_value(row, "weight_kg")}
