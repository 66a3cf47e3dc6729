"""Lupus-nephritis renal response, KDIGO 2024 and EULAR 2019 (instruments.md §10, §16.10)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from lupus_msc.clinical import renal_response
from lupus_msc.scoring.jsonio import parse_exact, validation_problems
from tests.scoring_helpers import refused_fields, score_json

FOUR = ["baseline_upcr_g_g", "current_upcr_g_g", "baseline_egfr", "current_egfr"]


def judge(
    baseline_upcr: Any,
    current_upcr: Any,
    baseline_egfr: Any = 100,
    current_egfr: Any = 95,
    **more: Any,
) -> dict[str, Any]:
    """Score through the JSON interface; eGFR 100 → 95 (−5 %) is stable at both 10 % and 15 %."""
    payload = {
        "baseline_upcr_g_g": baseline_upcr,
        "current_upcr_g_g": current_upcr,
        "baseline_egfr": baseline_egfr,
        "current_egfr": current_egfr,
        **more,
    }
    return score_json(renal_response.INSTRUMENT, payload)


def response(*args: Any, **kwargs: Any) -> str | None:
    result: str | None = judge(*args, **kwargs)["response"]
    return result


BOTH_TOLERANCES = [{}, {"egfr_tolerance_percent": 10}, {"egfr_tolerance_percent": 15}]
"""§10: the main vectors must give the same answer at 10 % and at 15 % (and the default)."""


# --- main cases, unambiguous at 10 % and 15 % -------------------------------------------------


@pytest.mark.parametrize("tolerance", BOTH_TOLERANCES)
@pytest.mark.parametrize("criteria", ["kdigo2024", "eular2019"])
def test_complete_response_with_stable_egfr(criteria: str, tolerance: dict[str, Any]) -> None:
    """UPCR 3.0 → 0.3 g/g (< 0.5), eGFR 100 → 95 (−5 %)."""
    assert response(3.0, 0.3, criteria=criteria, **tolerance) == "complete"


@pytest.mark.parametrize("tolerance", BOTH_TOLERANCES)
@pytest.mark.parametrize("criteria", ["kdigo2024", "eular2019"])
def test_partial_response_with_stable_egfr(criteria: str, tolerance: dict[str, Any]) -> None:
    """UPCR 4.0 → 1.5 g/g: 62.5 % reduction, below 3 (and 3.5); eGFR −5 %."""
    result = judge(4.0, 1.5, criteria=criteria, **tolerance)
    assert result["response"] == "partial"
    assert result["proteinuria_reduction_percent"] == 62.5
    assert result["egfr_change_percent"] == -5


@pytest.mark.parametrize("tolerance", BOTH_TOLERANCES)
@pytest.mark.parametrize("criteria", ["kdigo2024", "eular2019"])
def test_no_response_when_reduction_is_too_small(criteria: str, tolerance: dict[str, Any]) -> None:
    """UPCR 4.0 → 2.5 g/g: 37.5 % reduction."""
    assert response(4.0, 2.5, criteria=criteria, **tolerance) == "none"


@pytest.mark.parametrize("tolerance", BOTH_TOLERANCES)
@pytest.mark.parametrize("criteria", ["kdigo2024", "eular2019"])
def test_no_response_when_egfr_falls_20_percent(criteria: str, tolerance: dict[str, Any]) -> None:
    """UPCR 3.0 → 0.3 would be complete, but eGFR 100 → 80 (−20 %) is not stable at 10 or 15 %."""
    result = judge(3.0, 0.3, 100, 80, criteria=criteria, **tolerance)
    assert (result["response"], result["egfr_stable"], result["egfr_change_percent"]) == (
        "none",
        False,
        -20,
    )


def test_improving_egfr_counts_as_stable() -> None:
    """§10: "stabilisation or improvement"; §16.10 only bounds the fall."""
    result = judge(3.0, 0.3, 60, 90)
    assert (result["response"], result["egfr_change_percent"]) == ("complete", 50)


# --- thresholds: complete < 0.5, reduction ≥ 50 %, KDIGO < 3, EULAR < 3.5 --------------------


@pytest.mark.parametrize(
    ("current", "expected"), [(0.49, "complete"), (0.5, "partial"), (0.51, "partial")]
)
def test_complete_needs_upcr_below_0_5(current: float, expected: str) -> None:
    """Baseline 2 g/g, so 0.5 and 0.51 still make a ≥ 50 % reduction below 3 g/g."""
    assert response(2, current) == expected
    assert response(2, current, criteria="eular2019") == expected


@pytest.mark.parametrize(
    ("current", "expected"), [(0.99, "partial"), (1.0, "partial"), (1.01, "none")]
)
def test_partial_needs_a_reduction_of_at_least_50_percent(current: float, expected: str) -> None:
    assert response(2, current) == expected
    assert response(2, current, criteria="eular2019") == expected


def test_exactly_50_percent_reduction_is_reported_as_50() -> None:
    result = judge(2, 1.0)
    assert (result["proteinuria_reduction_percent"], result["response"]) == (50, "partial")


def test_50_percent_reduction_is_decided_exactly_for_awkward_decimals() -> None:
    """6.9 → 3.45 g/g is exactly 50 %; with EULAR (3.45 < 3.5) that is a partial response."""
    result = judge(6.9, 3.45, criteria="eular2019")
    assert (result["response"], result["proteinuria_reduction_percent"]) == ("partial", 50)


@pytest.mark.parametrize(("current", "expected"), [(2.99, "partial"), (3, "none"), (3.01, "none")])
def test_kdigo_partial_needs_upcr_below_3(current: float, expected: str) -> None:
    """Baseline 10 g/g: every current value is a ≥ 50 % reduction."""
    assert response(10, current) == expected


@pytest.mark.parametrize(
    ("current", "expected"), [(3.49, "partial"), (3.5, "none"), (3.51, "none")]
)
def test_eular_partial_needs_upcr_below_the_subnephrotic_3_5(current: float, expected: str) -> None:
    assert response(10, current, criteria="eular2019") == expected


def test_3_2_g_g_is_partial_for_eular_but_not_for_kdigo() -> None:
    assert response(10, 3.2, criteria="eular2019") == "partial"
    assert response(10, 3.2, criteria="kdigo2024") == "none"


def test_eular_subnephrotic_threshold_is_a_parameter() -> None:
    result = judge(10, 3.2, criteria="eular2019", subnephrotic_g_g=3)
    assert (result["response"], result["partial_upcr_below_g_g"]) == ("none", 3)
    assert response(10, 2.99, criteria="eular2019", subnephrotic_g_g=3) == "partial"


@pytest.mark.parametrize(
    ("current", "expected"), [(0.69, "complete"), (0.7, "partial"), (0.71, "partial")]
)
def test_eular_lenient_complete_needs_upcr_below_0_7(current: float, expected: str) -> None:
    assert response(2, current, criteria="eular2019", complete_upcr_g_g=0.7) == expected


def test_eular_complete_defaults_to_the_strict_0_5() -> None:
    result = judge(2, 0.6, criteria="eular2019")
    assert (result["response"], result["complete_upcr_g_g"]) == ("partial", 0.5)


def test_a_rise_in_proteinuria_is_a_negative_reduction() -> None:
    result = judge(1, 1.5)
    assert (result["proteinuria_reduction_percent"], result["response"]) == (-50, "none")


# --- eGFR stability: current ≥ baseline × (1 − tolerance / 100) --------------------------------


@pytest.mark.parametrize(("current", "stable"), [(84.99, False), (85, True), (85.01, True)])
def test_kdigo_egfr_exactly_15_percent_down_is_stable(current: float, stable: bool) -> None:
    result = judge(3.0, 0.3, 100, current)
    assert result["egfr_stable"] is stable
    assert result["response"] == ("complete" if stable else "none")


@pytest.mark.parametrize(("current", "stable"), [(89.99, False), (90, True), (90.01, True)])
def test_eular_egfr_exactly_10_percent_down_is_stable(current: float, stable: bool) -> None:
    result = judge(3.0, 0.3, 100, current, criteria="eular2019")
    assert result["egfr_stable"] is stable
    assert result["response"] == ("complete" if stable else "none")
    assert result["egfr_tolerance_percent"] == 10


@pytest.mark.parametrize(("current", "stable"), [(89.99, False), (90, True), (90.01, True)])
def test_kdigo_with_tolerance_10_is_stable_exactly_10_percent_down(
    current: float, stable: bool
) -> None:
    assert judge(3.0, 0.3, 100, current, egfr_tolerance_percent=10)["egfr_stable"] is stable


def test_egfr_stability_is_decided_exactly_not_in_binary_floats() -> None:
    """50.92 × 0.85 = 43.282 exactly; in floats 50.92 * (1 - 0.15) = 43.282000000000004 > 43.282.

    Likewise 50.11 × 0.9 = 45.099 exactly, while floats give 45.099000000000004.
    """
    result = judge(3.0, 0.3, 50.92, 43.282)
    assert (result["egfr_stable"], result["egfr_change_percent"]) == (True, -15)
    result = judge(3.0, 0.3, 50.11, 45.099, criteria="eular2019")
    assert (result["egfr_stable"], result["egfr_change_percent"]) == (True, -10)


def test_d21_kdigo_egfr_tolerance_defaults_to_15_percent() -> None:
    """D21: KDIGO gives 10–15 %; the default is 15 %. eGFR 100 → 87 (−13 %) sits between."""
    default = judge(3.0, 0.3, 100, 87)
    assert (default["response"], default["egfr_tolerance_percent"]) == ("complete", 15)
    assert response(3.0, 0.3, 100, 87, egfr_tolerance_percent=10) == "none"
    assert response(3.0, 0.3, 100, 87, criteria="eular2019") == "none"


def test_tolerance_0_needs_no_fall_at_all() -> None:
    assert response(3.0, 0.3, 100, 100, egfr_tolerance_percent=0) == "complete"
    assert response(3.0, 0.3, 100, 99.99, egfr_tolerance_percent=0) == "none"


# --- exact outputs and the undefined reduction ------------------------------------------------


def test_percentages_are_exact_decimals() -> None:
    inp = renal_response.RenalResponseInput(
        baseline_upcr_g_g=Decimal("1.6"),
        current_upcr_g_g=Decimal("0.4"),
        baseline_egfr=Decimal(80),
        current_egfr=Decimal(68),
    )
    result = renal_response.score(inp)
    assert result.proteinuria_reduction_percent == Decimal(75)
    assert result.egfr_change_percent == Decimal(-15)
    assert result.response == "complete"


def test_a_reduction_that_does_not_end_is_shown_to_full_precision() -> None:
    """3 → 1 g/g is a reduction of 200/3 = 66.666… %."""
    result = judge(3, 1)
    assert result["proteinuria_reduction_percent"] == pytest.approx(200 / 3, rel=1e-15)


def test_baseline_upcr_0_gives_null_reduction_and_no_partial_response() -> None:
    """From 0 g/g the reduction is undefined (null, not missing); no ≥ 50 % reduction is possible,
    so the response is complete if the current UPCR is below 0.5 and none otherwise."""
    rising = judge(0, 1.0)
    assert (rising["proteinuria_reduction_percent"], rising["response"]) == (None, "none")
    assert rising["missing"] == []
    assert judge(0, 0.3)["response"] == "complete"
    assert judge(0, 0)["proteinuria_reduction_percent"] is None


# --- missing inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("absent", FOUR)
def test_any_one_missing_number_leaves_a_partial_response_null(absent: str) -> None:
    """3.0 → 1.2 g/g (−60 %) with eGFR 100 → 95 is partial; without any one number it could be
    complete, partial or none, so it is null and the absent number is named."""
    assert judge(3.0, 1.2)["response"] == "partial"
    payload = dict(zip(FOUR, [3.0, 1.2, 100, 95], strict=True))
    del payload[absent]
    result = score_json(renal_response.INSTRUMENT, payload)
    assert (result["response"], result["missing"]) == (None, [absent])


def test_null_counts_as_not_given() -> None:
    result = judge(3.0, None)
    assert (result["response"], result["missing"]) == (None, ["current_upcr_g_g"])
    assert result["proteinuria_reduction_percent"] is None
    assert result["egfr_change_percent"] == -5


def test_a_failed_criterion_decides_none_even_with_a_number_missing() -> None:
    """§16.0: a composite is false as soon as one criterion is false. UPCR rising to 5 g/g rules
    out complete and partial response whatever the eGFR; so does eGFR halving whatever the UPCR."""
    rising = judge(3.0, 5.0, 100, None)
    assert (rising["response"], rising["egfr_stable"], rising["missing"]) == ("none", None, [])
    assert rising["proteinuria_reduction_percent"] == pytest.approx(-200 / 3, rel=1e-15)
    halving = score_json(renal_response.INSTRUMENT, {"baseline_egfr": 100, "current_egfr": 50})
    assert (halving["response"], halving["egfr_stable"], halving["missing"]) == ("none", False, [])


def test_complete_response_needs_no_baseline_upcr() -> None:
    """§16.10: complete = current UPCR < 0.5 and eGFR stable; the baseline UPCR is not used."""
    payload = {"current_upcr_g_g": 0.3, "baseline_egfr": 100, "current_egfr": 95}
    result = score_json(renal_response.INSTRUMENT, payload)
    assert (result["response"], result["missing"]) == ("complete", [])


def test_nothing_given_lists_all_four() -> None:
    result = score_json(renal_response.INSTRUMENT, {})
    assert result["response"] is None
    assert set(result["missing"]) == set(FOUR)
    assert (result["criteria"], result["instrument"], result["section"]) == (
        "kdigo2024",
        "renal-response",
        "§10",
    )


# --- refusals ---------------------------------------------------------------------------------


def _messages(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        renal_response.RenalResponseInput.model_validate(parse_exact(json.dumps(payload)))
    return dict(validation_problems(caught.value))


def test_complete_threshold_0_7_is_refused_with_kdigo() -> None:
    """§10: KDIGO complete is UPCR < 0.5 g/g; 0.5–0.7 is the EULAR range only."""
    problems = _messages({"criteria": "kdigo2024", "complete_upcr_g_g": 0.7})
    assert list(problems) == ["complete_upcr_g_g"]
    assert "eular2019" in problems["complete_upcr_g_g"]
    assert refused_fields(renal_response.INSTRUMENT, {"complete_upcr_g_g": 0.7}) == [
        "complete_upcr_g_g"
    ]


@pytest.mark.parametrize("value", [0.6, 0.4, 0.75, 1, 0])
def test_complete_threshold_other_than_0_5_or_0_7_is_refused(value: float) -> None:
    """§10 [IMPL]: the EULAR range is a two-valued parameter, strict 0.5 or lenient 0.7."""
    payload = {"criteria": "eular2019", "complete_upcr_g_g": value}
    assert refused_fields(renal_response.INSTRUMENT, payload) == ["complete_upcr_g_g"]


def test_complete_threshold_0_5_is_accepted_for_both_and_0_7_for_eular() -> None:
    assert judge(2, 0.49, complete_upcr_g_g=0.5)["response"] == "complete"
    assert judge(2, 0.49, complete_upcr_g_g=0.50, criteria="eular2019")["response"] == "complete"
    result = judge(2, 0.6, complete_upcr_g_g=0.7, criteria="eular2019")
    assert (result["response"], result["complete_upcr_g_g"]) == ("complete", 0.7)


def test_subnephrotic_threshold_is_refused_with_kdigo() -> None:
    """KDIGO's partial threshold is fixed at 3 g/g; a silently ignored parameter would mislead."""
    problems = _messages({"subnephrotic_g_g": 3.5})
    assert list(problems) == ["subnephrotic_g_g"]
    assert "eular2019" in problems["subnephrotic_g_g"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"criteria": "kdigo2021"}, "criteria"),
        ({"criteria": "KDIGO2024"}, "criteria"),
        ({"egfr_tolerance_percent": 101}, "egfr_tolerance_percent"),
        ({"egfr_tolerance_percent": -1}, "egfr_tolerance_percent"),
        ({"baseline_upcr_g_g": -0.1}, "baseline_upcr_g_g"),
        ({"current_upcr_g_g": "0.3"}, "current_upcr_g_g"),
        ({"baseline_egfr": 0}, "baseline_egfr"),
        ({"current_egfr": -5}, "current_egfr"),
        ({"current_egfr": True}, "current_egfr"),
        ({"subnephrotic_g_g": 0, "criteria": "eular2019"}, "subnephrotic_g_g"),
        ({"upcr_unit": "mg/mmol"}, "upcr_unit"),
    ],
)
def test_it_refuses_bad_values_naming_the_field(change: dict[str, Any], field: str) -> None:
    payload = {**dict(zip(FOUR, [3.0, 0.3, 100, 95], strict=True)), **change}
    assert refused_fields(renal_response.INSTRUMENT, payload) == [field]


def test_instrument_is_registered_under_its_section_16_name() -> None:
    assert (renal_response.INSTRUMENT.name, renal_response.INSTRUMENT.section) == (
        "renal-response",
        "§10",
    )
