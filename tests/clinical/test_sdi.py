"""SLICC/ACR Damage Index (instruments.md §8, contract §16.7)."""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.clinical import sdi
from tests.scoring_helpers import refused_fields, score_json

INSTRUMENT = sdi.INSTRUMENT

# The 41 keys of §16.7, in its order, with their §8 organ (typed from instruments.md).
SECTION_16_7_KEYS: dict[str, str] = {
    "cataract": "ocular",
    "retinal_change_or_optic_atrophy": "ocular",
    "cognitive_impairment_or_psychosis": "neuropsychiatric",
    "seizures_6_months": "neuropsychiatric",
    "cerebrovascular_accident": "neuropsychiatric",
    "neuropathy": "neuropsychiatric",
    "transverse_myelitis": "neuropsychiatric",
    "gfr_below_50_percent": "renal",
    "proteinuria_3_5_g": "renal",
    "end_stage_renal_disease": "renal",
    "pulmonary_hypertension": "pulmonary",
    "pulmonary_fibrosis": "pulmonary",
    "shrinking_lung": "pulmonary",
    "pleural_fibrosis": "pulmonary",
    "pulmonary_infarction": "pulmonary",
    "angina_or_bypass": "cardiovascular",
    "myocardial_infarction": "cardiovascular",
    "cardiomyopathy": "cardiovascular",
    "valvular_disease": "cardiovascular",
    "pericarditis_6_months_or_pericardiectomy": "cardiovascular",
    "claudication_6_months": "peripheral_vascular",
    "minor_tissue_loss": "peripheral_vascular",
    "significant_tissue_loss": "peripheral_vascular",
    "venous_thrombosis": "peripheral_vascular",
    "bowel_infarction_or_resection": "gastrointestinal",
    "mesenteric_insufficiency": "gastrointestinal",
    "chronic_peritonitis": "gastrointestinal",
    "upper_gi_stricture_or_surgery": "gastrointestinal",
    "pancreatic_insufficiency": "gastrointestinal",
    "muscle_atrophy_or_weakness": "musculoskeletal",
    "deforming_or_erosive_arthritis": "musculoskeletal",
    "osteoporosis_with_fracture": "musculoskeletal",
    "avascular_necrosis": "musculoskeletal",
    "osteomyelitis": "musculoskeletal",
    "ruptured_tendon": "musculoskeletal",
    "scarring_chronic_alopecia": "skin",
    "extensive_scarring": "skin",
    "skin_ulceration_6_months": "skin",
    "premature_gonadal_failure": "gonadal",
    "diabetes": "endocrine",
    "malignancy": "malignancy",
}
STARRED = [
    "cerebrovascular_accident",
    "myocardial_infarction",
    "significant_tissue_loss",
    "bowel_infarction_or_resection",
    "avascular_necrosis",
    "malignancy",
]
# §8: "ocular 2 + NP 6 + renal 3 + pulmonary 5 + CV 6 + PV 5 + GI 6 + MSK 7 + skin 3 +
# gonadal 1 + diabetes 1 + malignancy 2" = 47.
SECTION_8_ORGAN_MAXIMA = {
    "ocular": 2,
    "neuropsychiatric": 6,
    "renal": 3,
    "pulmonary": 5,
    "cardiovascular": 6,
    "peripheral_vascular": 5,
    "gastrointestinal": 6,
    "musculoskeletal": 7,
    "skin": 3,
    "gonadal": 1,
    "endocrine": 1,
    "malignancy": 2,
}
ALL_ABSENT: dict[str, Any] = dict.fromkeys(SECTION_16_7_KEYS, False)
NON_STARRED = [key for key in SECTION_16_7_KEYS if key not in STARRED and key != sdi.ESRD]


def score(items: dict[str, Any]) -> dict[str, Any]:
    return score_json(INSTRUMENT, {"items": items})


def worst_case() -> dict[str, Any]:
    """Every item present, every starred item twice."""
    return {key: 2 if key in STARRED else True for key in SECTION_16_7_KEYS}


# --- the item table as data -----------------------------------------------------------------


def test_d14_there_are_41_items_with_the_16_7_keys_in_12_organs() -> None:
    """D14: 41 items (S38 "41-item SDI"), not Medscape's 39."""
    assert len(sdi.ITEMS) == 41
    assert {item.key: item.organ for item in sdi.ITEMS} == SECTION_16_7_KEYS
    assert [item.key for item in sdi.ITEMS] == list(SECTION_16_7_KEYS)
    assert list(sdi.ORGANS) == list(SECTION_8_ORGAN_MAXIMA)


def test_the_input_accepts_exactly_the_41_item_keys() -> None:
    assert list(sdi.SdiItems.model_fields) == list(SECTION_16_7_KEYS)


def test_the_starred_items_are_those_of_16_7() -> None:
    assert [item.key for item in sdi.ITEMS if item.repeatable] == STARRED


def test_d14_the_maximum_is_47() -> None:
    result = score(worst_case())
    assert result["total"] == 47
    assert result["assessed_all"] is True


def test_the_organ_maxima_are_those_of_section_8() -> None:
    assert score(worst_case())["organ_points"] == SECTION_8_ORGAN_MAXIMA
    assert sum(SECTION_8_ORGAN_MAXIMA.values()) == 47


@pytest.mark.parametrize("organ", list(SECTION_8_ORGAN_MAXIMA))
def test_each_organ_alone_reaches_its_section_8_maximum(organ: str) -> None:
    items = {key: value for key, value in worst_case().items() if SECTION_16_7_KEYS[key] == organ}
    result = score(items)
    assert result["organ_points"] == {organ: SECTION_8_ORGAN_MAXIMA[organ]}
    assert result["total"] == SECTION_8_ORGAN_MAXIMA[organ]


def test_d13_sdi_proteinuria_item_is_at_least_3_5_g_a_day() -> None:
    """D13: the item is "proteinuria ≥ 3.5 g/24 h" (S37), not "> 3.5" (S39, S40).

    The input is a clinician's boolean under the key `proteinuria_3_5_g` (no gram value is
    compared here), so the choice lives in the item definition; a raw 24-h value is refused.
    """
    item = sdi.BY_KEY["proteinuria_3_5_g"]
    assert "≥ 3.5 g/24 h" in item.definition
    assert (item.organ, item.points, item.repeatable) == ("renal", 1, False)
    assert score({"proteinuria_3_5_g": True})["items_scored"] == {"proteinuria_3_5_g": 1}
    assert refused_fields(INSTRUMENT, {"items": {"proteinuria_g_24h": 3.5}}) == [
        "items.proteinuria_g_24h"
    ]


# --- item values: booleans and counts -------------------------------------------------------


@pytest.mark.parametrize("key", STARRED)
@pytest.mark.parametrize(
    ("value", "points"), [(False, 0), (0, 0), (True, 1), (1, 1), (2, 2), (3, 2), (10, 2)]
)
def test_a_starred_item_scores_2_only_when_its_count_is_above_1(
    key: str, value: bool | int, points: int
) -> None:
    result = score({key: value})
    assert result["total"] == points
    assert result["items_scored"] == ({key: points} if points else {})


@pytest.mark.parametrize("key", NON_STARRED)
@pytest.mark.parametrize(("value", "points"), [(False, 0), (0, 0), (True, 1), (1, 1), (2, 1)])
def test_an_unstarred_item_scores_at_most_1_whatever_its_count(
    key: str, value: bool | int, points: int
) -> None:
    assert score({key: value})["total"] == points


def test_true_scores_like_a_count_of_1_and_false_like_0() -> None:
    assert score({"malignancy": True}) == score({"malignancy": 1})
    assert score({"malignancy": False}) == score({"malignancy": 0})


# --- end-stage renal disease ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "renal", "scored"),
    [
        ({"gfr_below_50_percent": True}, 1, {"gfr_below_50_percent": 1}),
        (
            {"gfr_below_50_percent": True, "proteinuria_3_5_g": 1},
            2,
            {"gfr_below_50_percent": 1, "proteinuria_3_5_g": 1},
        ),
        ({"end_stage_renal_disease": True}, 3, {"end_stage_renal_disease": 3}),
        ({"end_stage_renal_disease": 2}, 3, {"end_stage_renal_disease": 3}),
        (
            {"end_stage_renal_disease": True, "gfr_below_50_percent": True},
            3,
            {"end_stage_renal_disease": 3},
        ),
        (
            {"end_stage_renal_disease": 1, "gfr_below_50_percent": 1, "proteinuria_3_5_g": True},
            3,
            {"end_stage_renal_disease": 3},
        ),
        (
            {"end_stage_renal_disease": False, "gfr_below_50_percent": True},
            1,
            {"gfr_below_50_percent": 1},
        ),
        (
            {"end_stage_renal_disease": 0, "proteinuria_3_5_g": True},
            1,
            {"proteinuria_3_5_g": 1},
        ),
    ],
)
def test_end_stage_renal_disease_scores_3_and_replaces_the_other_renal_items(
    items: dict[str, Any], renal: int, scored: dict[str, int]
) -> None:
    result = score(items)
    assert result["organ_points"] == {"renal": renal}
    assert result["items_scored"] == scored
    assert result["total"] == renal


# --- completeness, worked example, shape ----------------------------------------------------


def test_all_41_items_given_absent_is_assessed_and_scores_0() -> None:
    result = score(ALL_ABSENT)
    assert (result["total"], result["assessed_all"]) == (0, True)
    assert (result["organ_points"], result["items_scored"]) == ({}, {})


@pytest.mark.parametrize("key", ["cataract", "malignancy", "end_stage_renal_disease"])
def test_one_item_left_out_or_null_is_not_assessed_all(key: str) -> None:
    left_out = {k: v for k, v in ALL_ABSENT.items() if k != key}
    assert score(left_out)["assessed_all"] is False
    assert score({**ALL_ABSENT, key: None})["assessed_all"] is False


def test_no_items_at_all_scores_0_not_assessed() -> None:
    """Reading chosen: `items` is optional; §8 "score what is recorded"."""
    result = score_json(INSTRUMENT, {})
    assert (result["total"], result["assessed_all"]) == (0, False)
    assert score({})["assessed_all"] is False


def test_hand_worked_patient() -> None:
    """Cataract 1; two strokes 2; one avascular necrosis 1; diabetes 1; ESRD 3 replacing a
    GFR < 50 % item → 1 + 2 + 1 + 1 + 3 = 8 (worked by hand from §8).
    """
    result = score(
        {
            **ALL_ABSENT,
            "cataract": True,
            "cerebrovascular_accident": 2,
            "avascular_necrosis": 1,
            "diabetes": True,
            "end_stage_renal_disease": True,
            "gfr_below_50_percent": True,
        }
    )
    assert result["total"] == 8
    assert result["organ_points"] == {
        "ocular": 1,
        "neuropsychiatric": 2,
        "renal": 3,
        "musculoskeletal": 1,
        "endocrine": 1,
    }
    assert result["items_scored"] == {
        "cataract": 1,
        "cerebrovascular_accident": 2,
        "end_stage_renal_disease": 3,
        "avascular_necrosis": 1,
        "diabetes": 1,
    }
    assert result["assessed_all"] is True


def test_the_result_has_exactly_the_16_7_keys_and_an_empty_missing() -> None:
    """`missing` stays empty: no §16.7 output is undecidable; `assessed_all` carries gaps."""
    result = score({"cataract": True})
    assert set(result) == {
        "instrument",
        "section",
        "missing",
        "total",
        "organ_points",
        "items_scored",
        "assessed_all",
    }
    assert (result["instrument"], result["section"], result["missing"]) == ("sdi", "§8", [])


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({"ruptured_achilles": True}, "items.ruptured_achilles"),
        ({"esrd": 1}, "items.esrd"),
        ({"malignancy": -1}, "items.malignancy"),
        ({"cataract": -5}, "items.cataract"),
        ({"cataract": "1"}, "items.cataract"),
        ({"cataract": "true"}, "items.cataract"),
        ({"malignancy": 2.0}, "items.malignancy"),
        ({"malignancy": 1.5}, "items.malignancy"),
        ({"diabetes": [1]}, "items.diabetes"),
    ],
)
def test_it_refuses_bad_items_naming_items_key(items: dict[str, Any], field: str) -> None:
    assert refused_fields(INSTRUMENT, {"items": items}) == [field]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"items": ["cataract"]}, "items"),
        ({"items": {}, "total": 3}, "total"),
        ({"cataract": True}, "cataract"),
    ],
)
def test_it_refuses_bad_top_level_input_naming_the_field(
    payload: dict[str, Any], field: str
) -> None:
    assert refused_fields(INSTRUMENT, payload) == [field]
