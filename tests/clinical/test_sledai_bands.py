"""Optional SLEDAI-2K activity bands (instruments.md §1; D4) — non-normative."""

from __future__ import annotations

import pytest

from lupus_msc.clinical.sledai_bands import BANDS, NON_NORMATIVE, activity_band


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "none"), (1, "low"), (4, "low"), (5, "moderate"), (10, "moderate"), (11, "high")],
)
def test_d4_ard_review_bands(total: int, band: str) -> None:
    """S6: 0 none, 1–4 low, 5–10 moderate, > 10 high."""
    assert activity_band(total, "ard_review") == band


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none"),
        (5, "mild"),
        (6, "moderate"),
        (10, "moderate"),
        (11, "high"),
        (19, "high"),
        (20, "very_high"),
        (105, "very_high"),
    ],
)
def test_d4_public_calculator_bands(total: int, band: str) -> None:
    """S3, S12: 0, 1–5 mild, 6–10 moderate, 11–19 high, ≥ 20 very high."""
    assert activity_band(total, "public_calculators") == band


def test_d4_the_two_schemes_disagree_and_are_labelled_non_normative() -> None:
    assert activity_band(5, "ard_review") != activity_band(5, "public_calculators")
    assert "non-normative" in NON_NORMATIVE


def test_band_starts_ascend_from_zero() -> None:
    for bands in BANDS.values():
        starts = [start for start, _ in bands]
        assert starts[0] == 0 and starts == sorted(set(starts))


@pytest.mark.parametrize("total", [-1, 106])
def test_a_total_outside_0_to_105_is_refused(total: int) -> None:
    with pytest.raises(ValueError, match="total"):
        activity_band(total)
