"""MSC dose calculator: target cells, infusion volume and the dose actually given (§14, §16.15).

§14 [IMPL]: ``cells = dose_per_kg × actual body weight (kg)``; SLE studies give either a dose per
kg (e.g. 1 × 10⁶/kg) or a fixed number of cells (e.g. 2 × 10⁸). The volume to draw is the target
divided by the post-thaw viable-cell concentration. All arithmetic is exact ``Decimal``.

Readings of the contract chosen here (each pinned by a test):

* The range limits are inclusive: an actual dose equal to ``dose_min_per_kg`` or
  ``dose_max_per_kg`` is within range.
* ``within_range`` judges the dose actually given (``actual_cells`` ÷ weight), never the target.
* When ``within_range`` is null, ``missing`` names ``actual_cells`` if it was not given and both
  limits if neither was given.
* Limits given with ``dose_min_per_kg`` > ``dose_max_per_kg`` are refused, naming both fields.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import model_validator

from lupus_msc.clinical.common import (
    ExactOut,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    Positive,
    Tri,
    WeightKg,
)


class MscDoseInput(InstrumentInput):
    """A dose prescription and the product's post-thaw concentration (§16.15)."""

    weight_kg: WeightKg
    dose_per_kg: Positive | None = None
    fixed_dose_cells: Positive | None = None
    viable_cells_per_ml: Positive
    dose_min_per_kg: Positive | None = None
    dose_max_per_kg: Positive | None = None
    actual_cells: NonNegative | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MscDoseInput:
        """Exactly one dose basis; limits, when both given, in order."""
        if (self.dose_per_kg is None) == (self.fixed_dose_cells is None):
            raise ValueError("give exactly one of dose_per_kg or fixed_dose_cells")
        low, high = self.dose_min_per_kg, self.dose_max_per_kg
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"dose_min_per_kg ({low}) must not be greater than dose_max_per_kg ({high})"
            )
        return self


class MscDoseResult(InstrumentResult):
    instrument: Literal["msc-dose"] = "msc-dose"
    section: Literal["§14"] = "§14"
    dose_basis: Literal["per_kg", "fixed"]
    target_cells: ExactOut
    volume_ml: ExactOut
    actual_per_kg: ExactOut | None
    within_range: bool | None


def target_cells(dose: MscDoseInput) -> Decimal:
    """Cells to give: dose per kg × body weight, or the fixed dose (§14 [IMPL])."""
    if dose.dose_per_kg is not None:
        return dose.dose_per_kg * dose.weight_kg
    assert dose.fixed_dose_cells is not None  # noqa: S101 - the model requires one of the two
    return dose.fixed_dose_cells


def within_range(per_kg: Decimal | None, *, low: Decimal | None, high: Decimal | None) -> Tri:
    """Whether a dose per kg lies within inclusive limits; a single limit is checked alone.

    None when the dose is unknown or when neither limit is given (§16.15).
    """
    if per_kg is None or (low is None and high is None):
        return None
    return (low is None or per_kg >= low) and (high is None or per_kg <= high)


def score(dose: MscDoseInput) -> MscDoseResult:
    """Target cells, volume, and the actual dose per kg with its range check (§14, §16.15)."""
    target = target_cells(dose)
    actual_per_kg = None if dose.actual_cells is None else dose.actual_cells / dose.weight_kg
    missing: list[str] = []
    if dose.actual_cells is None:
        missing.append("actual_cells")
    if dose.dose_min_per_kg is None and dose.dose_max_per_kg is None:
        missing += ["dose_min_per_kg", "dose_max_per_kg"]
    return MscDoseResult(
        dose_basis="per_kg" if dose.dose_per_kg is not None else "fixed",
        target_cells=target,
        volume_ml=target / dose.viable_cells_per_ml,
        actual_per_kg=actual_per_kg,
        within_range=within_range(
            actual_per_kg, low=dose.dose_min_per_kg, high=dose.dose_max_per_kg
        ),
        missing=missing,
    )


INSTRUMENT = Instrument(
    name="msc-dose",
    section="§14",
    title="MSC dose: target cells, infusion volume, actual dose per kg",
    input_model=MscDoseInput,
    result_model=MscDoseResult,
    score=score,
)
