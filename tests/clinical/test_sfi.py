"""Classic SELENA-SLEDAI Flare Index (instruments.md §2, contract §16.2).

Expected values are read off the §2 table and the §16.2 rules, not from the code's output.
"""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.clinical import sfi
from tests.scoring_helpers import refused_fields, score_json

# Both pairs complete and quiet: no criterion fires, so the flare is decided "none".
QUIET: dict[str, Any] = {
    "sledai_previous": 2,
    "sledai_current": 2,
    "pga_previous": 0.5,
    "pga_current": 0.5,
}


def score(payload: dict[str, Any] | str) -> dict[str, Any]:
    return score_json(sfi.INSTRUMENT, payload)


def visit(**changes: Any) -> dict[str, Any]:
    return score({**QUIET, **changes})


def test_result_names_instrument_and_section() -> None:
    result = visit()
    assert (result["instrument"], result["section"]) == ("sfi", "§2")
    assert result["flare"] == "none"
    assert result["flare_clinical_only"] == "none"
    assert result["flare_at_least"] == "none"
    assert result["criteria_met"] == []
    assert result["missing"] == []


# --- SELENA-SLEDAI row: mild = rise ≥ 3 with new score ≤ 12; severe = rise to > 12 -------------


@pytest.mark.parametrize(
    ("previous", "current", "flare", "criteria"),
    [
        (2, 4, "none", []),  # +2: below the 3-point rise
        (2, 5, "mild_moderate", ["sledai_mild"]),  # +3: at the rise
        (2, 6, "mild_moderate", ["sledai_mild"]),  # +4
        (9, 12, "mild_moderate", ["sledai_mild"]),  # +3 to exactly 12: "not > 12"
        (10, 13, "severe", ["sledai_severe"]),  # +3 to 13: > 12
        (12, 13, "severe", ["sledai_severe"]),  # +1 to 13: an increase to > 12 suffices
        (13, 13, "none", []),  # > 12 but no increase
        (20, 14, "none", []),  # > 12 but falling
        (0, 0, "none", []),
    ],
)
def test_sledai_rise_thresholds(
    previous: int, current: int, flare: str, criteria: list[str]
) -> None:
    result = visit(sledai_previous=previous, sledai_current=current)
    assert result["flare"] == flare
    assert result["flare_clinical_only"] == flare  # the score is a clinical criterion
    assert result["criteria_met"] == criteria


# --- PGA row (D6): mild = rise ≥ 1.0 with new PGA ≤ 2.5; severe = rise to > 2.5 ---------------


@pytest.mark.parametrize(
    ("previous", "current", "flare", "criteria"),
    [
        ("0.5", "1.49", "none", []),  # +0.99
        ("0.5", "1.5", "mild_moderate", ["pga_mild"]),  # +1.0 exactly
        ("0.5", "1.51", "mild_moderate", ["pga_mild"]),  # +1.01
        ("1.5", "2.5", "mild_moderate", ["pga_mild"]),  # +1.0 to exactly 2.5: "not > 2.5"
        ("1.5", "2.51", "severe", ["pga_severe"]),  # +1.01 to 2.51
        ("2.4", "2.51", "severe", ["pga_severe"]),  # small rise, but to > 2.5
        ("2.6", "2.6", "none", []),  # > 2.5 without increase
        ("3", "2.9", "none", []),  # > 2.5, falling
        ("0.4", "1.4", "mild_moderate", ["pga_mild"]),  # binary floats: 1.4 − 0.4 < 1.0
    ],
)
def test_pga_rise_thresholds(previous: str, current: str, flare: str, criteria: list[str]) -> None:
    result = score(
        f'{{"sledai_previous": 2, "sledai_current": 2, '
        f'"pga_previous": {previous}, "pga_current": {current}}}'
    )
    assert result["flare"] == flare
    assert result["criteria_met"] == criteria


def test_d6_pga_rise_from_0_9_to_1_0_is_not_a_flare() -> None:
    """D6: "≥ 1.0 increase, not > 2.5" (S14), not S15's "increase to ≥ 1.0 and ≤ 2.5".

    Under S15 the rise 0.9 → 1.0 would be a mild/moderate flare; under S14 it is +0.1.
    """
    result = visit(pga_previous=0.9, pga_current=1.0)
    assert result["flare"] == "none"
    assert "pga_mild" not in result["criteria_met"]


def test_d6_a_full_point_rise_is_a_flare_whatever_the_new_value() -> None:
    """D6: a rise 0 → 1.0 qualifies under both readings; 1.2 → 2.2 only under S14."""
    assert visit(pga_previous=0, pga_current=1.0)["criteria_met"] == ["pga_mild"]
    assert visit(pga_previous=1.2, pga_current=2.2)["criteria_met"] == ["pga_mild"]


# --- prednisone row: increase, severe when > 0.5 mg/kg/day; mg/kg/day = dose / weight ---------


@pytest.mark.parametrize(
    ("previous", "current", "weight", "criteria"),
    [
        (10, "34.9", 70, ["prednisone_mild"]),  # 0.4986 mg/kg/day
        (10, "35", 70, ["prednisone_mild"]),  # 35 / 70 = 0.5 exactly: "not > 0.5"
        (10, "35.1", 70, ["prednisone_severe"]),  # 0.5014 mg/kg/day
        (10, "20", 60, ["prednisone_mild"]),  # 1/3 mg/kg/day
        (10, "30.1", 60, ["prednisone_severe"]),  # 0.50166…
        (40, "45", 70, ["prednisone_severe"]),  # already above 0.5, increased further
        (35, "35", 70, []),  # no increase
        (40, "30", 70, []),  # a taper is not a flare
        (0, "0.5", 70, ["prednisone_mild"]),  # any increase counts
    ],
)
def test_prednisone_thresholds(
    previous: int, current: str, weight: int, criteria: list[str]
) -> None:
    result = score(
        f'{{"sledai_previous": 2, "sledai_current": 2, "pga_previous": 0.5, "pga_current": 0.5, '
        f'"prednisone_mg_day_previous": {previous}, "prednisone_mg_day_current": {current}, '
        f'"weight_kg": {weight}}}'
    )
    assert result["criteria_met"] == criteria
    expected = (
        "severe" if criteria == ["prednisone_severe"] else ("mild_moderate" if criteria else "none")
    )
    assert result["flare"] == expected
    assert result["flare_clinical_only"] == "none"  # treatment criteria are left out


def test_mg_per_kg_boundary_is_exact_for_an_odd_weight() -> None:
    """33.3 mg for 66.6 kg is exactly 0.5 mg/kg/day: mild; 33.31 mg is above: severe."""
    at = visit(prednisone_mg_day_previous=5, prednisone_mg_day_current=33.3, weight_kg=66.6)
    above = visit(prednisone_mg_day_previous=5, prednisone_mg_day_current=33.31, weight_kg=66.6)
    assert at["criteria_met"] == ["prednisone_mild"]
    assert above["criteria_met"] == ["prednisone_severe"]


@pytest.mark.parametrize(
    "dropped", ["prednisone_mg_day_previous", "prednisone_mg_day_current", "weight_kg"]
)
def test_prednisone_is_not_evaluated_without_both_doses_and_weight(dropped: str) -> None:
    """§16.2: the prednisone criteria are simply not evaluated; the flare stays decided."""
    payload = {
        **QUIET,
        "prednisone_mg_day_previous": 5,
        "prednisone_mg_day_current": 60,
        "weight_kg": 70,
    }
    del payload[dropped]
    result = score(payload)
    assert result["criteria_met"] == []
    assert result["flare"] == "none"
    assert result["missing"] == []


# --- manifestations, laboratory, drugs, hospitalisation ----------------------------------------


def test_new_mild_manifestation_is_mild_moderate() -> None:
    result = visit(new_mild_manifestations=["arthritis", "pleuritis"])
    assert (result["flare"], result["criteria_met"]) == ("mild_moderate", ["manifestation_mild"])
    assert result["flare_clinical_only"] == "mild_moderate"


def test_empty_manifestation_lists_are_nothing_new() -> None:
    result = visit(new_mild_manifestations=[], new_severe_manifestations=[])
    assert result["flare"] == "none"


def test_new_severe_manifestation_is_severe() -> None:
    result = visit(new_severe_manifestations=["nephritis"])
    assert (result["flare"], result["criteria_met"]) == ("severe", ["manifestation_severe"])
    assert result["flare_clinical_only"] == "severe"


@pytest.mark.parametrize(("platelets", "severe"), [("59.9", True), ("60", False), ("60.1", False)])
def test_platelets_below_60_are_severe(platelets: str, severe: bool) -> None:
    result = score(
        '{"sledai_previous": 2, "sledai_current": 2, "pga_previous": 0.5, "pga_current": 0.5, '
        f'"platelets_10e9_l": {platelets}}}'
    )
    assert ("platelets_severe" in result["criteria_met"]) is severe
    assert result["flare"] == ("severe" if severe else "none")


@pytest.mark.parametrize(("hemoglobin", "severe"), [("6.9", True), ("7", False), ("7.1", False)])
def test_hemoglobin_below_7_is_severe(hemoglobin: str, severe: bool) -> None:
    result = score(
        '{"sledai_previous": 2, "sledai_current": 2, "pga_previous": 0.5, "pga_current": 0.5, '
        f'"hemoglobin_g_dl": {hemoglobin}}}'
    )
    assert ("hemolysis_severe" in result["criteria_met"]) is severe
    assert result["flare_clinical_only"] == ("severe" if severe else "none")


@pytest.mark.parametrize(("fall", "severe"), [("2.9", False), ("3", False), ("3.1", True)])
def test_hemoglobin_fall_above_3_is_severe(fall: str, severe: bool) -> None:
    result = score(
        '{"sledai_previous": 2, "sledai_current": 2, "pga_previous": 0.5, "pga_current": 0.5, '
        f'"hemoglobin_fall_g_dl": {fall}}}'
    )
    assert ("hemolysis_severe" in result["criteria_met"]) is severe


def test_d7_a_small_hemoglobin_fall_is_not_a_severe_flare() -> None:
    """D7: "fall > 3 g/dL" chosen; S15's "decrease by ≤ 3 g/dL" would make a 1 g/dL fall severe."""
    result = visit(hemoglobin_fall_g_dl=1, hemoglobin_g_dl=11)
    assert result["flare"] == "none"
    assert result["criteria_met"] == []


def test_drug_and_hospitalisation_criteria_count_only_in_the_full_index() -> None:
    mild = visit(added_nsaid_or_hydroxychloroquine=True)
    assert (mild["flare"], mild["criteria_met"]) == ("mild_moderate", ["drug_mild"])
    assert mild["flare_clinical_only"] == "none"
    severe = visit(added_cyclophosphamide_azathioprine_methotrexate=True, hospitalized_for_sle=True)
    assert severe["flare"] == "severe"
    assert set(severe["criteria_met"]) == {"drug_severe", "hospitalization_severe"}
    assert severe["flare_clinical_only"] == "none"


def test_false_or_null_drug_flags_count_as_not_present() -> None:
    result = visit(
        added_nsaid_or_hydroxychloroquine=False,
        added_cyclophosphamide_azathioprine_methotrexate=None,
        hospitalized_for_sle=False,
    )
    assert result["flare"] == "none"


def test_severe_outranks_mild_and_every_met_criterion_is_listed() -> None:
    """§2 classification: severe if any severe criterion, even with mild ones present."""
    result = visit(
        sledai_previous=2,
        sledai_current=6,
        new_mild_manifestations=["fever"],
        platelets_10e9_l=40,
    )
    assert result["flare"] == "severe"
    assert set(result["criteria_met"]) == {
        "sledai_mild",
        "manifestation_mild",
        "platelets_severe",
    }


def test_hand_worked_visit_with_treatment_driven_severity() -> None:
    """SLEDAI 4 → 8 (+4, ≤ 12: mild); PGA 0.8 → 1.2 (+0.4: no); prednisone 5 → 40 mg at 60 kg
    (0.667 mg/kg/day > 0.5, increased: severe). Full index severe; without treatment criteria
    only the SLEDAI rise remains: mild/moderate (the §2 note on medication inflating severity)."""
    result = visit(
        sledai_previous=4,
        sledai_current=8,
        pga_previous=0.8,
        pga_current=1.2,
        prednisone_mg_day_previous=5,
        prednisone_mg_day_current=40,
        weight_kg=60,
    )
    assert result["flare"] == "severe"
    assert set(result["criteria_met"]) == {"sledai_mild", "prednisone_severe"}
    assert result["flare_clinical_only"] == "mild_moderate"
    assert result["flare_at_least"] == "severe"


# --- three-valued: the §2 missing-data rule ------------------------------------------------------


def test_nothing_given_is_undecided_and_names_both_pairs() -> None:
    result = score({})
    assert result["flare"] is None
    assert result["flare_clinical_only"] is None
    assert result["flare_at_least"] == "none"
    assert set(result["missing"]) == {
        "sledai_previous",
        "sledai_current",
        "pga_previous",
        "pga_current",
    }


@pytest.mark.parametrize(
    "dropped", ["sledai_previous", "sledai_current", "pga_previous", "pga_current"]
)
def test_half_a_pair_leaves_the_flare_undecided(dropped: str) -> None:
    payload = dict(QUIET)
    del payload[dropped]
    result = score(payload)
    assert result["flare"] is None
    assert result["flare_at_least"] == "none"
    assert result["missing"] == [dropped]


def test_a_mild_criterion_with_a_missing_pair_is_at_least_mild() -> None:
    """The absent PGA pair could still make it severe: undecided, but at least mild/moderate."""
    result = score({"sledai_previous": 2, "sledai_current": 6})
    assert result["flare"] is None
    assert result["flare_at_least"] == "mild_moderate"
    assert result["criteria_met"] == ["sledai_mild"]
    assert set(result["missing"]) == {"pga_previous", "pga_current"}


def test_a_severe_criterion_decides_even_with_both_pairs_missing() -> None:
    """§2: "a positive criterion is sufficient"."""
    result = score({"platelets_10e9_l": 30})
    assert result["flare"] == "severe"
    assert result["flare_clinical_only"] == "severe"
    assert result["flare_at_least"] == "severe"
    assert result["missing"] == []


def test_a_treatment_severe_criterion_leaves_only_the_clinical_flare_undecided() -> None:
    result = score({"hospitalized_for_sle": True, "sledai_previous": 3, "sledai_current": 3})
    assert result["flare"] == "severe"
    assert result["flare_clinical_only"] is None
    assert set(result["missing"]) == {"pga_previous", "pga_current"}


def test_null_means_not_given() -> None:
    result = score({**QUIET, "pga_previous": None, "platelets_10e9_l": None})
    assert result["flare"] is None
    assert result["missing"] == ["pga_previous"]


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sledai_current": 106}, "sledai_current"),
        ({"sledai_previous": -1}, "sledai_previous"),
        ({"sledai_current": "5"}, "sledai_current"),
        ({"sledai_current": 5.5}, "sledai_current"),
        ({"sledai_current": True}, "sledai_current"),
        ({"pga_current": 3.01}, "pga_current"),
        ({"pga_previous": -0.1}, "pga_previous"),
        ({"pga_previous": "1.0"}, "pga_previous"),
        ({"weight_kg": 1.9}, "weight_kg"),
        ({"weight_kg": 401}, "weight_kg"),
        ({"prednisone_mg_day_current": -5}, "prednisone_mg_day_current"),
        ({"platelets_10e9_l": 2001}, "platelets_10e9_l"),
        ({"hemoglobin_g_dl": 25.1}, "hemoglobin_g_dl"),
        ({"hemoglobin_fall_g_dl": -1}, "hemoglobin_fall_g_dl"),
        ({"hospitalized_for_sle": "yes"}, "hospitalized_for_sle"),
        ({"added_nsaid_or_hydroxychloroquine": 1}, "added_nsaid_or_hydroxychloroquine"),
        ({"new_mild_manifestations": ["rash"]}, "new_mild_manifestations[0]"),
        ({"new_mild_manifestations": ["cns"]}, "new_mild_manifestations[0]"),
        ({"new_severe_manifestations": ["arthritis"]}, "new_severe_manifestations[0]"),
        ({"new_severe_manifestations": "cns"}, "new_severe_manifestations"),
        ({"flare": "severe"}, "flare"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(payload: dict[str, Any], field: str) -> None:
    assert refused_fields(sfi.INSTRUMENT, payload) == [field]


def test_the_severe_and_treatment_sets_match_the_section_2_table() -> None:
    assert {
        "sledai_severe",
        "pga_severe",
        "prednisone_severe",
        "manifestation_severe",
        "platelets_severe",
        "hemolysis_severe",
        "drug_severe",
        "hospitalization_severe",
    } == sfi.SEVERE
    assert {
        "prednisone_mild",
        "prednisone_severe",
        "drug_mild",
        "drug_severe",
        "hospitalization_severe",
    } == sfi.TREATMENT
    assert len(sfi.CRITERIA) == 13
