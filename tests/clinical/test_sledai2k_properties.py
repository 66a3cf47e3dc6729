"""Property tests of SLEDAI-2K (§1, §16.1) against an oracle typed from the §1 table."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lupus_msc.clinical import sledai2k
from tests.scoring_helpers import score_json

# §1 table, re-typed here on purpose: an independent oracle, not the module's own data.
SECTION_1_WEIGHTS = {
    "seizure": 8, "psychosis": 8, "organic_brain_syndrome": 8, "visual_disturbance": 8,
    "cranial_nerve_disorder": 8, "lupus_headache": 8, "cva": 8, "vasculitis": 8,
    "arthritis": 4, "myositis": 4, "urinary_casts": 4, "hematuria": 4, "proteinuria": 4,
    "pyuria": 4, "rash": 2, "alopecia": 2, "mucosal_ulcers": 2, "pleurisy": 2,
    "pericarditis": 2, "low_complement": 2, "increased_dna_binding": 2, "fever": 1,
    "thrombocytopenia": 1, "leukopenia": 1,
}  # fmt: skip

descriptor_answers = st.dictionaries(
    st.sampled_from(sorted(SECTION_1_WEIGHTS)), st.one_of(st.booleans(), st.none())
)


@settings(max_examples=300, deadline=None)
@given(descriptor_answers)
def test_explicit_descriptors_score_as_the_section_1_table_says(answers: dict[str, Any]) -> None:
    result = score_json(sledai2k.INSTRUMENT, answers)
    present = {key for key, value in answers.items() if value is True}
    unassessed = {key for key in SECTION_1_WEIGHTS if answers.get(key) is None}
    assert result["total"] == sum(SECTION_1_WEIGHTS[key] for key in present)
    assert result["score_max_possible"] == result["total"] + sum(
        SECTION_1_WEIGHTS[key] for key in unassessed
    )
    assert result["complete"] is (not unassessed)
    assert set(result["missing"]) == unassessed
    assert result["contributions"] == {key: SECTION_1_WEIGHTS[key] for key in present}
    serology = present & {"low_complement", "increased_dna_binding"}
    assert result["clinical_sledai"] == result["total"] - sum(
        SECTION_1_WEIGHTS[key] for key in serology
    )


lab_values = st.fixed_dictionaries(
    {},
    optional={
        "urine_rbc_hpf": st.integers(0, 20),
        "urine_wbc_hpf": st.integers(0, 20),
        "platelets_10e9_l": st.integers(0, 400),
        "wbc_10e9_l": st.integers(0, 15),
        "temperature_c": st.sampled_from([36.5, 37.9, 38, 38.1, 39.4]),
    },
)


@settings(max_examples=300, deadline=None)
@given(lab_values, st.booleans())
def test_labs_never_lower_the_ceiling_and_totals_stay_consistent(
    labs: dict[str, Any], confirmed: bool
) -> None:
    result = score_json(sledai2k.INSTRUMENT, {"labs": labs, "attribution_confirmed": confirmed})
    assert result["total"] == sum(result["contributions"].values())
    assert result["total"] <= result["score_max_possible"] <= 105
    assert result["clinical_sledai_no_labs"] <= result["clinical_sledai"] <= result["total"]
    assert result["complete"] is (result["missing"] == [])
    if not confirmed:
        assert not set(result["candidates"]) & set(result["contributions"])
