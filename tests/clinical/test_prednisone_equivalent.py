"""Prednisone-equivalent dose and bands (§11, contract §16.11).

Expected values are worked by hand from the §11 table (equivalent of prednisone 5 mg:
methylprednisolone 4 mg, hydrocortisone 20 mg, dexamethasone 0.75 mg, betamethasone 0.75 mg (D15),
deflazacort 6 mg, cortisone 25 mg, triamcinolone 4 mg) and never taken from the code's output.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

import pytest

from lupus_msc.clinical import prednisone_equivalent
from lupus_msc.clinical.prednisone_equivalent import (
    EQUIVALENT_DOSE_MG,
    INSTRUMENT,
    Drug,
    PrednisoneEquivalentInput,
    factor,
)
from lupus_msc.scoring.jsonio import parse_exact
from tests.scoring_helpers import refused_fields, score_json

PREDNISONE = "prednisone"


def one(drug: str, dose_mg: Any, **extra: Any) -> dict[str, Any]:
    """Score a single medication."""
    return score_json(INSTRUMENT, {"medications": [{"drug": drug, "dose_mg": dose_mg, **extra}]})


def exact_total(payload: dict[str, Any]) -> Decimal:
    """The exact Decimal total, before JSON turns it into a float."""
    model = PrednisoneEquivalentInput.model_validate(parse_exact(json.dumps(payload)))
    return prednisone_equivalent.score(model).prednisone_mg_day


# --- §11 worked examples -------------------------------------------------------------------


def test_methylprednisolone_16_mg_is_prednisone_20_mg() -> None:
    """§11 worked example: 16 × 5/4 = 20."""
    result = one("methylprednisolone", 16)
    assert result["prednisone_mg_day"] == 20
    assert isinstance(result["prednisone_mg_day"], int)


def test_dexamethasone_1_5_mg_is_exactly_prednisone_10_mg() -> None:
    """§11 worked example: 1.5 × 5/0.75 = 10 exactly (not 10.0005 from a rounded 6.667)."""
    result = one("dexamethasone", 1.5)
    assert result["prednisone_mg_day"] == 10
    assert isinstance(result["prednisone_mg_day"], int)
    assert exact_total({"medications": [{"drug": "dexamethasone", "dose_mg": 1.5}]}) == 10


# --- the §11 table ---------------------------------------------------------------------------

# (drug, equivalent dose of prednisone 5 mg, factor column of §11 as printed)
SECTION_11_TABLE = [
    ("prednisone", "5", "1"),
    ("prednisolone", "5", "1"),
    ("methylprednisolone", "4", "1.25"),
    ("hydrocortisone", "20", "0.25"),
    ("dexamethasone", "0.75", "6.667"),
    ("betamethasone", "0.75", "6.667"),
    ("deflazacort", "6", "0.8333"),
    ("cortisone", "25", "0.2"),
    ("triamcinolone", "4", "1.25"),
]


def test_the_table_covers_the_nine_drugs_of_the_contract() -> None:
    assert sorted(EQUIVALENT_DOSE_MG) == sorted(drug for drug, _, _ in SECTION_11_TABLE)


@pytest.mark.parametrize(("drug", "equivalent", "printed_factor"), SECTION_11_TABLE)
def test_the_equivalent_dose_of_each_drug_is_prednisone_5_mg(
    drug: str, equivalent: str, printed_factor: str
) -> None:
    result = one(drug, float(equivalent))
    assert result["prednisone_mg_day"] == 5
    assert result["band"] == "low"


@pytest.mark.parametrize(("drug", "equivalent", "printed_factor"), SECTION_11_TABLE)
def test_the_factor_is_the_exact_ratio_that_rounds_to_the_printed_one(
    drug: str, equivalent: str, printed_factor: str
) -> None:
    exact = factor(cast(Drug, drug))
    assert exact == Fraction(5) / Fraction(equivalent)
    printed = Decimal(printed_factor)
    shown = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(printed)
    assert shown == printed


def test_dexamethasone_factor_is_20_thirds_not_6_667() -> None:
    assert factor("dexamethasone") == Fraction(20, 3)


# --- exactness of repeating decimals ---------------------------------------------------------


def test_dexamethasone_1_125_mg_is_exactly_7_5_so_low_band_and_lldas_dose_ok() -> None:
    """1.125 × 20/3 = 22.5/3 = 7.5 exactly; a rounded factor (6.667) would give 7.500375."""
    result = one("dexamethasone", 1.125)
    assert result["prednisone_mg_day"] == 7.5
    assert result["band"] == "low"
    assert result["lldas_dose_ok"] is True
    assert result["doris_dose_ok"] is False


def test_dexamethasone_1_mg_shows_the_repeating_decimal_to_28_digits() -> None:
    """1 × 20/3 = 6.666…; shown with the 28 significant digits of Decimal, last digit rounded."""
    payload = {"medications": [{"drug": "dexamethasone", "dose_mg": 1}]}
    assert exact_total(payload) == Decimal("6.666666666666666666666666667")
    assert score_json(INSTRUMENT, payload)["prednisone_mg_day"] == pytest.approx(20 / 3)


def test_repeating_parts_are_summed_before_they_are_shown() -> None:
    """Dexamethasone 1 mg (20/3) + 0.5 mg (10/3) = 30/3 = 10 exactly, not 9.999…9."""
    payload = {
        "medications": [
            {"drug": "dexamethasone", "dose_mg": 1},
            {"drug": "dexamethasone", "dose_mg": 0.5},
        ]
    }
    assert exact_total(payload) == 10
    assert score_json(INSTRUMENT, payload)["prednisone_mg_day"] == 10


def test_three_daily_doses_of_dexamethasone_0_25_reach_exactly_doris_5_mg() -> None:
    """3 × 0.25 mg = 0.75 mg dexamethasone = prednisone 5 mg (÷3 ×3 with no rounding)."""
    result = one("dexamethasone", 0.25, doses_per_day=3)
    assert result["prednisone_mg_day"] == 5
    assert result["doris_dose_ok"] is True


# --- regimen arithmetic ----------------------------------------------------------------------


def test_doses_per_day_multiply_the_dose() -> None:
    """Hydrocortisone 10 mg three times a day = 30 mg × 0.25 = 7.5 mg."""
    result = one("hydrocortisone", 10, doses_per_day=3)
    assert result["prednisone_mg_day"] == 7.5


def test_alternate_day_regimen_is_averaged_over_48_hours() -> None:
    """Prednisone 10 mg every other day = 5 mg/day (§11 [IMPL])."""
    result = one(PREDNISONE, 10, every_days=2)
    assert result["prednisone_mg_day"] == 5
    assert result["doris_dose_ok"] is True


def test_alternate_day_15_mg_is_7_5_mg_a_day_and_within_lldas() -> None:
    result = one(PREDNISONE, 15, every_days=2)
    assert result["prednisone_mg_day"] == 7.5
    assert result["band"] == "low"
    assert result["lldas_dose_ok"] is True


def test_alternate_day_methylprednisolone_twice_daily_combines_both() -> None:
    """Methylprednisolone 8 mg twice a day every other day: 8 × 1.25 × 2 ÷ 2 = 10."""
    assert one("methylprednisolone", 8, doses_per_day=2, every_days=2)["prednisone_mg_day"] == 10


def test_several_drugs_are_summed_and_listed_in_input_order() -> None:
    """Prednisone 5 + hydrocortisone 20 (= 5) + methylprednisolone 4 (= 5) = 15 mg."""
    result = score_json(
        INSTRUMENT,
        {
            "medications": [
                {"drug": "prednisone", "dose_mg": 5},
                {"drug": "hydrocortisone", "dose_mg": 20},
                {"drug": "methylprednisolone", "dose_mg": 4},
                {"drug": "prednisone", "dose_mg": 0},
            ]
        },
    )
    assert result["prednisone_mg_day"] == 15
    assert result["per_drug"] == [
        {"drug": "prednisone", "prednisone_mg_day": 5},
        {"drug": "hydrocortisone", "prednisone_mg_day": 5},
        {"drug": "methylprednisolone", "prednisone_mg_day": 5},
        {"drug": "prednisone", "prednisone_mg_day": 0},
    ]
    assert result["band"] == "medium"


def test_no_medication_is_0_mg_band_none() -> None:
    result = score_json(INSTRUMENT, {"medications": []})
    assert result["prednisone_mg_day"] == 0
    assert result["band"] == "none"
    assert result["lldas_dose_ok"] is True
    assert result["doris_dose_ok"] is True
    assert result["missing"] == []


# --- bands and dose checks at, below and above every cut-off --------------------------------


@pytest.mark.parametrize(
    ("mg", "band"),
    [
        (0, "none"),
        (0.01, "low"),
        (7.49, "low"),
        (7.5, "low"),
        (7.51, "medium"),
        (29.99, "medium"),
        (30, "medium"),
        (30.01, "high"),
        (99.99, "high"),
        (100, "high"),
        (100.01, "very_high"),
        (1000, "very_high"),
    ],
)
def test_eular_band_boundaries(mg: float, band: str) -> None:
    assert one(PREDNISONE, mg)["band"] == band


@pytest.mark.parametrize(("mg", "ok"), [(7.49, True), (7.5, True), (7.51, False)])
def test_lldas_dose_is_at_most_7_5(mg: float, ok: bool) -> None:
    assert one(PREDNISONE, mg)["lldas_dose_ok"] is ok


@pytest.mark.parametrize(("mg", "ok"), [(4.99, True), (5, True), (5.01, False)])
def test_doris_dose_is_at_most_5(mg: float, ok: bool) -> None:
    assert one(PREDNISONE, mg)["doris_dose_ok"] is ok


def test_d9_doris_prednisone_5_counts_by_default() -> None:
    assert one(PREDNISONE, 5)["doris_dose_ok"] is True


def test_band_is_decided_exactly_for_hydrocortisone_30_point_04() -> None:
    """Hydrocortisone 30.04 mg × 0.25 = 7.51 mg → medium; 30 mg → 7.5 → low."""
    assert one("hydrocortisone", 30.04)["band"] == "medium"
    assert one("hydrocortisone", 30)["band"] == "low"


# --- D15 betamethasone ---------------------------------------------------------------------


def test_d15_betamethasone_0_75_mg_equals_prednisone_5_mg() -> None:
    """Chosen 0.75 mg (BNF/FDA); the rejected US-table 0.6 mg would make 0.75 mg = 6.25 mg."""
    assert one("betamethasone", 0.75)["prednisone_mg_day"] == 5
    assert one("betamethasone", 1.2)["prednisone_mg_day"] == 8


def test_d15_alternative_betamethasone_equivalent_is_configurable() -> None:
    alternative = {**EQUIVALENT_DOSE_MG, "betamethasone": Decimal("0.6")}
    assert factor("betamethasone", alternative) == Fraction(25, 3)


# --- weight ----------------------------------------------------------------------------------


def test_mg_kg_day_divides_by_weight() -> None:
    """Prednisone 35 mg, 70 kg → 0.5 mg/kg/day."""
    payload = {"medications": [{"drug": "prednisone", "dose_mg": 35}], "weight_kg": 70}
    assert score_json(INSTRUMENT, payload)["mg_kg_day"] == 0.5


def test_mg_kg_day_is_null_without_weight() -> None:
    assert one(PREDNISONE, 35)["mg_kg_day"] is None


def test_mg_kg_day_keeps_repeating_decimals() -> None:
    """Prednisone 20 mg, 60 kg → 1/3 mg/kg/day."""
    payload = {"medications": [{"drug": "prednisone", "dose_mg": 20}], "weight_kg": 60}
    assert score_json(INSTRUMENT, payload)["mg_kg_day"] == pytest.approx(1 / 3)


# --- refusals -------------------------------------------------------------------------------


def test_it_refuses_an_unknown_drug_naming_it() -> None:
    payload = {"medications": [{"drug": "cortisol", "dose_mg": 5}]}
    assert refused_fields(INSTRUMENT, payload) == ["medications[0].drug"]


def test_it_refuses_a_depot_drug_name_not_in_the_table() -> None:
    payload = {"medications": [{"drug": "prednisone", "dose_mg": 5}, {"drug": "x", "dose_mg": 1}]}
    assert refused_fields(INSTRUMENT, payload) == ["medications[1].drug"]


@pytest.mark.parametrize(
    ("medication", "field"),
    [
        ({"drug": "prednisone", "dose_mg": -1}, "dose_mg"),
        ({"drug": "prednisone", "dose_mg": "5"}, "dose_mg"),
        ({"drug": "prednisone", "dose_mg": True}, "dose_mg"),
        ({"drug": "prednisone", "dose_mg": 5, "doses_per_day": 0}, "doses_per_day"),
        ({"drug": "prednisone", "dose_mg": 5, "doses_per_day": 1.5}, "doses_per_day"),
        ({"drug": "prednisone", "dose_mg": 5, "every_days": 0}, "every_days"),
        ({"drug": "prednisone", "dose_mg": 5, "every_days": "2"}, "every_days"),
        ({"drug": "prednisone", "dose_mg": 5, "every_days": True}, "every_days"),
        ({"drug": "prednisone", "dose_mg": 5, "route": "oral"}, "route"),
        ({"drug": "prednisone"}, "dose_mg"),
        ({"dose_mg": 5}, "drug"),
    ],
)
def test_it_refuses_a_bad_medication_naming_the_field(
    medication: dict[str, Any], field: str
) -> None:
    assert refused_fields(INSTRUMENT, {"medications": [medication]}) == [f"medications[0].{field}"]


@pytest.mark.parametrize("weight", [1.9, 400.1, "70"])
def test_it_refuses_a_weight_outside_2_to_400_kg(weight: Any) -> None:
    payload = {"medications": [], "weight_kg": weight}
    assert refused_fields(INSTRUMENT, payload) == ["weight_kg"]


def test_it_refuses_a_missing_medication_list() -> None:
    assert refused_fields(INSTRUMENT, {"weight_kg": 70}) == ["medications"]


def test_it_refuses_an_unknown_top_level_field() -> None:
    assert refused_fields(INSTRUMENT, {"medications": [], "dose": 5}) == ["dose"]


def test_result_names_instrument_and_section() -> None:
    result = one(PREDNISONE, 5)
    assert result["instrument"] == "prednisone-equivalent"
    assert result["section"] == "§11"
