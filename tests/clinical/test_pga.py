"""Physician global assessment (instruments.md §3; D8)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lupus_msc.clinical.pga import pga_category, pga_from_vas_mark


@pytest.mark.parametrize(
    ("mark_mm", "line_mm", "expected"),
    [
        ("50", "100", "1.50"),  # 10 cm line (S6): 3 × 50 / 100
        ("40", "80", "1.50"),  # 8 cm line (S15): the same value, whatever the paper
        ("100", "100", "3.00"),
        ("0", "80", "0.00"),
        ("11", "100", "0.33"),  # 3 × 11 / 100 = 0.33
        ("1", "80", "0.04"),  # 3 / 80 = 0.0375 → 0.04, half away from zero
    ],
)
def test_d8_a_vas_mark_becomes_the_0_to_3_value(mark_mm: str, line_mm: str, expected: str) -> None:
    value = pga_from_vas_mark(mark_mm=Decimal(mark_mm), line_mm=Decimal(line_mm))
    assert value == Decimal(expected)
    assert str(value) == expected  # stored with two decimals (§3)


@pytest.mark.parametrize(("mark_mm", "line_mm"), [("101", "100"), ("-1", "100"), ("5", "0")])
def test_a_mark_off_the_line_is_refused(mark_mm: str, line_mm: str) -> None:
    with pytest.raises(ValueError, match="_mm"):
        pga_from_vas_mark(mark_mm=Decimal(mark_mm), line_mm=Decimal(line_mm))


@pytest.mark.parametrize(
    ("pga", "category"),
    [
        ("0", "none"),
        ("0.49", "none"),
        ("0.5", "mild"),  # PISCOS: mild ≥ 0.5 to 1
        ("1", "mild"),
        ("1.01", "moderate"),  # moderate > 1 to ≤ 2
        ("2", "moderate"),
        ("2.01", "severe"),  # severe > 2 to 3
        ("3", "severe"),
    ],
)
def test_piscos_categories_at_their_boundaries(pga: str, category: str) -> None:
    assert pga_category(Decimal(pga)) == category


def test_a_pga_above_3_is_refused() -> None:
    with pytest.raises(ValueError, match="pga"):
        pga_category(Decimal("3.5"))
