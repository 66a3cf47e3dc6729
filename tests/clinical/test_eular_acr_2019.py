"""2019 EULAR/ACR classification criteria for SLE (instruments.md §7, contract §16.6)."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from lupus_msc.clinical import eular_acr_2019
from lupus_msc.scoring.jsonio import parse_exact
from tests.scoring_helpers import refused_fields, score_json

INSTRUMENT = eular_acr_2019.INSTRUMENT

# The §7 table, typed from instruments.md (criterion → domain, weight, clinical).
SECTION_7_TABLE: dict[str, tuple[str, int, bool]] = {
    "fever": ("constitutional", 2, True),
    "leukopenia": ("hematologic", 3, True),
    "thrombocytopenia": ("hematologic", 4, True),
    "autoimmune_hemolysis": ("hematologic", 4, True),
    "delirium": ("neuropsychiatric", 2, True),
    "psychosis": ("neuropsychiatric", 3, True),
    "seizure": ("neuropsychiatric", 5, True),
    "non_scarring_alopecia": ("mucocutaneous", 2, True),
    "oral_ulcers": ("mucocutaneous", 2, True),
    "subacute_cutaneous_or_discoid_lupus": ("mucocutaneous", 4, True),
    "acute_cutaneous_lupus": ("mucocutaneous", 6, True),
    "pleural_or_pericardial_effusion": ("serosal", 5, True),
    "acute_pericarditis": ("serosal", 6, True),
    "joint_involvement": ("musculoskeletal", 6, True),
    "proteinuria": ("renal", 4, True),
    "renal_biopsy_class_ii_or_v": ("renal", 8, True),
    "renal_biopsy_class_iii_or_iv": ("renal", 10, True),
    "antiphospholipid_antibodies": ("antiphospholipid", 2, False),
    "low_c3": ("complement", 3, False),
    "low_c4": ("complement", 3, False),
    "anti_dsdna_or_anti_smith": ("sle_specific_antibodies", 6, False),
}
IMMUNOLOGY_ONLY = ["antiphospholipid_antibodies", "low_c3", "low_c4", "anti_dsdna_or_anti_smith"]


def score(payload: dict[str, Any]) -> dict[str, Any]:
    return score_json(INSTRUMENT, payload)


def entered(*criteria: str) -> dict[str, Any]:
    """Score with the entry criterion met (ANA 1:160)."""
    return score({"ana_titer": 160, "criteria": list(criteria)})


def refusal_message(payload: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        INSTRUMENT.input_model.model_validate(parse_exact(json.dumps(payload)))
    return str(caught.value)


# --- the criterion table as data ------------------------------------------------------------


def test_the_criterion_table_is_that_of_section_7() -> None:
    table = {c.key: (c.domain, c.weight, c.clinical) for c in eular_acr_2019.CRITERIA}
    assert table == SECTION_7_TABLE


def test_the_criteria_keys_are_exactly_those_of_16_6() -> None:
    assert set(get_args(eular_acr_2019.CriterionKey)) == set(SECTION_7_TABLE)
    assert len(eular_acr_2019.CRITERIA) == 21


def test_the_domain_keys_are_exactly_those_of_16_6() -> None:
    assert eular_acr_2019.DOMAINS == (
        "constitutional",
        "hematologic",
        "neuropsychiatric",
        "mucocutaneous",
        "serosal",
        "musculoskeletal",
        "renal",
        "antiphospholipid",
        "complement",
        "sle_specific_antibodies",
    )


def test_only_the_three_immunology_domains_are_not_clinical() -> None:
    not_clinical = {c.domain for c in eular_acr_2019.CRITERIA if not c.clinical}
    assert not_clinical == {"antiphospholipid", "complement", "sle_specific_antibodies"}


def test_the_maximum_attainable_score_is_51() -> None:
    """§7: 2+4+5+6+6+6+10 (clinical) + 2+4+6 (immunology) = 51."""
    assert eular_acr_2019.max_attainable() == 51


def test_every_criterion_present_scores_51_and_classifies() -> None:
    result = entered(*SECTION_7_TABLE)
    assert result["total"] == 51
    assert result["domain_points"] == {
        "constitutional": 2,
        "hematologic": 4,
        "neuropsychiatric": 5,
        "mucocutaneous": 6,
        "serosal": 6,
        "musculoskeletal": 6,
        "renal": 10,
        "antiphospholipid": 2,
        "complement": 4,
        "sle_specific_antibodies": 6,
    }
    assert result["classified"] is True


def test_d12_fever_means_above_38_3() -> None:
    """D12: the primary Table 1 says fever > 38.3 °C (not > 38 °C); fever is a clinician flag."""
    fever = eular_acr_2019.BY_KEY["fever"]
    assert "> 38.3 °C" in fever.definition
    assert (fever.domain, fever.weight) == ("constitutional", 2)
    assert refused_fields(INSTRUMENT, {"ana_titer": 80, "temperature_c": 38.5}) == ["temperature_c"]


# --- entry criterion ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("titer", "met"), [(0, False), (40, False), (79, False), (80, True), (81, True), (160, True)]
)
def test_entry_needs_an_ana_titer_of_at_least_1_in_80(titer: int, met: bool) -> None:
    result = score({"ana_titer": titer, "criteria": ["joint_involvement", "seizure"]})
    assert result["entry_criterion_met"] is met
    assert result["total"] == (11 if met else 0)
    assert result["classified"] is met


@pytest.mark.parametrize(
    ("payload", "met"),
    [
        ({"ana_equivalent_positive": True}, True),
        ({"ana_equivalent_positive": False}, False),
        ({"ana_titer": 40, "ana_equivalent_positive": True}, True),
        ({"ana_titer": 160, "ana_equivalent_positive": False}, True),
        ({"ana_titer": 40, "ana_equivalent_positive": False}, False),
        ({"ana_titer": 40, "ana_equivalent_positive": None}, False),
        ({"ana_titer": None, "ana_equivalent_positive": True}, True),
    ],
)
def test_entry_is_met_by_either_ana_result(payload: dict[str, Any], met: bool) -> None:
    assert score(payload)["entry_criterion_met"] is met


def test_without_entry_nothing_is_scored() -> None:
    """§7: entry criterion absent → do not classify, do not score."""
    result = score({"ana_titer": 40, "criteria": list(SECTION_7_TABLE)})
    assert result["entry_criterion_met"] is False
    assert result["total"] == 0
    assert result["domain_points"] == {}
    assert result["classified"] is False


def test_has_clinical_criterion_describes_the_criteria_even_without_entry() -> None:
    """Reading chosen: §16.6 zeroes only total and domain_points when entry fails."""
    assert score({"ana_titer": 40, "criteria": ["fever"]})["has_clinical_criterion"] is True
    assert score({"ana_titer": 40, "criteria": ["low_c3"]})["has_clinical_criterion"] is False


@pytest.mark.parametrize(
    "payload",
    [{}, {"criteria": ["seizure"]}, {"ana_titer": None, "ana_equivalent_positive": None}],
)
def test_it_refuses_input_without_any_ana_result_naming_both_fields(
    payload: dict[str, Any],
) -> None:
    message = refusal_message(payload)
    assert "ana_titer" in message and "ana_equivalent_positive" in message


# --- domains: only the highest criterion counts ---------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "domain", "points"),
    [
        (["leukopenia", "thrombocytopenia", "autoimmune_hemolysis"], "hematologic", 4),
        (["leukopenia"], "hematologic", 3),
        (["delirium", "psychosis", "seizure"], "neuropsychiatric", 5),
        (["delirium", "psychosis"], "neuropsychiatric", 3),
        (
            [
                "non_scarring_alopecia",
                "oral_ulcers",
                "subacute_cutaneous_or_discoid_lupus",
                "acute_cutaneous_lupus",
            ],
            "mucocutaneous",
            6,
        ),
        (["non_scarring_alopecia", "oral_ulcers"], "mucocutaneous", 2),
        (["pleural_or_pericardial_effusion", "acute_pericarditis"], "serosal", 6),
        (["proteinuria", "renal_biopsy_class_iii_or_iv"], "renal", 10),
        (["proteinuria", "renal_biopsy_class_ii_or_v"], "renal", 8),
    ],
)
def test_only_the_highest_criterion_of_a_domain_counts(
    criteria: list[str], domain: str, points: int
) -> None:
    result = entered(*criteria)
    assert result["domain_points"] == {domain: points}
    assert result["total"] == points


@pytest.mark.parametrize(
    ("criteria", "points"), [(["low_c3"], 3), (["low_c4"], 3), (["low_c3", "low_c4"], 4)]
)
def test_low_c3_and_low_c4_together_score_4_either_alone_3(
    criteria: list[str], points: int
) -> None:
    assert entered(*criteria)["domain_points"] == {"complement": points}


def test_a_criterion_listed_twice_counts_once() -> None:
    assert entered("joint_involvement", "joint_involvement")["total"] == 6


def test_domain_points_lists_only_domains_that_score() -> None:
    assert entered()["domain_points"] == {}
    assert entered("fever")["domain_points"] == {"constitutional": 2}


# --- classification boundary ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "total", "classified"),
    [
        (["joint_involvement", "leukopenia"], 9, False),
        (["joint_involvement", "thrombocytopenia"], 10, True),
        (["joint_involvement", "low_c3", "delirium"], 11, True),
        (["fever", "renal_biopsy_class_ii_or_v"], 10, True),
        (["renal_biopsy_class_iii_or_iv"], 10, True),
        (["seizure", "oral_ulcers", "antiphospholipid_antibodies"], 9, False),
    ],
)
def test_it_classifies_from_a_total_of_10_with_a_clinical_criterion(
    criteria: list[str], total: int, classified: bool
) -> None:
    result = entered(*criteria)
    assert result["total"] == total
    assert result["has_clinical_criterion"] is True
    assert result["classified"] is classified


def test_a_total_of_10_from_immunology_alone_does_not_classify() -> None:
    """anti-dsDNA 6 + low C3 and low C4 4 = 10, but no clinical criterion (§7)."""
    result = entered("anti_dsdna_or_anti_smith", "low_c3", "low_c4")
    assert result["total"] == 10
    assert result["has_clinical_criterion"] is False
    assert result["classified"] is False


def test_all_immunology_scores_12_and_still_does_not_classify() -> None:
    """2 + 4 + 6 = 12 (§7 immunology maximum)."""
    result = entered(*IMMUNOLOGY_ONLY)
    assert (result["total"], result["classified"]) == (12, False)


def test_hand_worked_patient() -> None:
    """ANA 1:320; arthritis 6; acute cutaneous lupus 6 beats oral ulcers 2; leukopenia 3;
    low C3 alone 3; anti-dsDNA 6 → 6 + 6 + 3 + 3 + 6 = 24, classified (worked by hand).
    """
    result = score(
        {
            "ana_titer": 320,
            "criteria": [
                "joint_involvement",
                "acute_cutaneous_lupus",
                "oral_ulcers",
                "leukopenia",
                "low_c3",
                "anti_dsdna_or_anti_smith",
            ],
        }
    )
    assert result["domain_points"] == {
        "musculoskeletal": 6,
        "mucocutaneous": 6,
        "hematologic": 3,
        "complement": 3,
        "sle_specific_antibodies": 6,
    }
    assert result["total"] == 24
    assert result["classified"] is True


# --- result shape ---------------------------------------------------------------------------


def test_the_result_has_exactly_the_16_6_keys_and_an_empty_missing() -> None:
    """`missing` stays empty: §16.6 has no undecidable output (unlisted = absent, §7)."""
    result = score({"ana_equivalent_positive": True})
    assert set(result) == {
        "instrument",
        "section",
        "missing",
        "entry_criterion_met",
        "total",
        "domain_points",
        "has_clinical_criterion",
        "classified",
    }
    assert (result["instrument"], result["section"]) == ("eular-acr-2019", "§7")
    assert result["missing"] == []


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"ana_titer": "1:160"}, "ana_titer"),
        ({"ana_titer": "160"}, "ana_titer"),
        ({"ana_titer": True}, "ana_titer"),
        ({"ana_titer": 160.5}, "ana_titer"),
        ({"ana_titer": -80}, "ana_titer"),
        ({"ana_equivalent_positive": "yes"}, "ana_equivalent_positive"),
        ({"ana_equivalent_positive": 1}, "ana_equivalent_positive"),
        ({"ana_titer": 80, "criteria": ["malar_rash"]}, "criteria[0]"),
        ({"ana_titer": 80, "criteria": ["fever", "low_complement"]}, "criteria[1]"),
        ({"ana_titer": 80, "criteria": "fever"}, "criteria"),
        ({"ana_titer": 80, "classified": True}, "classified"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(payload: dict[str, Any], field: str) -> None:
    assert refused_fields(INSTRUMENT, payload) == [field]
