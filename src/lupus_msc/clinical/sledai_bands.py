"""Optional SLEDAI-2K activity bands — not part of the instrument (§1; D4).

Sources disagree, so both published schemes are offered and every band is labelled
non-normative; the score itself never depends on them.
"""

from __future__ import annotations

from typing import Literal

Scheme = Literal["ard_review", "public_calculators"]

NON_NORMATIVE = "non-normative: activity bands are not part of SLEDAI-2K and differ between sources"

# Each band: (lowest total in the band, label), in ascending order; a band runs to the next start.
BANDS: dict[Scheme, tuple[tuple[int, str], ...]] = {
    # §1, S6: 0 none, 1–4 low, 5–10 moderate, > 10 high.
    "ard_review": ((0, "none"), (1, "low"), (5, "moderate"), (11, "high")),
    # §1, S3 and S12: 0, 1–5 mild, 6–10 moderate, 11–19 high, ≥ 20 very high.
    "public_calculators": (
        (0, "none"),
        (1, "mild"),
        (6, "moderate"),
        (11, "high"),
        (20, "very_high"),
    ),
}


def activity_band(total: int, scheme: Scheme = "ard_review") -> str:
    """The band of a SLEDAI-2K total (0–105) under ``scheme`` (§1, D4; non-normative)."""
    if not 0 <= total <= 105:
        raise ValueError(f"total must be 0 to 105 (got {total})")
    label = BANDS[scheme][0][1]
    for start, name in BANDS[scheme]:
        if total >= start:
            label = name
    return label
