"""eGFR CKD-EPI 2021 (instruments.md §9, contract §16.8)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from lupus_msc.clinical import egfr
from lupus_msc.scoring.jsonio import parse_exact, validation_problems
from tests.scoring_helpers import refused_fields, score_json


def score(payload: dict[str, Any]) -> dict[str, Any]:
    return score_json(egfr.INSTRUMENT, payload)


def cr_by_hand(sex: str, age: float, scr: float) -> float:
    """§9 eGFRcr 2021 typed in again from the document, independently of the module."""
    kappa, alpha = (0.7, -0.241) if sex == "female" else (0.9, -0.302)
    value: float = 142 * min(scr / kappa, 1) ** alpha * max(scr / kappa, 1) ** -1.200 * 0.9938**age
    return value * 1.012 if sex == "female" else value


def cr_cys_by_hand(sex: str, age: float, scr: float, scys: float) -> float:
    """§9 eGFRcr-cys 2021 typed in again from the document, independently of the module."""
    kappa, alpha = (0.7, -0.219) if sex == "female" else (0.9, -0.144)
    value: float = (
        135
        * min(scr / kappa, 1) ** alpha
        * max(scr / kappa, 1) ** -0.544
        * min(scys / 0.8, 1) ** -0.323
        * max(scys / 0.8, 1) ** -0.778
        * 0.9961**age
    )
    return value * 0.963 if sex == "female" else value


# --- §9 worked examples ---------------------------------------------------------------------


def test_worked_example_male_55_scr_1_2_is_71_4() -> None:
    """§9: Scr/κ = 1.3333; 1.3333^−1.2 = 0.7081; 0.9938^55 = 0.7103; 142 × … = 71.4."""
    result = score({"sex": "male", "age_years": 55, "creatinine_mg_dl": 1.2})
    assert round(result["egfr_cr"], 1) == 71.4
    assert result["egfr_cr"] == pytest.approx(cr_by_hand("male", 55, 1.2), rel=0, abs=1e-9)
    assert round(result["egfr_cr"]) == 71  # kidney.org's calculator (S44b)
    assert (result["egfr_cr_cys"], result["category"], result["loinc"]) == (None, "G2", "98979-8")


def test_worked_example_female_40_scr_0_6_is_116_3() -> None:
    """§9: Scr/κ = 0.8571; 0.8571^−0.241 = 1.0378; 0.9938^40 = 0.7798; × 1.012 → 116.3."""
    result = score({"sex": "female", "age_years": 40, "creatinine_mg_dl": 0.6})
    assert round(result["egfr_cr"], 1) == 116.3
    assert result["egfr_cr"] == pytest.approx(cr_by_hand("female", 40, 0.6), rel=0, abs=1e-9)
    assert result["category"] == "G1"


def test_worked_example_female_30_scr_88_4_umol_l_is_77_7() -> None:
    """§9: 88.4 µmol/L = 1.0 mg/dL; Scr/κ = 1.4286; max term 0.6518; 0.9938^30 = 0.8298 → 77.7."""
    result = score({"sex": "female", "age_years": 30, "creatinine_umol_l": 88.4})
    assert round(result["egfr_cr"], 1) == 77.7
    assert result["egfr_cr"] == pytest.approx(cr_by_hand("female", 30, 1.0), rel=0, abs=1e-9)
    assert result["category"] == "G2"


def test_worked_example_male_50_scr_1_scys_1_is_88_1() -> None:
    """§9: 135 × 0.9443 × 0.8406 × 0.8225 = 88.1 (creatinine–cystatin C equation)."""
    result = score(
        {"sex": "male", "age_years": 50, "creatinine_mg_dl": 1.0, "cystatin_c_mg_l": 1.0}
    )
    assert round(result["egfr_cr_cys"], 1) == 88.1
    expected = cr_cys_by_hand("male", 50, 1.0, 1.0)
    assert result["egfr_cr_cys"] == pytest.approx(expected, rel=0, abs=1e-9)
    assert result["egfr_cr"] == pytest.approx(cr_by_hand("male", 50, 1.0), rel=0, abs=1e-9)


def test_worked_intermediate_terms_of_section_9() -> None:
    """The rounded intermediate terms printed in §9's table, recomputed by hand."""
    assert round((1.2 / 0.9) ** -1.2, 4) == 0.7081
    assert round(0.9938**55, 4) == 0.7103
    assert round((0.6 / 0.7) ** -0.241, 4) == 1.0378
    assert round(0.9938**40, 4) == 0.7798
    assert round((1.0 / 0.7) ** -1.2, 4) == 0.6518
    assert round(0.9938**30, 4) == 0.8298
    assert round((1.0 / 0.9) ** -0.544, 4) == 0.9443
    assert round((1.0 / 0.8) ** -0.778, 4) == 0.8406
    assert round(0.9961**50, 4) == 0.8225


def test_cystatin_decides_the_category_and_its_loinc() -> None:
    """Worked example 4: eGFRcr 91.7 is G1, eGFRcr-cys 88.1 is G2; the category follows cr-cys."""
    creatinine_only = score({"sex": "male", "age_years": 50, "creatinine_mg_dl": 1.0})
    assert (creatinine_only["category"], creatinine_only["loinc"]) == ("G1", "98979-8")
    both = score({"sex": "male", "age_years": 50, "creatinine_mg_dl": 1.0, "cystatin_c_mg_l": 1})
    assert (both["category"], both["loinc"]) == ("G2", "98980-6")
    assert both["egfr_cr"] == creatinine_only["egfr_cr"]


def test_egfr_is_kept_at_full_precision() -> None:
    result = score({"sex": "male", "age_years": 55, "creatinine_mg_dl": 1.2})
    assert result["egfr_cr"] != round(result["egfr_cr"], 6)
    assert isinstance(result["egfr_cr"], float)


@pytest.mark.parametrize(
    ("sex", "age", "scr", "scys"),
    [
        ("female", 18, 0.4, 0.5),
        ("male", 120, 5.0, 4.0),
        ("female", 72.5, 2.3, 0.8),
        ("male", 33, 0.62, 1.7),
    ],
)
def test_both_equations_match_the_hand_typed_formulas(
    sex: str, age: float, scr: float, scys: float
) -> None:
    result = score({"sex": sex, "age_years": age, "creatinine_mg_dl": scr, "cystatin_c_mg_l": scys})
    assert result["egfr_cr"] == pytest.approx(cr_by_hand(sex, age, scr), rel=1e-12)
    assert result["egfr_cr_cys"] == pytest.approx(cr_cys_by_hand(sex, age, scr, scys), rel=1e-12)


# --- the kinks --------------------------------------------------------------------------------


@pytest.mark.parametrize(("sex", "kappa", "female"), [("male", 0.9, 1.0), ("female", 0.7, 1.012)])
def test_scr_exactly_at_kappa_leaves_only_age_and_sex(
    sex: str, kappa: float, female: float
) -> None:
    """§9: at Scr = κ both creatinine terms are 1, so eGFRcr = 142 × 0.9938^age (× 1.012)."""
    at_kink = score({"sex": sex, "age_years": 60, "creatinine_mg_dl": kappa})["egfr_cr"]
    assert at_kink == pytest.approx(142 * 0.9938**60 * female, rel=1e-13)
    below = score({"sex": sex, "age_years": 60, "creatinine_mg_dl": kappa - 0.000001})["egfr_cr"]
    above = score({"sex": sex, "age_years": 60, "creatinine_mg_dl": kappa + 0.000001})["egfr_cr"]
    assert below > at_kink > above
    assert below - above < 0.001  # continuous across the kink


def test_scr_at_kappa_in_umol_l_is_the_same_kink() -> None:
    """79.56 µmol/L ÷ 88.4 = 0.9 mg/dL exactly, male κ."""
    result = score({"sex": "male", "age_years": 60, "creatinine_umol_l": 79.56})
    assert result["egfr_cr"] == pytest.approx(142 * 0.9938**60, rel=1e-13)


def test_cystatin_exactly_at_0_8_leaves_its_terms_at_1() -> None:
    """§9: Scys/0.8 = 1 → both cystatin terms are 1; with Scr at κ, 135 × 0.9961^age × 0.963."""
    result = score(
        {"sex": "female", "age_years": 45, "creatinine_mg_dl": 0.7, "cystatin_c_mg_l": 0.8}
    )
    assert result["egfr_cr_cys"] == pytest.approx(135 * 0.9961**45 * 0.963, rel=1e-13)


def test_umol_l_converts_by_dividing_by_88_4() -> None:
    by_umol = score({"sex": "male", "age_years": 40, "creatinine_umol_l": 176.8})
    by_mg = score({"sex": "male", "age_years": 40, "creatinine_mg_dl": 2})
    assert by_umol["egfr_cr"] == by_mg["egfr_cr"]


# --- categories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("floor", "at_or_above", "below"),
    [(90, "G1", "G2"), (60, "G2", "G3a"), (45, "G3a", "G3b"), (30, "G3b", "G4"), (15, "G4", "G5")],
)
def test_category_boundaries_are_inclusive_lower_limits(
    floor: int, at_or_above: str, below: str
) -> None:
    assert egfr.gfr_category(floor - 0.001) == below
    assert egfr.gfr_category(float(floor)) == at_or_above
    assert egfr.gfr_category(floor + 0.001) == at_or_above


def test_category_uses_full_precision_so_89_6_is_g2() -> None:
    """§9 displays eGFR rounded to an integer; §16.8's "G1 ≥ 90" applies to the full value."""
    assert egfr.gfr_category(89.6) == "G2"
    assert egfr.gfr_category(89.99999999) == "G2"


def test_extreme_values_are_g1_and_g5() -> None:
    assert egfr.gfr_category(200.0) == "G1"
    assert egfr.gfr_category(0.5) == "G5"
    assert score({"sex": "male", "age_years": 80, "creatinine_mg_dl": 9})["category"] == "G5"


def test_category_floors_descend_and_end_at_15() -> None:
    floors = [floor for _, floor in egfr.CATEGORY_FLOORS]
    assert floors == sorted(floors, reverse=True) == [90, 60, 45, 30, 15]


def creatinine_for(target: float, *, age: int = 40) -> str:
    """Male Scr (mg/dL, above κ) giving ``target``: solve 142 × (Scr/0.9)^−1.2 × 0.9938^age."""
    scr = 0.9 * (target / (142 * 0.9938**age)) ** (-1 / 1.2)
    assert scr > 0.9
    return f"{scr:.12f}"


@pytest.mark.parametrize(
    ("floor", "at_or_above", "below"),
    [(90, "G1", "G2"), (60, "G2", "G3a"), (45, "G3a", "G3b"), (30, "G3b", "G4"), (15, "G4", "G5")],
)
def test_category_boundaries_through_the_score_interface(
    floor: int, at_or_above: str, below: str
) -> None:
    """Creatinine solved for eGFR just above and just below each limit (± 0.001)."""
    for target, expected in ((floor + 0.001, at_or_above), (floor - 0.001, below)):
        text = f'{{"sex": "male", "age_years": 40, "creatinine_mg_dl": {creatinine_for(target)}}}'
        result = score_json(egfr.INSTRUMENT, text)
        assert result["egfr_cr"] == pytest.approx(target, abs=1e-6)
        assert result["category"] == expected


# --- refusals ---------------------------------------------------------------------------------


def test_it_refuses_age_17() -> None:
    assert refused_fields(
        egfr.INSTRUMENT, {"sex": "male", "age_years": 17, "creatinine_mg_dl": 1}
    ) == ["age_years"]


def test_it_refuses_age_121() -> None:
    assert refused_fields(
        egfr.INSTRUMENT, {"sex": "male", "age_years": 121, "creatinine_mg_dl": 1}
    ) == ["age_years"]


def test_it_refuses_age_just_under_18_and_just_over_120() -> None:
    for age in (17.99, 120.01):
        assert refused_fields(
            egfr.INSTRUMENT, {"sex": "female", "age_years": age, "creatinine_mg_dl": 1}
        ) == ["age_years"]


def test_it_accepts_ages_18_and_120() -> None:
    for age in (18, 120):
        result = score({"sex": "female", "age_years": age, "creatinine_mg_dl": 1})
        assert result["egfr_cr"] == pytest.approx(cr_by_hand("female", age, 1.0), rel=1e-12)


def _problems(payload: dict[str, Any]) -> str:
    """The refusal messages, joined, for checking that they name the fields."""
    with pytest.raises(ValidationError) as caught:
        egfr.EgfrInput.model_validate(parse_exact(json.dumps(payload)))
    return " ".join(f"{field}: {message}" for field, message in validation_problems(caught.value))


def test_it_refuses_both_creatinines_naming_both_fields() -> None:
    message = _problems(
        {"sex": "male", "age_years": 50, "creatinine_mg_dl": 1, "creatinine_umol_l": 88.4}
    )
    assert "creatinine_mg_dl" in message and "creatinine_umol_l" in message


def test_it_refuses_no_creatinine_naming_both_fields() -> None:
    message = _problems({"sex": "male", "age_years": 50, "cystatin_c_mg_l": 1})
    assert "creatinine_mg_dl" in message and "creatinine_umol_l" in message


def test_null_creatinine_counts_as_not_given() -> None:
    result = score(
        {"sex": "male", "age_years": 55, "creatinine_mg_dl": 1.2, "creatinine_umol_l": None}
    )
    assert round(result["egfr_cr"], 1) == 71.4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sex": "Female"}, "sex"),
        ({"sex": "other"}, "sex"),
        ({"age_years": "55"}, "age_years"),
        ({"age_years": True}, "age_years"),
        ({"creatinine_mg_dl": 0}, "creatinine_mg_dl"),
        ({"creatinine_mg_dl": -1}, "creatinine_mg_dl"),
        ({"creatinine_mg_dl": "1.2"}, "creatinine_mg_dl"),
        ({"cystatin_c_mg_l": 0}, "cystatin_c_mg_l"),
        ({"race": "black"}, "race"),
    ],
)
def test_it_refuses_bad_values_naming_the_field(change: dict[str, Any], field: str) -> None:
    payload = {"sex": "male", "age_years": 55, "creatinine_mg_dl": 1.2, **change}
    assert refused_fields(egfr.INSTRUMENT, payload) == [field]


@pytest.mark.parametrize("field", ["sex", "age_years"])
def test_it_refuses_a_missing_required_field(field: str) -> None:
    payload = {"sex": "male", "age_years": 55, "creatinine_mg_dl": 1.2}
    del payload[field]
    assert refused_fields(egfr.INSTRUMENT, payload) == [field]


def test_result_names_instrument_and_section() -> None:
    result = score({"sex": "male", "age_years": 55, "creatinine_mg_dl": 1.2})
    assert (result["instrument"], result["section"], result["missing"]) == (
        "egfr-ckdepi2021",
        "§9",
        [],
    )
    assert egfr.INSTRUMENT.name == "egfr-ckdepi2021"


def test_the_module_functions_take_exact_decimals() -> None:
    value = egfr.egfr_cr(sex="male", age_years=Decimal(55), creatinine_mg_dl=Decimal("1.2"))
    assert math.isclose(value, cr_by_hand("male", 55, 1.2), rel_tol=1e-12)
