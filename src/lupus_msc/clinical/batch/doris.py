"""DORIS 2021 remission over a prepared visit table (§6, §16.5), equal to ``clinical.doris``.

Per visit the single-record inputs are: ``sledai_descriptors`` = the visit's present SLEDAI-2K
descriptors (given only when its SLEDAI-2K is complete), ``pga``, the exact §11 prednisone
fraction, and ``other_drugs_stable`` (default true when null). The prednisone comparator (D9) is a
parameter of the run, as in the single-record version.

A visit without a complete SLEDAI-2K, a PGA or a known prednisone dose cannot be given to the
single-record version (those inputs are required): all result columns are null and
``result_fields`` and ``single_record_input`` return None. Result columns (prefix ``doris.``):
``remission`` (Boolean), ``clinical_sledai`` and ``failed_components`` (bit mask, bit i =
``COMPONENTS[i]``).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import polars as pl

from lupus_msc.clinical.batch import prednisone_equivalent as batch_prednisone
from lupus_msc.clinical.batch import sledai2k as batch_sledai2k
from lupus_msc.clinical.batch.activity_inputs import (
    CLINICAL_SLEDAI,
    PRESENT,
    scorable,
    with_activity_inputs,
)
from lupus_msc.clinical.batch.frame import exact_value, fixed_threshold, fraction_to_exact
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.doris import PGA_BELOW, Component
from lupus_msc.clinical.prednisone_equivalent import DORIS_MAX_MG_DAY

PREFIX = "doris."
REMISSION = PREFIX + "remission"
CLINICAL = PREFIX + "clinical_sledai"
FAILED_COMPONENTS = PREFIX + "failed_components"
COMPONENTS: tuple[Component, ...] = ("clinical_sledai", "pga", "prednisone", "stable_drugs")
"""Bit i of ``failed_components`` is ``COMPONENTS[i]``."""


def below(limit: Decimal | int) -> pl.Expr:
    """Exactly: the prednisone fraction < limit (the denominator is positive; null if unknown)."""
    bound = Fraction(limit)
    numerator = pl.col(batch_prednisone.NUMERATOR)
    return numerator * bound.denominator < pl.col(batch_prednisone.DENOMINATOR) * bound.numerator


def prednisone_ok(comparator: Literal["le", "lt"]) -> pl.Expr:
    """§6 glucocorticoid component against 5 mg/day with the chosen comparator (D9)."""
    if comparator == "lt":
        return below(DORIS_MAX_MG_DAY)
    return batch_prednisone.at_most(DORIS_MAX_MG_DAY)


def _components(comparator: Literal["le", "lt"]) -> dict[Component, pl.Expr]:
    """Each §6 component: met or not (null only where the row is not scorable)."""
    return {
        "clinical_sledai": pl.col(CLINICAL_SLEDAI) == 0,
        "pga": pl.col("pga") < fixed_threshold("pga", PGA_BELOW),
        "prednisone": prednisone_ok(comparator),
        "stable_drugs": pl.col("other_drugs_stable").fill_null(True),
    }


def score(
    frame: pl.DataFrame, *, prednisone_comparator: Literal["le", "lt"] = "le"
) -> pl.DataFrame:
    """Add the DORIS result columns to a prepared visit table (§6, §16.5).

    Scores SLEDAI-2K and the prednisone equivalent first when their columns are absent.
    """
    inputs = with_activity_inputs(frame)
    found = _components(prednisone_comparator)
    ok = scorable()
    failed = mask_expr([(COMPONENTS.index(name), ~met) for name, met in found.items()])
    return inputs.with_columns(
        pl.when(ok).then(pl.all_horizontal(list(found.values()))).alias(REMISSION),
        pl.when(ok).then(pl.col(CLINICAL_SLEDAI)).alias(CLINICAL),
        pl.when(ok).then(failed).alias(FAILED_COMPONENTS),
    )


def result_fields(row: dict[str, Any]) -> dict[str, Any] | None:
    """One scored row in the single-record result's shape (§16.5); None when not scorable."""
    if row[REMISSION] is None:
        return None
    return {
        "remission": row[REMISSION],
        "clinical_sledai": row[CLINICAL],
        "failed_components": names_in(row[FAILED_COMPONENTS], COMPONENTS),
        "missing": [],
    }


def activity_input(row: dict[str, Any]) -> dict[str, Any]:
    """The single-record inputs DORIS and LLDAS share (§16.5, §16.4) for a scorable row: the
    present SLEDAI-2K descriptors, the PGA and the exact prednisone dose (§11)."""
    return {
        "sledai_descriptors": names_in(row[PRESENT], batch_sledai2k.KEYS),
        "pga": exact_value(row, "pga"),
        "prednisone_mg_day": fraction_to_exact(
            row[batch_prednisone.NUMERATOR], row[batch_prednisone.DENOMINATOR]
        ),
    }


def single_record_input(
    row: dict[str, Any], *, prednisone_comparator: Literal["le", "lt"] = "le"
) -> dict[str, Any] | None:
    """The single-record input (§16.5) for one scored row (module doc), with the comparator the
    table was scored with (D9); None when not scorable. A null ``other_drugs_stable`` is left
    out (the §16.5 default)."""
    if row[REMISSION] is None:
        return None
    payload = {**activity_input(row), "prednisone_comparator": prednisone_comparator}
    if row["other_drugs_stable"] is not None:
        payload["other_drugs_stable"] = row["other_drugs_stable"]
    return payload
