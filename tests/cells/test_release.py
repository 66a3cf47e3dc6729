"""isct-release (§14, §16.14): ISCT identity and per-protocol release of an MSC lot.

Thresholds come from §14 (ISCT: ≥ 95 % CD105/CD73/CD90, ≤ 2 % CD45/CD34/CD14 or CD11b/CD79α or
CD19/HLA-DR) and the platform default spec of §14 [IMPL] and D22 (viability ≥ 70 %, endotoxin
≤ 5 EU/kg). Every inequality is inclusive (§0.1).
"""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.cells import release
from tests.scoring_helpers import refused_fields, score_json

POSITIVE = ["cd105_pct", "cd73_pct", "cd90_pct"]
NEGATIVE = ["cd45_pct", "cd34_pct", "cd14_or_cd11b_pct", "cd79a_or_cd19_pct", "hla_dr_pct"]


def good_lot(**changes: Any) -> dict[str, Any]:
    """A lot meeting every default criterion comfortably; ``changes`` override (None drops)."""
    lot: dict[str, Any] = {
        "plastic_adherent": True,
        "trilineage_differentiation": True,
        **dict.fromkeys(POSITIVE, 98.5),
        **dict.fromkeys(NEGATIVE, 0.5),
        "viability_pct": 90,
        "sterility": "negative",
        "mycoplasma": "negative",
        "endotoxin_eu_per_kg": 0.2,
    }
    lot.update(changes)
    return {key: value for key, value in lot.items() if value is not None}


def judge(**changes: Any) -> dict[str, Any]:
    return score_json(release.INSTRUMENT, good_lot(**changes))


def test_a_lot_meeting_every_criterion_is_releasable() -> None:
    result = judge()
    assert result["instrument"] == "isct-release"
    assert result["section"] == "§14"
    assert result["releasable"] is True
    assert result["isct_identity"] is True
    assert result["failures"] == []
    assert result["missing"] == []
    assert result["endotoxin_eu_per_kg"] == 0.2


# --- positive markers: ≥ 95 % -------------------------------------------------------------


@pytest.mark.parametrize("marker", POSITIVE)
@pytest.mark.parametrize(
    ("value", "passes"), [(94.9, False), (95, True), (95.0, True), (95.1, True)]
)
def test_positive_marker_threshold_is_95_inclusive(marker: str, value: float, passes: bool) -> None:
    result = judge(**{marker: value})
    assert result["releasable"] is passes
    assert result["isct_identity"] is passes
    assert result["failures"] == ([] if passes else [marker])


# --- negative markers: ≤ 2 % ---------------------------------------------------------------


@pytest.mark.parametrize("marker", NEGATIVE)
@pytest.mark.parametrize(("value", "passes"), [(1.9, True), (2, True), (2.0, True), (2.1, False)])
def test_negative_marker_threshold_is_2_inclusive(marker: str, value: float, passes: bool) -> None:
    result = judge(**{marker: value})
    assert result["releasable"] is passes
    assert result["isct_identity"] is passes
    assert result["failures"] == ([] if passes else [marker])


# --- viability: ≥ 70 % (D22) -------------------------------------------------------------


@pytest.mark.parametrize(("value", "passes"), [(69.9, False), (70, True), (70.1, True)])
def test_d22_viability_default_threshold_is_70_inclusive(value: float, passes: bool) -> None:
    result = judge(viability_pct=value)
    assert result["releasable"] is passes
    assert result["failures"] == ([] if passes else ["viability_pct"])


def test_viability_is_not_part_of_isct_identity() -> None:
    result = judge(viability_pct=50)
    assert result["releasable"] is False
    assert result["isct_identity"] is True


# --- endotoxin: ≤ 5 EU/kg (D22) ------------------------------------------------------------


@pytest.mark.parametrize(("value", "passes"), [(4.99, True), (5, True), (5.01, False)])
def test_d22_endotoxin_default_threshold_is_5_eu_per_kg_inclusive(
    value: float, passes: bool
) -> None:
    result = judge(endotoxin_eu_per_kg=value)
    assert result["releasable"] is passes
    assert result["failures"] == ([] if passes else ["endotoxin_eu_per_kg"])
    assert result["endotoxin_eu_per_kg"] == value


def test_endotoxin_is_computed_from_concentration_volume_and_weight() -> None:
    """0.5 EU/mL × 600 mL ÷ 60 kg = 300 ÷ 60 = 5 EU/kg exactly: at the limit, so it passes."""
    result = judge(
        endotoxin_eu_per_kg=None, endotoxin_eu_ml=0.5, dose_volume_ml=600, recipient_weight_kg=60
    )
    assert result["endotoxin_eu_per_kg"] == 5
    assert result["releasable"] is True


def test_a_computed_endotoxin_above_the_limit_fails_under_the_per_kg_key() -> None:
    """0.501 EU/mL × 600 mL ÷ 60 kg = 300.6 ÷ 60 = 5.01 EU/kg: above 5, so it fails."""
    result = judge(
        endotoxin_eu_per_kg=None, endotoxin_eu_ml=0.501, dose_volume_ml=600, recipient_weight_kg=60
    )
    assert result["endotoxin_eu_per_kg"] == 5.01
    assert result["releasable"] is False
    assert result["failures"] == ["endotoxin_eu_per_kg"]


def test_endotoxin_is_not_part_of_isct_identity() -> None:
    assert judge(endotoxin_eu_per_kg=50)["isct_identity"] is True


def test_it_refuses_both_endotoxin_forms_naming_the_fields() -> None:
    payload = good_lot(endotoxin_eu_ml=0.5, dose_volume_ml=600, recipient_weight_kg=60)
    with pytest.raises(ValueError, match="endotoxin_eu_per_kg") as caught:
        release.INSTRUMENT.input_model.model_validate(payload)
    for field in ("endotoxin_eu_ml", "dose_volume_ml", "recipient_weight_kg"):
        assert field in str(caught.value)


def test_it_refuses_the_direct_endotoxin_with_only_part_of_the_computed_form() -> None:
    with pytest.raises(ValueError, match="endotoxin_eu_per_kg and endotoxin_eu_ml"):
        release.INSTRUMENT.input_model.model_validate(good_lot(endotoxin_eu_ml=0.5))


def test_part_of_the_computed_endotoxin_leaves_it_undecided_naming_the_absent_parts() -> None:
    result = judge(endotoxin_eu_per_kg=None, endotoxin_eu_ml=0.5, dose_volume_ml=600)
    assert result["endotoxin_eu_per_kg"] is None
    assert result["releasable"] is None
    assert result["missing"] == ["recipient_weight_kg"]


def test_no_endotoxin_at_all_is_missing_as_endotoxin_eu_per_kg() -> None:
    result = judge(endotoxin_eu_per_kg=None)
    assert result["releasable"] is None
    assert result["isct_identity"] is True
    assert result["missing"] == ["endotoxin_eu_per_kg"]


# --- sterility, mycoplasma, ISCT booleans -----------------------------------------------------


@pytest.mark.parametrize("test", ["sterility", "mycoplasma"])
def test_a_positive_microbiology_test_fails_release_but_not_identity(test: str) -> None:
    result = judge(**{test: "positive"})
    assert result["releasable"] is False
    assert result["isct_identity"] is True
    assert result["failures"] == [test]


@pytest.mark.parametrize("criterion", ["plastic_adherent", "trilineage_differentiation"])
def test_a_false_isct_criterion_fails_identity_and_release(criterion: str) -> None:
    result = judge(**{criterion: False})
    assert result["isct_identity"] is False
    assert result["releasable"] is False
    assert result["failures"] == [criterion]


# --- null versus false --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["plastic_adherent", "cd90_pct", "hla_dr_pct"])
def test_an_absent_identity_result_is_null_not_false(field: str) -> None:
    result = judge(**{field: None})
    assert result["isct_identity"] is None
    assert result["releasable"] is None
    assert result["failures"] == []
    assert result["missing"] == [field]


def test_json_null_means_not_given() -> None:
    payload = good_lot()
    payload["sterility"] = None
    result = score_json(release.INSTRUMENT, payload)
    assert result["releasable"] is None
    assert result["missing"] == ["sterility"]


def test_one_failure_makes_release_false_even_with_results_missing() -> None:
    result = judge(viability_pct=60, sterility=None, cd34_pct=None)
    assert result["releasable"] is False
    assert result["isct_identity"] is None
    assert result["failures"] == ["viability_pct"]
    assert set(result["missing"]) == {"sterility", "cd34_pct"}


def test_an_empty_lot_is_undecided_with_every_criterion_missing() -> None:
    result = score_json(release.INSTRUMENT, {})
    assert result["releasable"] is None
    assert result["isct_identity"] is None
    assert result["endotoxin_eu_per_kg"] is None
    assert set(result["missing"]) == {
        "plastic_adherent",
        "trilineage_differentiation",
        *POSITIVE,
        *NEGATIVE,
        "viability_pct",
        "sterility",
        "mycoplasma",
        "endotoxin_eu_per_kg",
    }


def test_several_failures_are_all_named() -> None:
    result = judge(cd73_pct=80, hla_dr_pct=20, mycoplasma="positive", endotoxin_eu_per_kg=6)
    assert set(result["failures"]) == {
        "cd73_pct",
        "hla_dr_pct",
        "mycoplasma",
        "endotoxin_eu_per_kg",
    }


# --- per-protocol spec (D22) ----------------------------------------------------------------


def test_d22_spec_defaults_are_70_95_2_5() -> None:
    assert judge()["spec"] == {
        "viability_min_pct": 70,
        "positive_marker_min_pct": 95,
        "negative_marker_max_pct": 2,
        "endotoxin_max_eu_per_kg": 5,
    }


@pytest.mark.parametrize(("value", "passes"), [(79.9, False), (80, True)])
def test_d22_spec_can_raise_viability_to_80(value: float, passes: bool) -> None:
    result = judge(viability_pct=value, spec={"viability_min_pct": 80})
    assert result["releasable"] is passes


@pytest.mark.parametrize(("value", "releasable"), [(79.9, False), (80, True), (94.9, True)])
def test_a_looser_spec_releases_but_isct_identity_keeps_95(value: float, releasable: bool) -> None:
    """§16.14: isct_identity is "the ISCT criteria alone" — Dominici's ≥ 95 %, not the spec's."""
    result = judge(cd105_pct=value, spec={"positive_marker_min_pct": 80})
    assert result["releasable"] is releasable
    assert result["isct_identity"] is False


def test_isct_identity_holds_at_95_whatever_the_spec() -> None:
    result = judge(cd105_pct=95, spec={"positive_marker_min_pct": 99})
    assert result["isct_identity"] is True
    assert result["releasable"] is False
    assert "cd105_pct" in result["failures"]


@pytest.mark.parametrize(("value", "passes"), [(5, True), (5.01, False)])
def test_spec_can_allow_5_percent_negatives(value: float, passes: bool) -> None:
    result = judge(cd45_pct=value, spec={"negative_marker_max_pct": 5})
    assert result["releasable"] is passes
    assert result["isct_identity"] is False  # ISCT allows at most 2 %


@pytest.mark.parametrize(("value", "passes"), [(2.5, True), (2.51, False)])
def test_spec_can_lower_the_endotoxin_limit(value: float, passes: bool) -> None:
    result = judge(endotoxin_eu_per_kg=value, spec={"endotoxin_max_eu_per_kg": 2.5})
    assert result["releasable"] is passes


def test_a_partial_spec_keeps_the_other_defaults() -> None:
    result = judge(spec={"viability_min_pct": 85})
    assert result["spec"]["positive_marker_min_pct"] == 95
    assert result["spec"]["viability_min_pct"] == 85


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cd105_pct": 100.1}, "cd105_pct"),
        ({"hla_dr_pct": -0.1}, "hla_dr_pct"),
        ({"viability_pct": "90"}, "viability_pct"),
        ({"plastic_adherent": 1}, "plastic_adherent"),
        ({"sterility": "no growth"}, "sterility"),
        ({"mycoplasma": True}, "mycoplasma"),
        ({"endotoxin_eu_per_kg": -1}, "endotoxin_eu_per_kg"),
        ({"cd106_pct": 1}, "cd106_pct"),
        ({"spec": {"viability_min_pct": 101}}, "spec.viability_min_pct"),
        ({"spec": {"potency_min_pct": 20}}, "spec.potency_min_pct"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(changes: dict[str, Any], field: str) -> None:
    assert refused_fields(release.INSTRUMENT, good_lot(**changes)) == [field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recipient_weight_kg": 1}, "recipient_weight_kg"),
        ({"dose_volume_ml": 0}, "dose_volume_ml"),
    ],
)
def test_it_refuses_out_of_range_computation_inputs(changes: dict[str, Any], field: str) -> None:
    payload = good_lot(endotoxin_eu_per_kg=None, endotoxin_eu_ml=0.5, **changes)
    assert refused_fields(release.INSTRUMENT, payload) == [field]
