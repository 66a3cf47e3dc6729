"""LLDAS over a prepared visit table (§5; contract §16.4), equal to ``clinical.lldas`` per row.

Per visit the single-record inputs are read as follows: ``sledai_descriptors`` are the visit's
present SLEDAI-2K descriptors, given only when its SLEDAI-2K is complete;
``previous_sledai_descriptors`` are the previous visit's, given only when there is a previous
visit and its SLEDAI-2K is complete; the prednisone dose is the exact §11 fraction; the other
inputs are the row's columns, with the §16.4 defaults when null.

A visit without a complete SLEDAI-2K, without a PGA or with an unknown prednisone dose cannot be
given to the single-record version (those inputs are required): all result columns are null and
``result_fields`` and ``single_record_input`` return None. Result columns (prefix ``lldas.``):
``lldas`` (Boolean, null when undecided), ``failed_criteria`` (bit mask, bit i = criterion
i + 1), ``sledai_total`` and ``previous_sledai_present`` (the previous visit's descriptors, kept
so that ``single_record_input`` rebuilds a visit's input from its row alone).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from lupus_msc.clinical.batch import prednisone_equivalent as batch_prednisone
from lupus_msc.clinical.batch import sledai2k as batch_sledai2k
from lupus_msc.clinical.batch.activity_inputs import (
    PRESENT,
    TOTAL,
    complete_descriptors,
    descriptor_bits,
    scorable,
    with_activity_inputs,
)
from lupus_msc.clinical.batch.doris import activity_input
from lupus_msc.clinical.batch.frame import fixed_threshold
from lupus_msc.clinical.batch.longitudinal import POSITION_COLUMNS, add_positions, previous
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.lldas import MAJOR_ORGAN, PGA_MAX, SLEDAI_MAX
from lupus_msc.clinical.prednisone_equivalent import LLDAS_MAX_MG_DAY

PREFIX = "lldas."
LLDAS = PREFIX + "lldas"
FAILED_CRITERIA = PREFIX + "failed_criteria"
SLEDAI_TOTAL = PREFIX + "sledai_total"
PREVIOUS_PRESENT = PREFIX + "previous_sledai_present"
"""The previous visit's present descriptors (bit mask as ``sledai2k.present``) when there is a
previous visit with a complete SLEDAI-2K: the single-record ``previous_sledai_descriptors``."""
CRITERIA = (1, 2, 3, 4, 5)
"""§5 criterion numbers; criterion n is bit n - 1 of ``failed_criteria``."""
FLAGS = (
    "new_features",
    "hemolytic_anemia",
    "gi_activity",
    "investigational_drug",
    "immunosuppressants_tolerated",
)
"""The optional Boolean inputs (§16.4), read from the row's columns of the same names."""
UNDECIDED_MISSING = ["previous_sledai_descriptors", "new_features"]
"""What the single-record result names as missing when criterion 2 is undecided (§16.4)."""

_MAJOR_ORGAN_BITS = descriptor_bits(MAJOR_ORGAN)


def _low_activity() -> pl.Expr:
    """§5 criterion 1: SLEDAI-2K ≤ 4, no major-organ descriptor, no haemolysis or GI activity."""
    return (
        (pl.col(TOTAL) <= SLEDAI_MAX)
        & ((pl.col(PRESENT) & _MAJOR_ORGAN_BITS) == 0)
        & ~pl.col("hemolytic_anemia").fill_null(False)
        & ~pl.col("gi_activity").fill_null(False)
    )


def _no_new_features(before: pl.Expr) -> pl.Expr:
    """§5 criterion 2, Oon reading (D11): nothing new since the previous assessment ``before``.

    False when the clinician reports new features or a descriptor is present now that was absent
    at the previous (complete) assessment; null when neither is known.
    """
    reported = pl.col("new_features")
    return (
        pl.when(reported.fill_null(False))
        .then(False)
        .when(before.is_not_null())
        .then((pl.col(PRESENT) | before) == before)
        .when(reported.is_null())
        .then(None)
        .otherwise(True)
    )


def _criteria(before: pl.Expr) -> dict[int, pl.Expr]:
    """The five §5 criteria (Franklyn 2016 Table 1), three-valued."""
    return {
        1: _low_activity(),
        2: _no_new_features(before),
        3: pl.col("pga") <= fixed_threshold("pga", PGA_MAX),
        4: batch_prednisone.at_most(LLDAS_MAX_MG_DAY),
        5: ~pl.col("investigational_drug").fill_null(False)
        & pl.col("immunosuppressants_tolerated").fill_null(True),
    }


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the LLDAS result columns to a prepared visit table (§5, §16.4).

    Scores SLEDAI-2K and the prednisone equivalent first when their columns are absent.
    """
    added = [name for name in POSITION_COLUMNS if name not in frame.columns]
    inputs = add_positions(with_activity_inputs(frame))
    before = previous(complete_descriptors())
    found = _criteria(before)
    ok = scorable()
    failed = mask_expr([(number - 1, ~met) for number, met in found.items()])
    return inputs.with_columns(
        pl.when(ok).then(pl.all_horizontal(list(found.values()))).alias(LLDAS),
        pl.when(ok).then(failed).alias(FAILED_CRITERIA),
        pl.when(ok).then(pl.col(TOTAL)).alias(SLEDAI_TOTAL),
        pl.when(ok).then(before).alias(PREVIOUS_PRESENT),
    ).drop(added)


def result_fields(row: dict[str, Any]) -> dict[str, Any] | None:
    """One scored row in the single-record result's shape (§16.4); None when not scorable."""
    mask = row[FAILED_CRITERIA]
    if mask is None:
        return None
    lldas = row[LLDAS]
    return {
        "lldas": lldas,
        "failed_criteria": [number for number in CRITERIA if mask >> (number - 1) & 1],
        "sledai_total": row[SLEDAI_TOTAL],
        "missing": list(UNDECIDED_MISSING) if lldas is None else [],
    }


def single_record_input(row: dict[str, Any]) -> dict[str, Any] | None:
    """The single-record input (§16.4) for one scored row (module doc); None when not scorable.
    Null optional flags are left out (the §16.4 defaults)."""
    if row[FAILED_CRITERIA] is None:
        return None
    payload = {
        **activity_input(row),
        **{name: row[name] for name in FLAGS if row[name] is not None},
    }
    if row[PREVIOUS_PRESENT] is not None:
        payload["previous_sledai_descriptors"] = names_in(
            row[PREVIOUS_PRESENT], batch_sledai2k.KEYS
        )
    return payload
