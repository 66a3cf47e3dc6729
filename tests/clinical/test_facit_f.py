"""FACIT-Fatigue (§13, contract §16.13).

Expected scores are worked by hand: reverse every item but An5 and An7 (4 − answer), take the mean
of the answered items, multiply by 13 and round to 3 decimals.
"""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.clinical.facit_f import INSTRUMENT, ITEMS
from tests.scoring_helpers import refused_fields, score_json

CODES = [
    "HI7",
    "HI12",
    "An1",
    "An2",
    "An3",
    "An4",
    "An5",
    "An7",
    "An8",
    "An12",
    "An14",
    "An15",
    "An16",
]
"""§13 item codes, typed from the document."""
FATIGUE_ITEMS = [code for code in CODES if code not in ("An5", "An7")]
HAND_WORKED: dict[str, Any] = {
    "HI7": 1,
    "HI12": 2,
    "An1": 0,
    "An2": 3,
    "An3": 1,
    "An4": 2,
    "An5": 3,
    "An7": 2,
    "An8": 9,
    "An12": 1,
    "An14": None,
    "An15": 4,
    "An16": 0,
}
"""The example worked by hand in ``test_hand_worked_example_scores_31_909`` (and in score())."""


def facit(responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return score_json(INSTRUMENT, {"responses": responses, **extra})


def all_answered(answer: int) -> dict[str, int]:
    return dict.fromkeys(CODES, answer)


def test_the_items_are_the_13_codes_of_section_13() -> None:
    assert list(ITEMS) == CODES


def test_hand_worked_example_scores_31_909() -> None:
    """HI7 1, HI12 2, An1 0, An2 3, An3 1, An4 2, An5 3, An7 2, An8 9, An12 1, An14 null, An15 4,
    An16 0. An8 (9) and An14 (null) are unanswered → 11 answered.
    Reversed: HI7 3, HI12 2, An1 4, An2 1, An3 3, An4 2, An12 3, An15 0, An16 4 → 22.
    An5 3 + An7 2 → 5. Sum 27; 27/11 × 13 = 351/11 = 31.90909… → 31.909.
    """
    result = facit(HAND_WORKED)
    assert result["score"] == 31.909
    assert result["answered"] == 11


def test_all_zero_answers_score_44() -> None:
    """11 reversed items at 4 − 0 = 4 (44) + An5 and An7 at 0 = 44; mean 44/13 × 13 = 44."""
    result = facit(all_answered(0))
    assert result["score"] == 44
    assert result["answered"] == 13


def test_all_four_answers_score_8() -> None:
    """11 reversed items at 0 + An5 and An7 at 4 = 8."""
    assert facit(all_answered(4))["score"] == 8


def test_d17_higher_score_means_less_fatigue() -> None:
    """D17: no fatigue (fatigue items 0, energy/usual activities 4) = 52; worst = 0."""
    best = {**dict.fromkeys(FATIGUE_ITEMS, 0), "An5": 4, "An7": 4}
    worst = {**dict.fromkeys(FATIGUE_ITEMS, 4), "An5": 0, "An7": 0}
    assert facit(best)["score"] == 52
    assert facit(worst)["score"] == 0


@pytest.mark.parametrize("item", CODES)
def test_only_an5_and_an7_are_not_reversed(item: str) -> None:
    """All items 2 (scores 2 each, 26); raising one item to 4 makes it 0 if reversed (24), else 4
    (28)."""
    expected = 28 if item in ("An5", "An7") else 24
    assert facit({**all_answered(2), item: 4})["score"] == expected


# --- prorating and rounding ------------------------------------------------------------------


def test_6_answered_items_give_no_score() -> None:
    result = facit(dict.fromkeys(CODES[:6], 0))
    assert result["score"] is None
    assert result["answered"] == 6
    assert set(result["missing"]) == {f"responses.{code}" for code in CODES[6:]} | {
        "baseline_score"
    }


def test_7_answered_items_give_a_prorated_score() -> None:
    """HI7…An4 at 0 (reversed 4 each) and An5 at 0: 24/7 × 13 = 312/7 = 44.571428… → 44.571."""
    result = facit(dict.fromkeys(CODES[:7], 0))
    assert result["score"] == 44.571
    assert result["answered"] == 7


def test_rounding_goes_up_from_the_fourth_decimal() -> None:
    """7 answered with item sum 5: 5/7 × 13 = 65/7 = 9.285714… → 9.286."""
    responses = {**dict.fromkeys(CODES[:5], 4), "An4": 3, "An5": 4}  # 0,0,0,0,0,1,4 = 5
    assert facit(responses)["score"] == 9.286


@pytest.mark.parametrize("unanswered", [8, 9, None])
def test_8_9_and_null_are_unanswered(unanswered: Any) -> None:
    """12 answered at 0: sum 40 (10 reversed × 4 + An5, An7 at 0); 40/12 × 13 = 43.333…"""
    responses = {**all_answered(0), "HI7": unanswered}
    result = facit(responses)
    assert result["answered"] == 12
    assert result["score"] == 43.333


def test_absent_items_are_unanswered() -> None:
    responses = all_answered(0)
    del responses["HI7"]
    assert facit(responses)["answered"] == 12


def test_no_answers_give_no_score() -> None:
    result = facit({})
    assert (result["score"], result["answered"], result["change"]) == (None, 0, None)


# --- change from baseline --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "change", "improved"),
    [(40, 4, True), (40.001, 3.999, False), (39.999, 4.001, True), (44, 0, False), (50, -6, False)],
)
def test_improved_when_change_is_at_least_4(baseline: float, change: float, improved: bool) -> None:
    """Score 44 (all zeros) against the baseline; MCID 4 (§13)."""
    result = facit(all_answered(0), baseline_score=baseline)
    assert result["change"] == change
    assert result["improved"] is improved
    assert result["missing"] == []


def test_change_keeps_the_score_rounding() -> None:
    """Score 31.909 (hand-worked above with 11 answers) − baseline 27.909 = 4.000 → improved."""
    result = facit(HAND_WORKED, baseline_score=27.909)
    assert result["score"] == 31.909
    assert result["change"] == 4
    assert result["improved"] is True


def test_without_baseline_change_and_improved_are_null() -> None:
    result = facit(all_answered(0))
    assert (result["change"], result["improved"]) == (None, None)
    assert result["missing"] == ["baseline_score"]


def test_without_a_score_change_is_null_even_with_a_baseline() -> None:
    result = facit({"HI7": 0}, baseline_score=30)
    assert (result["score"], result["change"], result["improved"]) == (None, None, None)
    assert "baseline_score" not in result["missing"]
    assert "responses.HI12" in result["missing"]


def test_result_names_instrument_and_section() -> None:
    result = facit(all_answered(1))
    assert (result["instrument"], result["section"]) == ("facit-f", "§13")


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [5, 7, 10, -1, 2.0, 2.5, "2", True, False])
def test_it_refuses_an_answer_other_than_0_to_4_8_9_or_null(answer: Any) -> None:
    assert refused_fields(INSTRUMENT, {"responses": {"An5": answer}}) == ["responses.An5"]


def test_it_refuses_an_unknown_item_code() -> None:
    assert refused_fields(INSTRUMENT, {"responses": {"An6": 2}}) == ["responses.An6"]


def test_item_codes_are_case_sensitive() -> None:
    assert refused_fields(INSTRUMENT, {"responses": {"an5": 2}}) == ["responses.an5"]


@pytest.mark.parametrize("baseline", [-0.1, 52.1, "40", True])
def test_it_refuses_a_baseline_outside_0_to_52(baseline: Any) -> None:
    payload = {"responses": {}, "baseline_score": baseline}
    assert refused_fields(INSTRUMENT, payload) == ["baseline_score"]


def test_it_accepts_baselines_0_and_52() -> None:
    assert facit(all_answered(0), baseline_score=0)["change"] == 44
    assert facit(all_answered(0), baseline_score=52)["change"] == -8


def test_it_refuses_missing_responses() -> None:
    assert refused_fields(INSTRUMENT, {"baseline_score": 30}) == ["responses"]


def test_it_refuses_an_unknown_top_level_field() -> None:
    assert refused_fields(INSTRUMENT, {"responses": {}, "mcid": 5}) == ["mcid"]
