"""SRI-n and the modified SRI over a prepared visit table (§4; contract §16.3), = ``clinical.sri``.

Every visit is compared with its patient's baseline visit: the first visit flagged
``is_baseline``, else the first visit (``longitudinal``). The baseline visit is scored against
itself (reduction 0, PGA change 0); a visit before a later-flagged baseline is scored too.
The single-record inputs of a visit are:

- ``sledai_baseline`` / ``sledai_current``: the batch SLEDAI-2K total (§1) of the baseline /
  current visit when that visit's SLEDAI is complete, else unknown (an incomplete SLEDAI is never
  read as a total, §0.4);
- ``pga_baseline`` / ``pga_current``: the ``pga`` column of those visits (§3), in exact hundredths;
- ``bilag_new_a`` / ``bilag_new_b``: the current row's counts of domains new since baseline (§4);
- ``n``: a parameter of the run, 4–20 (default 4: SRI-4).

``single_record_input`` rebuilds them from a scored row alone (baseline = current + difference).

The single-record version requires both SLEDAI totals and both PGAs and refuses input without
them (§16.3). A visit with any of the four unknown therefore has no result: every ``sri.`` column
is null there and ``result_fields`` returns None.

Result columns (prefix ``sri.``): ``responder`` (three-valued AND of the components, §16.0),
``msri``, ``sledai_reduction`` (baseline − current), ``pga_change_hundredths`` (current − baseline,
exact) and ``pga_change`` (the same as a float, for display only), ``sledai_reduction_met``,
``no_pga_worsening`` (change < 0.3, decided on the integers), ``no_new_bilag`` and ``missing``
(bit mask: bit 0 ``bilag_new_a``, bit 1 ``bilag_new_b``, set only while ``no_new_bilag`` is null).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from lupus_msc.clinical.batch import sledai2k as batch_sledai2k
from lupus_msc.clinical.batch.frame import (
    exact_value,
    fixed_threshold,
    fixed_to_exact,
    fixed_value,
)
from lupus_msc.clinical.batch.longitudinal import add_positions, baseline
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.batch.schema import BY_NAME
from lupus_msc.clinical.sri import MAX_NEW_BILAG_A, MAX_NEW_BILAG_B, PGA_WORSENING

PREFIX = "sri."
BILAG = ("bilag_new_a", "bilag_new_b")
"""Bit i of ``sri.missing`` names BILAG[i]."""
PGA_SCALE = BY_NAME["pga"].scale
"""Decimal places of the ``pga`` column (2): ``pga_change_hundredths`` uses the same unit."""
N_RANGE = range(4, 21)
"""§16.3: n is 4–20."""
_REDUCTION = "_sri_reduction"
_CHANGE = "_sri_change"


def known_sledai() -> pl.Expr:
    """The visit's SLEDAI-2K total when its SLEDAI is complete, else null (§1, §16.1)."""
    complete = pl.col(batch_sledai2k.PREFIX + "complete")
    return pl.when(complete).then(pl.col(batch_sledai2k.PREFIX + "total"))


def _differences() -> list[pl.Expr]:
    """SLEDAI reduction and PGA change against the baseline visit (null when unknown)."""
    sledai = known_sledai()
    return [
        (baseline(sledai) - sledai).alias(_REDUCTION),
        (pl.col("pga") - baseline("pga")).alias(_CHANGE),
    ]


def _results(n: int) -> list[pl.Expr]:
    """The §4 components and composites from the two differences (§16.3)."""
    reduction, change = pl.col(_REDUCTION), pl.col(_CHANGE)
    scored = reduction.is_not_null() & change.is_not_null()
    reduction_met = reduction >= n
    no_worsening = change < fixed_threshold("pga", PGA_WORSENING)
    # Kleene AND/comparison: null when a count is absent, false as soon as one breaks (§16.0).
    no_bilag = (pl.col("bilag_new_a") <= MAX_NEW_BILAG_A) & (
        pl.col("bilag_new_b") <= MAX_NEW_BILAG_B
    )
    missing = mask_expr([(bit, pl.col(name).is_null()) for bit, name in enumerate(BILAG)])
    columns = {
        "responder": reduction_met & no_worsening & no_bilag,
        "msri": reduction_met & no_worsening,
        "sledai_reduction": reduction,
        "pga_change_hundredths": change,
        "pga_change": change.cast(pl.Float64) / 10**PGA_SCALE,
        "sledai_reduction_met": reduction_met,
        "no_pga_worsening": no_worsening,
        "no_new_bilag": no_bilag,
        "missing": pl.when(no_bilag.is_null()).then(missing).otherwise(0),
    }
    return [pl.when(scored).then(value).alias(PREFIX + name) for name, value in columns.items()]


def score(frame: pl.DataFrame, *, n: int = 4) -> pl.DataFrame:
    """Add the SRI-n result columns to a prepared visit table (§4, §16.3; module doc).

    Adds the batch SLEDAI-2K columns first when they are absent, and the visit positions.
    """
    if n not in N_RANGE:
        raise ValueError(f"n must be 4–20 (§16.3), not {n}")
    if batch_sledai2k.PREFIX + "total" not in frame.columns:
        frame = batch_sledai2k.score(frame)
    with_differences = add_positions(frame).with_columns(_differences())
    return with_differences.with_columns(_results(n)).drop(_REDUCTION, _CHANGE)


def result_fields(row: dict[str, Any], *, n: int = 4) -> dict[str, Any] | None:
    """One scored row in the single-record result's shape (§16.3); None when it has no result.

    ``n`` is the parameter the table was scored with (echoed, as the single-record result does).
    """
    if row[PREFIX + "msri"] is None:
        return None
    return {
        "responder": row[PREFIX + "responder"],
        "msri": row[PREFIX + "msri"],
        "sledai_reduction": row[PREFIX + "sledai_reduction"],
        "pga_change": fixed_to_exact(row[PREFIX + "pga_change_hundredths"], PGA_SCALE),
        "components": {
            "sledai_reduction_met": row[PREFIX + "sledai_reduction_met"],
            "no_pga_worsening": row[PREFIX + "no_pga_worsening"],
            "no_new_bilag": row[PREFIX + "no_new_bilag"],
        },
        "n": n,
        "missing": names_in(row[PREFIX + "missing"], BILAG),
    }


def single_record_input(row: dict[str, Any], *, n: int = 4) -> dict[str, Any] | None:
    """The single-record input (§16.3) for one scored row; None when it has no result.

    The baseline values are read back exactly from the row: the baseline SLEDAI-2K is the
    current total plus the reduction, the baseline PGA the current PGA minus the change.
    """
    reduction = row[PREFIX + "sledai_reduction"]
    if reduction is None:
        return None
    current = row[batch_sledai2k.PREFIX + "total"]
    given = {
        "sledai_baseline": current + reduction,
        "sledai_current": current,
        "pga_baseline": fixed_value(row["pga"] - row[PREFIX + "pga_change_hundredths"], "pga"),
        "pga_current": exact_value(row, "pga"),
        "bilag_new_a": row["bilag_new_a"],
        "bilag_new_b": row["bilag_new_b"],
        "n": n,
    }
    return {name: value for name, value in given.items() if value is not None}
