"""UPCR unit conversion (instruments.md §10, contract §16.9)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lupus_msc.clinical import upcr
from tests.scoring_helpers import refused_fields, score_json


def convert(value: Any, unit: str) -> dict[str, Any]:
    return score_json(upcr.INSTRUMENT, {"value": value, "unit": unit})


def exact(value: str, unit: upcr.UpcrUnit) -> upcr.UpcrResult:
    """The result with its exact decimals, not yet turned into JSON numbers."""
    return upcr.score(upcr.UpcrInput(value=Decimal(value), unit=unit))


# --- §10 pairs --------------------------------------------------------------------------------


def test_half_a_gram_per_gram_is_56_56_mg_per_mmol() -> None:
    """§10: "Exact: 0.5 g/g = 56.56 mg/mmol" (0.5 × 113.12)."""
    result = convert(0.5, "g/g")
    assert (result["g_g"], result["mg_g"], result["mg_mmol"]) == (0.5, 500, 56.56)
    assert exact("0.5", "g/g").mg_mmol == Decimal("56.56")


def test_50_mg_per_mmol_is_0_442_g_per_g() -> None:
    """§10: "50 mg/mmol = 0.442 g/g" (50 / 113.12 = 0.44201)."""
    result = convert(50, "mg/mmol")
    assert round(result["g_g"], 3) == 0.442
    assert result["mg_mmol"] == 50  # the reported value is kept exactly
    assert round(result["mg_g"], 1) == 442.0


def test_1_mg_per_g_is_0_1131_mg_per_mmol() -> None:
    """§10: 1 mg/g = 0.1131 mg/mmol (to 4 decimals; exactly 0.11312)."""
    result = convert(1, "mg/g")
    assert round(result["mg_mmol"], 4) == 0.1131
    assert exact("1", "mg/g").mg_mmol == Decimal("0.11312")
    assert result["g_g"] == 0.001


def test_1_mg_per_mmol_is_8_8402_mg_per_g_by_the_exact_molar_mass() -> None:
    """§16.9 fixes exact conversion at 113.12 g/mol: 1 mg/mmol = 1000 / 113.12 = 8.84017 mg/g.

    §10's bullet prints "8.8417", which is 1 / 0.1131, the reciprocal of the rounded 1 mg/g
    figure, not the exact one; §10's own "1 g creatinine = 8.84 mmol" agrees with 8.8402.
    """
    result = convert(1, "mg/mmol")
    assert round(result["mg_g"], 4) == 8.8402
    assert round(1 / 0.1131, 4) == 8.8417  # where §10's rounded figure comes from
    assert round(1000 / 113.12, 2) == 8.84  # §10: 1 g creatinine = 8.84 mmol


def test_one_gram_per_gram_is_1000_mg_per_g_and_113_12_mg_per_mmol() -> None:
    """§10: 1 mg/mg = 1 g/g = 1000 mg/g = 113.12 mg/mmol."""
    for unit in ("g/g", "mg/mg"):
        assert convert(1, unit) == {
            "instrument": "upcr",
            "section": "§10",
            "missing": [],
            "g_g": 1,
            "mg_g": 1000,
            "mg_mmol": 113.12,
        }


def test_mg_per_g_converts_to_the_other_units() -> None:
    result = convert(500, "mg/g")
    assert (result["g_g"], result["mg_g"], result["mg_mmol"]) == (0.5, 500, 56.56)


def test_guideline_rounded_pairs_are_not_used_for_conversion() -> None:
    """§10: guidelines pair 3 g/g with 300 mg/mmol; the exact conversion is 339.36."""
    assert convert(3, "g/g")["mg_mmol"] == 339.36
    assert convert(300, "mg/mmol")["g_g"] != 3


def test_conversion_is_exact_decimal_not_binary_float() -> None:
    """0.1 g/g × 113.12 is 11.312 exactly (in binary floats 0.1 * 113.12 = 11.312000000000001)."""
    assert exact("0.1", "g/g").mg_mmol == Decimal("11.312")
    assert convert(0.1, "g/g")["mg_mmol"] == 11.312
    assert exact("0.1", "g/g").mg_g == Decimal(100)
    assert exact("339.36", "mg/mmol").g_g == Decimal(3)


def test_zero_is_zero_in_every_unit() -> None:
    for unit in ("g/g", "mg/g", "mg/mg", "mg/mmol"):
        result = convert(0, unit)
        assert (result["g_g"], result["mg_g"], result["mg_mmol"]) == (0, 0, 0)


def test_a_value_given_in_mg_per_mmol_is_returned_unchanged() -> None:
    assert exact("56.56", "mg/mmol").mg_mmol == Decimal("56.56")
    assert exact("56.56", "mg/mmol").g_g == Decimal("0.5")


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["mg/mol", "g/L", "mg/dL", "G/G", "mg/24h", ""])
def test_it_refuses_an_unknown_unit(unit: str) -> None:
    assert refused_fields(upcr.INSTRUMENT, {"value": 1, "unit": unit}) == ["unit"]


@pytest.mark.parametrize("value", [-0.01, "0.5", True, None])
def test_it_refuses_a_bad_value(value: Any) -> None:
    assert refused_fields(upcr.INSTRUMENT, {"value": value, "unit": "g/g"}) == ["value"]


@pytest.mark.parametrize("field", ["value", "unit"])
def test_it_refuses_a_missing_required_field(field: str) -> None:
    payload: dict[str, Any] = {"value": 1, "unit": "g/g"}
    del payload[field]
    assert refused_fields(upcr.INSTRUMENT, payload) == [field]


def test_it_refuses_an_unknown_field() -> None:
    assert refused_fields(upcr.INSTRUMENT, {"value": 1, "unit": "g/g", "g_g": 1}) == ["g_g"]
