"""SLE Responder Index SRI-4 / SRI-n and modified SRI (instruments.md §4, contract §16.3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lupus_msc.clinical import sri
from lupus_msc.scoring.jsonio import to_json
from tests.scoring_helpers import refused_fields, score_json

# Baseline 10 → 6 (−4), PGA unchanged, no new BILAG: an SRI-4 responder.
RESPONDER: dict[str, Any] = {
    "sledai_baseline": 10,
    "sledai_current": 6,
    "pga_baseline": 1.5,
    "pga_current": 1.5,
    "bilag_new_a": 0,
    "bilag_new_b": 0,
}


def score(payload: dict[str, Any] | str) -> dict[str, Any]:
    return score_json(sri.INSTRUMENT, payload)


def assess(**changes: Any) -> dict[str, Any]:
    return score({**RESPONDER, **changes})


def test_result_names_instrument_section_and_echoes_n() -> None:
    result = assess()
    assert (result["instrument"], result["section"], result["n"]) == ("sri", "§4", 4)
    assert result["responder"] is True
    assert result["msri"] is True
    assert result["sledai_reduction"] == 4
    assert result["pga_change"] == 0
    assert result["components"] == {
        "sledai_reduction_met": True,
        "no_pga_worsening": True,
        "no_new_bilag": True,
    }
    assert result["missing"] == []


def test_section_0_2_example_1_8_minus_1_5_is_a_worsening() -> None:
    """§0.2: in binary floating point 1.8 − 1.5 = 0.30000000000000004; exactly it is 0.3, which is
    a worsening (≥ 0.3), so the patient is not a responder, by SRI or mSRI."""
    result = assess(pga_baseline=1.5, pga_current=1.8)
    assert result["pga_change"] == 0.3
    assert result["components"]["no_pga_worsening"] is False
    assert (result["responder"], result["msri"]) == (False, False)


def test_pga_change_is_shown_exactly_in_the_json_text() -> None:
    payload = {**RESPONDER, "pga_baseline": Decimal("1.5"), "pga_current": Decimal("1.8")}
    text = to_json(sri.score(sri.SriInput.model_validate(payload)))
    assert '"pga_change": 0.3,' in text


@pytest.mark.parametrize(
    ("baseline", "current", "no_worsening"),
    [
        ("1.5", "1.79", True),  # +0.29
        ("1.5", "1.8", False),  # +0.30: "≥ 0.3" is a worsening
        ("1.5", "1.81", False),  # +0.31
        ("0.4", "0.7", False),  # +0.3; in binary floats 0.7 − 0.4 = 0.29999999999999993
        ("2.0", "1.0", True),  # improvement
        ("2.7", "3", False),
    ],
)
def test_pga_worsening_threshold(baseline: str, current: str, no_worsening: bool) -> None:
    result = score(
        '{"sledai_baseline": 10, "sledai_current": 6, "bilag_new_a": 0, "bilag_new_b": 0, '
        f'"pga_baseline": {baseline}, "pga_current": {current}}}'
    )
    assert result["components"]["no_pga_worsening"] is no_worsening
    assert result["responder"] is no_worsening
    assert result["msri"] is no_worsening


def test_pga_change_is_negative_when_better_and_an_integer_when_whole() -> None:
    assert assess(pga_baseline=2.0, pga_current=1.0)["pga_change"] == -1
    assert assess(pga_baseline=2.25, pga_current=1.5)["pga_change"] == -0.75


@pytest.mark.parametrize(
    ("current", "reduction", "met"),
    [(7, 3, False), (6, 4, True), (5, 5, True), (12, -2, False)],
)
def test_sledai_four_point_reduction(current: int, reduction: int, met: bool) -> None:
    result = assess(sledai_baseline=10, sledai_current=current)
    assert result["sledai_reduction"] == reduction
    assert result["components"]["sledai_reduction_met"] is met
    assert result["responder"] is met
    assert result["msri"] is met


@pytest.mark.parametrize(
    ("n", "current", "met"),
    [(5, 6, False), (5, 5, True), (6, 5, False), (6, 4, True), (20, 0, False)],
)
def test_sri_n_needs_an_n_point_reduction(n: int, current: int, met: bool) -> None:
    result = assess(n=n, sledai_baseline=10, sledai_current=current)
    assert result["n"] == n
    assert result["responder"] is met


def test_sri_20_is_reachable_only_from_a_baseline_of_20() -> None:
    """§4: SRI-n is only attainable when baseline SLEDAI ≥ n."""
    assert assess(n=20, sledai_baseline=20, sledai_current=0)["responder"] is True
    assert assess(n=20, sledai_baseline=19, sledai_current=0)["responder"] is False


@pytest.mark.parametrize(
    ("new_a", "new_b", "ok"),
    [(0, 0, True), (0, 1, True), (0, 2, False), (1, 0, False), (1, 1, False), (2, 3, False)],
)
def test_no_new_bilag_means_no_new_a_and_at_most_one_new_b(
    new_a: int, new_b: int, ok: bool
) -> None:
    """§4: "no new BILAG 1A or 2B"."""
    result = assess(bilag_new_a=new_a, bilag_new_b=new_b)
    assert result["components"]["no_new_bilag"] is ok
    assert result["responder"] is ok
    assert result["msri"] is True  # mSRI leaves BILAG out
    assert result["missing"] == []


# --- three-valued: BILAG not collected -----------------------------------------------------------


def test_without_bilag_the_responder_is_undecided_and_msri_decides() -> None:
    """§4: missing BILAG is never read as "no new A/B"; the mSRI is given instead."""
    result = score({key: RESPONDER[key] for key in RESPONDER if not key.startswith("bilag")})
    assert result["responder"] is None
    assert result["msri"] is True
    assert result["components"]["no_new_bilag"] is None
    assert set(result["missing"]) == {"bilag_new_a", "bilag_new_b"}


def test_without_bilag_a_failed_component_still_makes_the_responder_false() -> None:
    """§16.0 three-valued AND: false as soon as one component is false, BILAG or not."""
    result = score(
        {"sledai_baseline": 10, "sledai_current": 8, "pga_baseline": 1, "pga_current": 1}
    )
    assert result["responder"] is False
    assert result["msri"] is False
    assert result["components"]["no_new_bilag"] is None
    assert set(result["missing"]) == {"bilag_new_a", "bilag_new_b"}


def test_one_bilag_count_given_and_breaking_the_rule_decides() -> None:
    result = score({**RESPONDER, "bilag_new_a": 1, "bilag_new_b": None})
    assert result["components"]["no_new_bilag"] is False
    assert result["responder"] is False
    assert result["missing"] == []


def test_one_bilag_count_given_and_keeping_the_rule_leaves_it_open() -> None:
    payload = {**RESPONDER}
    del payload["bilag_new_b"]
    result = score(payload)
    assert result["components"]["no_new_bilag"] is None
    assert result["responder"] is None
    assert result["missing"] == ["bilag_new_b"]


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["sledai_baseline", "sledai_current", "pga_baseline", "pga_current"]
)
def test_it_refuses_a_missing_required_field(field: str) -> None:
    payload = {**RESPONDER}
    del payload[field]
    assert refused_fields(sri.INSTRUMENT, payload) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"n": 3}, "n"),
        ({"n": 21}, "n"),
        ({"n": "4"}, "n"),
        ({"n": 4.0}, "n"),
        ({"sledai_baseline": 106}, "sledai_baseline"),
        ({"sledai_current": -1}, "sledai_current"),
        ({"sledai_current": "6"}, "sledai_current"),
        ({"pga_current": 3.1}, "pga_current"),
        ({"pga_baseline": -0.01}, "pga_baseline"),
        ({"pga_baseline": "1.5"}, "pga_baseline"),
        ({"bilag_new_a": -1}, "bilag_new_a"),
        ({"bilag_new_b": 10}, "bilag_new_b"),
        ({"bilag_new_b": True}, "bilag_new_b"),
        ({"responder": True}, "responder"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(change: dict[str, Any], field: str) -> None:
    assert refused_fields(sri.INSTRUMENT, {**RESPONDER, **change}) == [field]


def test_n_from_4_to_20_is_accepted() -> None:
    assert assess(n=4)["n"] == 4
    assert assess(n=20)["n"] == 20
