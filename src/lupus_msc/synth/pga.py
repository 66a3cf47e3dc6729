"""Physician global assessment, 0–3 with two decimals (§3).

The physician rates lupus activity over the preceding month, excluding serology and damage: the
rating follows the clinical SLEDAI-2K of the visit (serology removed, §1), with a personal rater
bias and visit-to-visit scatter. Many quiescent visits are rated exactly 0.
"""

from __future__ import annotations

import numpy as np

from lupus_msc.clinical.sledai2k import SEROLOGY, WEIGHTS
from lupus_msc.synth.arrays import Bools, Columns, chance, decimal, normal
from lupus_msc.synth.schedule import Visits

PER_POINT = 0.11
NOT_RATED = 0.02


def draw_pga(
    truth: dict[str, Bools], extra: Bools, visits: Visits, patients: int, rng: np.random.Generator
) -> Columns:
    """The ``pga`` column; ``extra``: activity outside SLEDAI (haemolysis, GI lupus)."""
    clinical = sum(
        WEIGHTS[key] * truth[key].astype(np.float64) for key in truth if key not in SEROLOGY
    )
    bias = rng.normal(0, 0.15, patients)[visits.patient]
    rating = PER_POINT * np.asarray(clinical) + 0.35 * extra + bias
    rating = rating + 0.08 + normal(rng, visits.size, 0.22)
    return {"pga": decimal("pga", np.maximum(rating, 0), chance(rng, visits.size, NOT_RATED))}
