"""Lupus-nephritis renal response over a prepared visit table (§10; contract §16.10).

Equal to ``clinical.renal_response`` with, for every visit against its patient's baseline visit
(the first flagged ``is_baseline``, else the first visit; the baseline visit is scored against
itself), these single-record inputs (``single_record_input`` gives them for a scored row):

- ``baseline_upcr_g_g`` / ``current_upcr_g_g``: the ``upcr_g_g`` column of those visits (exact
  thousandths);
- ``baseline_egfr`` / ``current_egfr``: the batch CKD-EPI 2021 eGFR (§9, ``batch.egfr``) of those
  visits: ``egfr_cr_cys`` when present, else ``egfr_cr`` — the value its category uses (§16.8);
  unknown when the visit has no eGFR;
- ``criteria`` (default ``kdigo2024``), ``egfr_tolerance_percent`` (default 15 for KDIGO, D21;
  10 for EULAR), ``complete_upcr_g_g`` and ``subnephrotic_g_g``: parameters of the run, checked
  and defaulted by the single-record input model.

UPCR decisions are exact on the fixed-point integers: "< threshold" by cross-multiplying with the
threshold's fraction, "reduced ≥ 50 %" as ``(b − c) × 100 ≥ 50 × b`` (never from a baseline of 0).
eGFR is a float (real powers, §9), so "stable" (current ≥ baseline × (1 − tolerance/100)) is
decided as ``current × 100 ≥ baseline × (100 − tolerance)`` in Float64; the single-record version
decides it exactly on the shortest decimals of the same floats, which agree except within a few
ulps of the boundary.

Result columns (prefix ``renal-response.``): ``response`` (Enum, null when undecided),
``egfr_stable``, ``baseline_upcr_g_g`` (the baseline visit's UPCR, exact thousandths, kept for the
exact reduction shown by ``result_fields``), ``baseline_egfr`` (the baseline visit's eGFR, Float64;
with it ``single_record_input`` rebuilds a visit's input from its row alone),
``proteinuria_reduction_percent`` and
``egfr_change_percent`` (Float64, display) and ``missing`` (bit mask over ``REQUIRED``, set only
while ``response`` is null).
"""

from __future__ import annotations

from decimal import Context, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

import polars as pl

from lupus_msc.clinical import renal_response
from lupus_msc.clinical.batch import egfr as batch_egfr
from lupus_msc.clinical.batch.frame import exact_json, exact_value, fixed_value
from lupus_msc.clinical.batch.longitudinal import add_positions, baseline
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.batch.schema import BY_NAME
from lupus_msc.clinical.renal_response import Criteria

PREFIX = "renal-response."
REQUIRED = renal_response.REQUIRED
"""Bit i of ``renal-response.missing`` is REQUIRED[i]."""
RESPONSE = pl.Enum(["complete", "partial", "none"])
BASELINE_UPCR = PREFIX + "baseline_upcr_g_g"
BASELINE_EGFR = PREFIX + "baseline_egfr"
UPCR_UNITS: int = 10 ** BY_NAME["upcr_g_g"].scale
"""Fixed-point units per g/g in the ``upcr_g_g`` column (thousandths)."""
_DECIMAL = Context(prec=28)
"""The single-record percentages are Decimal quotients at the default 28 digits."""


@lru_cache(maxsize=32)
def thresholds(
    criteria: Criteria = "kdigo2024",
    egfr_tolerance_percent: Decimal | None = None,
    complete_upcr_g_g: Decimal | None = None,
    subnephrotic_g_g: Decimal | None = None,
) -> tuple[Decimal, Decimal, Decimal]:
    """(eGFR tolerance %, complete and partial UPCR thresholds g/g) in force (§10, D21).

    The parameters are checked by the single-record input model (e.g. 0.7 only with EULAR);
    a refused one raises pydantic's ``ValidationError`` naming it.
    """
    settings = renal_response.RenalResponseInput.model_validate(
        {
            "criteria": criteria,
            "egfr_tolerance_percent": egfr_tolerance_percent,
            "complete_upcr_g_g": complete_upcr_g_g,
            "subnephrotic_g_g": subnephrotic_g_g,
        }
    )
    return renal_response.thresholds(settings)


def _below(upcr: pl.Expr, limit: Decimal) -> pl.Expr:
    """Exactly: UPCR (fixed-point) < limit g/g, by cross-multiplying (null when UPCR is)."""
    bound = Fraction(limit) * UPCR_UNITS
    return upcr.cast(pl.Int128) * bound.denominator < bound.numerator


def _halved(before: pl.Expr, after: pl.Expr) -> pl.Expr:
    """§10: reduced by ≥ 50 %, exactly; false from a baseline of 0, null when one is missing."""
    share = Fraction(renal_response.PARTIAL_REDUCTION_PERCENT) / 100
    b, a = before.cast(pl.Int128), after.cast(pl.Int128)
    halved = (b - a) * share.denominator >= b * share.numerator
    return pl.when(after.is_not_null() & (before == 0)).then(False).otherwise(halved)


def _egfr() -> pl.Expr:
    """The eGFR the category uses: creatinine–cystatin C when present, else creatinine (§16.8)."""
    return pl.coalesce(
        pl.col(batch_egfr.PREFIX + "egfr_cr_cys"), pl.col(batch_egfr.PREFIX + "egfr_cr")
    )


_EGFR = "_renal_egfr"
GIVEN = (BASELINE_UPCR, "upcr_g_g", BASELINE_EGFR, _EGFR)
"""The columns holding the four REQUIRED numbers, in the same order."""


def _response(stable: pl.Expr, complete_below: Decimal, partial_below: Decimal) -> pl.Expr:
    """§10 response, three-valued (§16.0): complete, else partial, else none; null if open."""
    upcr = pl.col("upcr_g_g")
    complete = _below(upcr, complete_below) & stable  # Kleene AND, as ``all_of``
    partial = _halved(pl.col(BASELINE_UPCR), upcr) & _below(upcr, partial_below) & stable
    return (
        pl.when(complete)
        .then(pl.lit("complete"))
        .when(~complete & partial)
        .then(pl.lit("partial"))
        .when(~complete & ~partial)
        .then(pl.lit("none"))
        .cast(RESPONSE)
    )


def _percent(before: str, after: str) -> pl.Expr:
    """(after − before) / before × 100 as a float for display; null from a baseline of 0."""
    b, a = pl.col(before).cast(pl.Float64), pl.col(after).cast(pl.Float64)
    return pl.when(b != 0).then((a - b) * 100.0 / b)


def _results(tolerance: Decimal, complete_below: Decimal, partial_below: Decimal) -> list[pl.Expr]:
    egfr, baseline_egfr = pl.col(_EGFR), pl.col(BASELINE_EGFR)
    stable = egfr * 100.0 >= baseline_egfr * float(100 - tolerance)
    response = _response(stable, complete_below, partial_below)
    missing = mask_expr([(bit, pl.col(name).is_null()) for bit, name in enumerate(GIVEN)])
    return [
        response.alias(PREFIX + "response"),
        stable.alias(PREFIX + "egfr_stable"),
        (-_percent(BASELINE_UPCR, "upcr_g_g")).alias(PREFIX + "proteinuria_reduction_percent"),
        _percent(BASELINE_EGFR, _EGFR).alias(PREFIX + "egfr_change_percent"),
        pl.when(response.is_null()).then(missing).otherwise(0).alias(PREFIX + "missing"),
    ]


def score(
    frame: pl.DataFrame,
    *,
    criteria: Criteria = "kdigo2024",
    egfr_tolerance_percent: Decimal | None = None,
    complete_upcr_g_g: Decimal | None = None,
    subnephrotic_g_g: Decimal | None = None,
) -> pl.DataFrame:
    """Add the renal-response columns to a prepared visit table (§10, §16.10; module doc).

    Adds the batch eGFR columns first when they are absent, and the visit positions.
    """
    limits = thresholds(criteria, egfr_tolerance_percent, complete_upcr_g_g, subnephrotic_g_g)
    if batch_egfr.PREFIX + "egfr_cr" not in frame.columns:
        frame = batch_egfr.score(frame)
    with_baseline = add_positions(frame).with_columns(
        baseline("upcr_g_g").alias(BASELINE_UPCR),
        _egfr().alias(_EGFR),
        baseline(_egfr()).alias(BASELINE_EGFR),
    )
    return with_baseline.with_columns(_results(*limits)).drop(_EGFR)


def _reduction(before: int | None, after: int | None) -> int | Decimal | None:
    """UPCR reduction in percent of baseline, exactly as the single-record Decimal quotient."""
    if before is None or after is None or before == 0:
        return None
    change = _DECIMAL.divide(Decimal(after - before) * 100, Decimal(before))
    return exact_json(-change)


def result_fields(
    row: dict[str, Any],
    *,
    criteria: Criteria = "kdigo2024",
    egfr_tolerance_percent: Decimal | None = None,
    complete_upcr_g_g: Decimal | None = None,
    subnephrotic_g_g: Decimal | None = None,
) -> dict[str, Any]:
    """One scored row in the single-record result's shape (§16.10), with the run's parameters
    (echoed, as the single-record result does)."""
    tolerance, complete_below, partial_below = thresholds(
        criteria, egfr_tolerance_percent, complete_upcr_g_g, subnephrotic_g_g
    )
    return {
        "response": row[PREFIX + "response"],
        "proteinuria_reduction_percent": _reduction(row[BASELINE_UPCR], row["upcr_g_g"]),
        "egfr_change_percent": row[PREFIX + "egfr_change_percent"],
        "criteria": criteria,
        "egfr_stable": row[PREFIX + "egfr_stable"],
        "egfr_tolerance_percent": exact_json(tolerance),
        "complete_upcr_g_g": exact_json(complete_below),
        "partial_upcr_below_g_g": exact_json(partial_below),
        "missing": names_in(row[PREFIX + "missing"], REQUIRED),
    }


def _egfr_input(value: float | None) -> Decimal | None:
    """A batch eGFR as the single-record input takes it: the float's shortest decimal."""
    return None if value is None else Decimal(repr(value))


def single_record_input(
    row: dict[str, Any],
    *,
    criteria: Criteria = "kdigo2024",
    egfr_tolerance_percent: Decimal | None = None,
    complete_upcr_g_g: Decimal | None = None,
    subnephrotic_g_g: Decimal | None = None,
) -> dict[str, Any]:
    """The single-record input (§16.10) for one scored row (module doc) with the run's
    parameters; what is not given (a value unknown, a parameter left to its default) is left
    out."""
    current_egfr = row[batch_egfr.PREFIX + "egfr_cr_cys"]
    if current_egfr is None:
        current_egfr = row[batch_egfr.PREFIX + "egfr_cr"]
    given = {
        "criteria": criteria,
        "baseline_upcr_g_g": fixed_value(row[BASELINE_UPCR], "upcr_g_g"),
        "current_upcr_g_g": exact_value(row, "upcr_g_g"),
        "baseline_egfr": _egfr_input(row[BASELINE_EGFR]),
        "current_egfr": _egfr_input(current_egfr),
        "egfr_tolerance_percent": egfr_tolerance_percent,
        "complete_upcr_g_g": complete_upcr_g_g,
        "subnephrotic_g_g": subnephrotic_g_g,
    }
    return {name: value for name, value in given.items() if value is not None}
