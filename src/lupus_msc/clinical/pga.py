"""Physician global assessment on the 0–3 scale (§3; D8).

The value, not the paper, is stored: a mark on a visual analogue line of any length (10 cm in one
source, 8 cm in another — D8) becomes ``3 × mark / line``, kept with two decimals (§3 [IMPL]).
Categories are the PISCOS consensus's: mild ≥ 0.5 to 1, moderate > 1 to ≤ 2, severe > 2 to 3.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

PGA_MAX = Decimal(3)
TWO_DECIMALS = Decimal("0.01")

PgaCategory = Literal["none", "mild", "moderate", "severe"]


def pga_from_vas_mark(*, mark_mm: Decimal, line_mm: Decimal) -> Decimal:
    """The 0–3 PGA of a mark ``mark_mm`` from the 0 anchor of a ``line_mm`` line (§3, D8).

    Rounded half away from zero to two decimals, as PGA values are stored (§3 [IMPL]).
    """
    if line_mm <= 0:
        raise ValueError(f"line_mm must be greater than 0 (got {line_mm})")
    if not 0 <= mark_mm <= line_mm:
        raise ValueError(f"mark_mm must lie on the line, 0 to {line_mm} (got {mark_mm})")
    return (PGA_MAX * mark_mm / line_mm).quantize(TWO_DECIMALS, rounding=ROUND_HALF_UP)


def pga_category(pga: Decimal) -> PgaCategory:
    """PISCOS category of a PGA (§3): < 0.5 none, ≤ 1 mild, ≤ 2 moderate, else severe."""
    if not 0 <= pga <= PGA_MAX:
        raise ValueError(f"pga must be 0 to 3 (got {pga})")
    if pga < Decimal("0.5"):
        return "none"
    if pga <= 1:
        return "mild"
    if pga <= 2:
        return "moderate"
    return "severe"
