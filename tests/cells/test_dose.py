"""msc-dose (§14, §16.15): target cells, volume, actual dose per kg and its range check.

Doses are those of the §14 table (1 × 10⁶/kg; 2 × 10⁸ cells fixed; 5 × 10⁷ cells); expected values
are worked by hand in each test's docstring.
"""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.cells import dose
from tests.scoring_helpers import refused_fields, score_json


def compute(payload: dict[str, Any] | str) -> dict[str, Any]:
    return score_json(dose.INSTRUMENT, payload)


def test_1e6_per_kg_for_60_kg_is_6e7_cells() -> None:
    """§14: 1 × 10⁶ cells/kg × 60 kg = 6 × 10⁷ cells; at 2 × 10⁶ cells/mL that is 30 mL."""
    result = compute({"weight_kg": 60, "dose_per_kg": 1e6, "viable_cells_per_ml": 2e6})
    assert result["instrument"] == "msc-dose"
    assert result["section"] == "§14"
    assert result["dose_basis"] == "per_kg"
    assert result["target_cells"] == 60_000_000
    assert result["volume_ml"] == 30
    assert result["actual_per_kg"] is None
    assert result["within_range"] is None


def test_numbers_written_as_exponents_in_json_text_are_read_exactly() -> None:
    """Same prescription as JSON text: 1E6 × 60 = 6E7 cells, printed as the integer 60000000."""
    result = compute('{"weight_kg": 60, "dose_per_kg": 1E6, "viable_cells_per_ml": 2E6}')
    assert result["target_cells"] == 60_000_000
    assert isinstance(result["target_cells"], int)


def test_2e6_per_kg_for_a_decimal_weight_is_exact() -> None:
    """Li 2016 upper dose, 2 × 10⁶/kg × 72.5 kg = 145 × 10⁶ = 1.45 × 10⁸ cells; at 5 × 10⁶/mL,
    1.45 × 10⁸ ÷ 5 × 10⁶ = 29 mL."""
    result = compute({"weight_kg": 72.5, "dose_per_kg": 2e6, "viable_cells_per_ml": 5e6})
    assert result["target_cells"] == 145_000_000
    assert result["volume_ml"] == 29


def test_fixed_dose_of_2e8_cells_ignores_weight() -> None:
    """Deng 2017: 2 × 10⁸ cells fixed; at 4 × 10⁶/mL, 2 × 10⁸ ÷ 4 × 10⁶ = 50 mL."""
    result = compute({"weight_kg": 80, "fixed_dose_cells": 2e8, "viable_cells_per_ml": 4e6})
    assert result["dose_basis"] == "fixed"
    assert result["target_cells"] == 200_000_000
    assert result["volume_ml"] == 50


def test_volume_need_not_be_a_whole_number() -> None:
    """Tang 2016: 5 × 10⁷ cells at 4 × 10⁶/mL = 50 ÷ 4 = 12.5 mL."""
    result = compute({"weight_kg": 55, "fixed_dose_cells": 5e7, "viable_cells_per_ml": 4e6})
    assert result["volume_ml"] == 12.5


def test_actual_dose_per_kg_is_actual_cells_over_weight() -> None:
    """5.7 × 10⁷ cells given to 60 kg: 57 000 000 ÷ 60 = 950 000 cells/kg."""
    result = compute(
        {"weight_kg": 60, "dose_per_kg": 1e6, "viable_cells_per_ml": 2e6, "actual_cells": 5.7e7}
    )
    assert result["actual_per_kg"] == 950_000


# --- range check, inclusive limits ----------------------------------------------------------

LIMITS = {"dose_min_per_kg": 1e6, "dose_max_per_kg": 2e6}


def per_kg_60(actual_cells: float, **limits: float) -> dict[str, Any]:
    """A 60 kg patient prescribed 1 × 10⁶/kg, with ``actual_cells`` given."""
    return compute(
        {
            "weight_kg": 60,
            "dose_per_kg": 1e6,
            "viable_cells_per_ml": 2e6,
            "actual_cells": actual_cells,
            **limits,
        }
    )


@pytest.mark.parametrize(
    ("actual_cells", "within"),
    [
        (59_999_940, False),  # 59 999 940 ÷ 60 = 999 999 per kg: below 1 × 10⁶
        (60_000_000, True),  # exactly 1 × 10⁶ per kg: the lower limit is inclusive
        (60_000_060, True),  # 1 000 001 per kg
        (119_999_940, True),  # 1 999 999 per kg
        (120_000_000, True),  # exactly 2 × 10⁶ per kg: the upper limit is inclusive
        (120_000_060, False),  # 2 000 001 per kg: above
    ],
)
def test_limits_are_inclusive(actual_cells: int, within: bool) -> None:
    result = per_kg_60(actual_cells, **LIMITS)
    assert result["within_range"] is within
    assert result["missing"] == []


@pytest.mark.parametrize(("actual_cells", "within"), [(59_999_940, False), (60_000_000, True)])
def test_a_lower_limit_alone_is_checked_alone(actual_cells: int, within: bool) -> None:
    result = per_kg_60(actual_cells, dose_min_per_kg=1e6)
    assert result["within_range"] is within


@pytest.mark.parametrize(("actual_cells", "within"), [(120_000_000, True), (120_000_060, False)])
def test_an_upper_limit_alone_is_checked_alone(actual_cells: int, within: bool) -> None:
    result = per_kg_60(actual_cells, dose_max_per_kg=2e6)
    assert result["within_range"] is within


def test_a_huge_overdose_passes_a_lower_limit_alone() -> None:
    assert per_kg_60(6e9, dose_min_per_kg=1e6)["within_range"] is True


def test_within_range_is_null_without_actual_cells() -> None:
    result = compute({"weight_kg": 60, "dose_per_kg": 1e6, "viable_cells_per_ml": 2e6, **LIMITS})
    assert result["within_range"] is None
    assert result["missing"] == ["actual_cells"]


def test_within_range_is_null_when_neither_limit_is_given() -> None:
    result = per_kg_60(60_000_000)
    assert result["within_range"] is None
    assert result["actual_per_kg"] == 1_000_000
    assert set(result["missing"]) == {"dose_min_per_kg", "dose_max_per_kg"}


def test_within_range_judges_the_actual_dose_not_the_target() -> None:
    """Target 1 × 10⁶/kg is in range, but 3 × 10⁷ cells given to 60 kg is 5 × 10⁵/kg: below."""
    assert per_kg_60(3e7, **LIMITS)["within_range"] is False


def test_a_fixed_dose_is_judged_per_kg_against_the_limits() -> None:
    """2 × 10⁸ cells given to 100 kg = 2 × 10⁶/kg: at the upper limit, within range."""
    result = compute(
        {
            "weight_kg": 100,
            "fixed_dose_cells": 2e8,
            "viable_cells_per_ml": 4e6,
            "actual_cells": 2e8,
            **LIMITS,
        }
    )
    assert result["actual_per_kg"] == 2_000_000
    assert result["within_range"] is True


def test_equal_limits_are_accepted() -> None:
    assert per_kg_60(6e7, dose_min_per_kg=1e6, dose_max_per_kg=1e6)["within_range"] is True


# --- refusals ---------------------------------------------------------------------------------

BASE = {"weight_kg": 60, "dose_per_kg": 1e6, "viable_cells_per_ml": 2e6}


def test_it_refuses_a_minimum_above_the_maximum_naming_both() -> None:
    payload = {**BASE, "dose_min_per_kg": 2e6, "dose_max_per_kg": 1e6}
    assert refused_fields(dose.INSTRUMENT, payload) == ["(body)"]
    with pytest.raises(ValueError, match=r"dose_min_per_kg .* dose_max_per_kg"):
        dose.INSTRUMENT.input_model.model_validate(payload)


def test_it_refuses_both_dose_bases_naming_them() -> None:
    with pytest.raises(ValueError, match="dose_per_kg or fixed_dose_cells"):
        dose.INSTRUMENT.input_model.model_validate({**BASE, "fixed_dose_cells": 2e8})


def test_it_refuses_neither_dose_basis_naming_them() -> None:
    with pytest.raises(ValueError, match="dose_per_kg or fixed_dose_cells"):
        dose.INSTRUMENT.input_model.model_validate({"weight_kg": 60, "viable_cells_per_ml": 2e6})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weight_kg": 1.9}, "weight_kg"),
        ({"weight_kg": 400.1}, "weight_kg"),
        ({"dose_per_kg": 0}, "dose_per_kg"),
        ({"dose_per_kg": -1e6}, "dose_per_kg"),
        ({"viable_cells_per_ml": 0}, "viable_cells_per_ml"),
        ({"viable_cells_per_ml": "2e6"}, "viable_cells_per_ml"),
        ({"actual_cells": -1}, "actual_cells"),
        ({"dose_min_per_kg": 0}, "dose_min_per_kg"),
        ({"dose_max_per_kg": True}, "dose_max_per_kg"),
        ({"dose_unit": "cells/kg"}, "dose_unit"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(changes: dict[str, Any], field: str) -> None:
    assert refused_fields(dose.INSTRUMENT, {**BASE, **changes}) == [field]


@pytest.mark.parametrize("field", ["weight_kg", "viable_cells_per_ml"])
def test_it_refuses_a_missing_required_field(field: str) -> None:
    payload = {key: value for key, value in BASE.items() if key != field}
    assert refused_fields(dose.INSTRUMENT, payload) == [field]


@pytest.mark.parametrize("weight", [2, 400])
def test_weight_limits_2_and_400_kg_are_accepted(weight: int) -> None:
    assert compute({**BASE, "weight_kg": weight})["target_cells"] == weight * 1_000_000
