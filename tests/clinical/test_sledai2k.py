"""SLEDAI-2K (instruments.md §1, contract §16.1)."""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.clinical import sledai2k
from tests.scoring_helpers import refused_fields, score_json

ALL_ABSENT: dict[str, Any] = {key: False for key in sledai2k.WEIGHTS}


def score(payload: dict[str, Any]) -> dict[str, Any]:
    return score_json(sledai2k.INSTRUMENT, payload)


def lab(labs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return score({"labs": labs, **extra})


def test_the_24_weights_are_those_of_the_section_1_table() -> None:
    """§1: 8 × 8 (items 1–8) + 6 × 4 (9–14) + 7 × 2 (15–21) + 3 × 1 (22–24) = 105."""
    weights = [descriptor.weight for descriptor in sledai2k.DESCRIPTORS]
    assert [descriptor.number for descriptor in sledai2k.DESCRIPTORS] == list(range(1, 25))
    assert weights == [8] * 8 + [4] * 6 + [2] * 7 + [1] * 3
    assert sum(weights) == 105


def test_d3_alopecia_weighs_2() -> None:
    assert score({"alopecia": True})["contributions"] == {"alopecia": 2}


def test_every_descriptor_present_scores_105_and_is_complete() -> None:
    result = score({key: True for key in sledai2k.WEIGHTS})
    assert (result["total"], result["score_max_possible"], result["complete"]) == (105, 105, True)
    assert result["clinical_sledai"] == 101  # §1: serology removed, range 0–101
    assert result["clinical_sledai_no_labs"] == 83  # §1: items 11–14, 20–21, 23–24 removed


def test_hand_worked_visit() -> None:
    """Arthritis 4 + proteinuria 4 + rash 2 + low complement 2 + anti-DNA 2 = 14.

    Clinical SLEDAI (DORIS meaning) drops the two serology items: 14 − 4 = 10. Without all
    laboratory items it also drops proteinuria: 10 − 4 = 6.
    """
    visit = {
        **ALL_ABSENT,
        "arthritis": True,
        "proteinuria": True,
        "rash": True,
        "low_complement": True,
        "increased_dna_binding": True,
    }
    result = score(visit)
    assert result["total"] == 14
    assert result["clinical_sledai"] == 10
    assert result["clinical_sledai_no_labs"] == 6
    assert result["complete"] is True
    assert result["score_max_possible"] == 14
    assert result["missing"] == []
    assert set(result["contributions"]) == {
        "arthritis",
        "proteinuria",
        "rash",
        "low_complement",
        "increased_dna_binding",
    }


def test_unassessed_descriptors_count_absent_in_total_and_present_in_max() -> None:
    result = score({"arthritis": True, "seizure": False})
    assert result["total"] == 4
    assert result["score_max_possible"] == 105 - 8  # everything but the seizure ruled out
    assert result["complete"] is False
    assert "seizure" not in result["missing"] and "rash" in result["missing"]
    assert len(result["missing"]) == 22


def test_result_names_instrument_and_section() -> None:
    result = score({})
    assert (result["instrument"], result["section"]) == ("sledai2k", "§1")
    assert (result["window_days"], result["flavor"]) == (10, "2K")


# Lab-derived descriptors: value just below, at and just above each threshold of §1 / §16.1.
LAB_RULES = [
    # (lab field, descriptor, below, at, above, fires_above)
    ("urine_rbc_hpf", "hematuria", "4.9", "5", "5.1", True),
    ("urine_wbc_hpf", "pyuria", "4.9", "5", "5.1", True),
    ("proteinuria_g_24h", "proteinuria", "0.49", "0.5", "0.51", True),
    ("upcr_g_g", "proteinuria", "0.49", "0.5", "0.51", True),
    ("temperature_c", "fever", "37.9", "38.0", "38.1", True),
    ("platelets_10e9_l", "thrombocytopenia", "99.9", "100", "100.1", False),
    ("wbc_10e9_l", "leukopenia", "2.9", "3.0", "3.1", False),
]


@pytest.mark.parametrize(("field", "descriptor", "below", "at", "above", "fires_above"), LAB_RULES)
def test_lab_thresholds_are_strict(
    field: str, descriptor: str, below: str, at: str, above: str, fires_above: bool
) -> None:
    """Inequalities are literal (§0.1): the threshold value itself never fires."""

    def fired(value: str) -> bool:
        result = score_json(
            sledai2k.INSTRUMENT,
            f'{{"labs": {{"{field}": {value}}}, "attribution_confirmed": true}}',
        )
        assert descriptor not in result["missing"]  # a lab given decides its descriptor
        return descriptor in result["contributions"]

    assert fired(at) is False
    assert fired(above) is fires_above
    assert fired(below) is not fires_above


def test_24_hour_protein_decides_over_upcr() -> None:
    result = lab({"proteinuria_g_24h": 0.3, "upcr_g_g": 0.9})
    assert "proteinuria" not in result["contributions"]
    assert lab({"proteinuria_g_24h": 0.6, "upcr_g_g": 0.2})["contributions"] == {"proteinuria": 4}


def test_proteinuria_from_labs_needs_no_attribution() -> None:
    result = lab({"proteinuria_g_24h": 1.2})
    assert result["contributions"] == {"proteinuria": 4}
    assert result["candidates"] == []


@pytest.mark.parametrize(
    ("labs", "expected"),
    [
        ({"c3_g_l": 0.89, "c3_lln_g_l": 0.9}, True),
        ({"c3_g_l": 0.9, "c3_lln_g_l": 0.9}, False),
        ({"c4_g_l": 0.09, "c4_lln_g_l": 0.1}, True),
        ({"c4_g_l": 0.1, "c4_lln_g_l": 0.1}, False),
        ({"c3_g_l": 1.2, "c3_lln_g_l": 0.9, "c4_g_l": 0.05, "c4_lln_g_l": 0.1}, True),
        ({"c3_g_l": 1.2, "c3_lln_g_l": 0.9, "c4_g_l": 0.05}, False),  # C4 lacks its LLN
        ({"c3_g_l": 0.5}, None),  # no reference limit: not assessed
    ],
)
def test_low_complement_needs_each_value_with_its_lln(
    labs: dict[str, float], expected: bool | None
) -> None:
    result = lab(labs)
    if expected is None:
        assert "low_complement" in result["missing"]
    else:
        assert ("low_complement" in result["contributions"]) is expected
        assert "low_complement" not in result["missing"]


@pytest.mark.parametrize(("value", "expected"), [(29.9, False), (30, False), (30.1, True)])
def test_dna_binding_above_uln(value: float, expected: bool) -> None:
    result = lab({"anti_dsdna_iu_ml": value, "anti_dsdna_uln_iu_ml": 30})
    assert ("increased_dna_binding" in result["contributions"]) is expected


def test_anti_dsdna_without_uln_is_not_assessed() -> None:
    assert "increased_dna_binding" in lab({"anti_dsdna_iu_ml": 300})["missing"]


def test_candidate_awaiting_attribution_is_not_counted_and_not_assessed() -> None:
    """§1: hematuria, pyuria, fever, thrombocytopenia, leukopenia from labs are candidates."""
    visit = {**ALL_ABSENT}
    del visit["thrombocytopenia"]
    result = score({**visit, "labs": {"platelets_10e9_l": 80}})
    assert result["candidates"] == ["thrombocytopenia"]
    assert result["total"] == 0
    assert result["complete"] is False
    assert result["score_max_possible"] == 1
    assert result["missing"] == ["thrombocytopenia"]


def test_confirmed_candidate_counts_and_is_still_listed_as_lab_derived() -> None:
    """§16.1 defines candidates as fired and not given explicitly, counted only if confirmed."""
    visit = {**ALL_ABSENT}
    del visit["thrombocytopenia"]
    result = score({**visit, "labs": {"platelets_10e9_l": 80}, "attribution_confirmed": True})
    assert result["candidates"] == ["thrombocytopenia"]
    assert result["contributions"] == {"thrombocytopenia": 1}
    assert (result["total"], result["score_max_possible"], result["complete"]) == (1, 1, True)


def test_explicit_descriptor_wins_over_labs() -> None:
    result = score({"hematuria": False, "labs": {"urine_rbc_hpf": 40}})
    assert "hematuria" not in result["contributions"]
    assert result["candidates"] == []
    result = score({"proteinuria": True, "labs": {"proteinuria_g_24h": 0.1}})
    assert result["contributions"] == {"proteinuria": 4}


def test_a_lab_that_does_not_fire_rules_its_descriptor_out() -> None:
    result = lab({"platelets_10e9_l": 250})
    assert "thrombocytopenia" not in result["missing"]
    assert result["candidates"] == []


def test_d1_window_is_10_by_default_30_allowed_28_refused() -> None:
    assert score({"window_days": 30})["window_days"] == 30
    assert refused_fields(sledai2k.INSTRUMENT, {"window_days": 28}) == ["window_days"]


def test_d2_selena_flavour_has_the_same_arithmetic() -> None:
    visit = {"arthritis": True, "pleurisy": True, "increased_dna_binding": True}
    selena = score({**visit, "flavor": "SELENA"})
    assert selena["flavor"] == "SELENA"
    assert selena["total"] == score(visit)["total"] == 8


def test_d5_both_clinical_sledais_are_reported() -> None:
    result = score({"low_complement": True, "hematuria": True, "rash": True})
    assert result["clinical_sledai"] == 6  # serology removed only
    assert result["clinical_sledai_no_labs"] == 2  # hematuria removed too


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"labs": {"platelets_10e9_l": 5000}}, "labs.platelets_10e9_l"),
        ({"labs": {"temperature_c": 46}}, "labs.temperature_c"),
        ({"labs": {"wbc_10e9_l": -1}}, "labs.wbc_10e9_l"),
        ({"labs": {"urine_rbc_hpf": "many"}}, "labs.urine_rbc_hpf"),
        ({"labs": {"hemoglobin": 12}}, "labs.hemoglobin"),
        ({"arthritis": "yes"}, "arthritis"),
        ({"arthritis": 1}, "arthritis"),
        ({"arthritis_joints": 3}, "arthritis_joints"),
        ({"flavor": "classic"}, "flavor"),
        ({"window_days": 10.0}, "window_days"),
        ({"attribution_confirmed": "true"}, "attribution_confirmed"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(payload: dict[str, Any], field: str) -> None:
    assert refused_fields(sledai2k.INSTRUMENT, payload) == [field]
