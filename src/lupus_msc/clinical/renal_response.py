"""Lupus-nephritis renal response by KDIGO 2024 or EULAR/ERA-EDTA 2019 (§10, §16.10).

Every decision is made on exact fractions of the decimal inputs (§0.1, §0.2): "UPCR reduced by
≥ 50 %" is ``(baseline − current) × 100 ≥ 50 × baseline``, never a rounded quotient. The reported
percentages are exact decimals (a quotient that does not end is shown with 28 significant digits).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Literal

from pydantic import ValidationInfo, field_validator

from lupus_msc.clinical.common import (
    ExactOut,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    Percent,
    Positive,
    Tri,
    all_of,
)

Criteria = Literal["kdigo2024", "eular2019"]
Response = Literal["complete", "partial", "none"]

DEFAULT_EGFR_TOLERANCE_PERCENT: dict[Criteria, Decimal] = {
    "kdigo2024": Decimal(15),  # D21: KDIGO gives 10–15 %; 15 by default
    "eular2019": Decimal(10),  # §10: "within 10 % of prior baseline"
}
COMPLETE_STRICT_G_G = Decimal("0.5")
"""§10: complete response needs UPCR < 0.5 g/g (KDIGO; EULAR "strict")."""
COMPLETE_LENIENT_G_G = Decimal("0.7")
"""§10: the EULAR 0.5–0.7 range as its "lenient" end; not a KDIGO threshold."""
KDIGO_PARTIAL_BELOW_G_G = Decimal(3)
"""§10: KDIGO partial response needs UPCR < 3 g/g."""
EULAR_SUBNEPHROTIC_G_G = Decimal("3.5")
"""§10 [IMPL]: default sub-nephrotic level for the EULAR partial response."""
PARTIAL_REDUCTION_PERCENT = Decimal(50)
"""§10: partial response needs a ≥ 50 % reduction in UPCR."""

REQUIRED = ("baseline_upcr_g_g", "current_upcr_g_g", "baseline_egfr", "current_egfr")
"""§10 "Missing data": the four numbers the response is decided from."""


class RenalResponseInput(InstrumentInput):
    """Baseline and current UPCR (g/g) and eGFR, and the criteria to judge them by (§16.10)."""

    criteria: Criteria = "kdigo2024"
    baseline_upcr_g_g: NonNegative | None = None
    current_upcr_g_g: NonNegative | None = None
    baseline_egfr: Positive | None = None
    current_egfr: Positive | None = None
    egfr_tolerance_percent: Percent | None = None
    complete_upcr_g_g: Positive | None = None
    subnephrotic_g_g: Positive | None = None

    @field_validator("complete_upcr_g_g")
    @classmethod
    def _strict_or_lenient(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        """§10: 0.5 (strict) or, for EULAR only, 0.7 (lenient)."""
        if value is None or value == COMPLETE_STRICT_G_G:
            return value
        if value != COMPLETE_LENIENT_G_G:
            raise ValueError(f"must be 0.5, or 0.7 with criteria eular2019 (got {value})")
        if info.data.get("criteria", "eular2019") != "eular2019":
            raise ValueError("0.7 is allowed only with criteria eular2019; KDIGO 2024 uses 0.5")
        return value

    @field_validator("subnephrotic_g_g")
    @classmethod
    def _eular_only(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        """§10: the sub-nephrotic level is EULAR's; KDIGO's partial threshold is fixed at 3 g/g."""
        if value is not None and info.data.get("criteria", "eular2019") != "eular2019":
            raise ValueError("applies only with criteria eular2019; KDIGO 2024 partial uses 3 g/g")
        return value


class RenalResponseResult(InstrumentResult):
    instrument: Literal["renal-response"] = "renal-response"
    section: Literal["§10"] = "§10"
    response: Response | None
    proteinuria_reduction_percent: ExactOut | None
    egfr_change_percent: ExactOut | None
    criteria: Criteria
    egfr_stable: bool | None
    egfr_tolerance_percent: ExactOut
    complete_upcr_g_g: ExactOut
    partial_upcr_below_g_g: ExactOut


def percent_change(*, before: Decimal, after: Decimal) -> Decimal | None:
    """(after − before) / before × 100, exactly; None when before is 0 (undefined)."""
    if before == 0:
        return None
    return (after - before) * 100 / before


def egfr_stable(*, baseline: Decimal, current: Decimal, tolerance_percent: Decimal) -> bool:
    """§10/§16.10: stable or improved = current ≥ baseline × (1 − tolerance/100), exactly."""
    floor = Fraction(baseline) * (1 - Fraction(tolerance_percent) / 100)
    return Fraction(current) >= floor


def halved(*, baseline: Decimal, current: Decimal) -> bool:
    """§10: UPCR reduced by ≥ 50 %, exactly. From a baseline of 0 no reduction is possible."""
    if baseline == 0:
        return False
    reduction = (Fraction(baseline) - Fraction(current)) * 100
    return reduction >= Fraction(PARTIAL_REDUCTION_PERCENT) * Fraction(baseline)


def classify(*, complete: Tri, partial: Tri) -> Response | None:
    """§10, three-valued (§16.0): complete if complete; else partial if partial; else none.

    Null when the inputs given leave more than one category possible.
    """
    if complete is True:
        return "complete"
    if complete is False and partial is not None:
        return "partial" if partial else "none"
    return None


def thresholds(inp: RenalResponseInput) -> tuple[Decimal, Decimal, Decimal]:
    """The eGFR tolerance (%), complete and partial UPCR thresholds (g/g) in force (§10, D21)."""
    tolerance = _given_or(inp.egfr_tolerance_percent, DEFAULT_EGFR_TOLERANCE_PERCENT[inp.criteria])
    complete_below = _given_or(inp.complete_upcr_g_g, COMPLETE_STRICT_G_G)
    if inp.criteria == "kdigo2024":
        return tolerance, complete_below, KDIGO_PARTIAL_BELOW_G_G
    return tolerance, complete_below, _given_or(inp.subnephrotic_g_g, EULAR_SUBNEPHROTIC_G_G)


def _given_or(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value


def score(inp: RenalResponseInput) -> RenalResponseResult:
    """Renal response of lupus nephritis, KDIGO 2024 or EULAR 2019 (§10; contract §16.10).

    complete = UPCR < complete threshold and eGFR stable; partial = UPCR reduced ≥ 50 %, below
    the partial threshold (KDIGO 3 g/g, EULAR sub-nephrotic) and eGFR stable; else none. Each is
    a three-valued AND (§16.0): a criterion that already fails decides the response even when
    another input is missing (an eGFR halving is "none" whatever the UPCR); only when the inputs
    leave the category open is it null, with ``missing`` naming the absent numbers.
    """
    tolerance, complete_below, partial_below = thresholds(inp)
    stable: Tri = None
    if inp.baseline_egfr is not None and inp.current_egfr is not None:
        stable = egfr_stable(
            baseline=inp.baseline_egfr, current=inp.current_egfr, tolerance_percent=tolerance
        )
    current = inp.current_upcr_g_g
    below_complete = None if current is None else current < complete_below
    below_partial = None if current is None else current < partial_below
    reduced: Tri = None
    if inp.baseline_upcr_g_g is not None and current is not None:
        reduced = halved(baseline=inp.baseline_upcr_g_g, current=current)
    response = classify(
        complete=all_of([below_complete, stable]),
        partial=all_of([reduced, below_partial, stable]),
    )
    return RenalResponseResult(
        response=response,
        proteinuria_reduction_percent=_reduction(inp),
        egfr_change_percent=_egfr_change(inp),
        criteria=inp.criteria,
        egfr_stable=stable,
        egfr_tolerance_percent=tolerance,
        complete_upcr_g_g=complete_below,
        partial_upcr_below_g_g=partial_below,
        missing=[] if response else [name for name in REQUIRED if getattr(inp, name) is None],
    )


def _reduction(inp: RenalResponseInput) -> Decimal | None:
    """UPCR reduction in percent of baseline (positive = less proteinuria)."""
    if inp.baseline_upcr_g_g is None or inp.current_upcr_g_g is None:
        return None
    change = percent_change(before=inp.baseline_upcr_g_g, after=inp.current_upcr_g_g)
    return None if change is None else -change


def _egfr_change(inp: RenalResponseInput) -> Decimal | None:
    """eGFR change in percent of baseline (negative = decline)."""
    if inp.baseline_egfr is None or inp.current_egfr is None:
        return None
    return percent_change(before=inp.baseline_egfr, after=inp.current_egfr)


INSTRUMENT = Instrument(
    name="renal-response",
    section="§10",
    title="Lupus nephritis renal response (KDIGO 2024 / EULAR 2019)",
    input_model=RenalResponseInput,
    result_model=RenalResponseResult,
    score=score,
)
