"""FACIT-Fatigue answers, item by item (§13): 0–4, with 8/9 or blank when not answered.

Each patient has a latent fatigue score on the 0–52 scale (higher = less fatigue; SLE cohorts
average around 30), which improves as disease activity falls — by about the 4-point MCID or more
in responders. Answers are drawn item by item around that level; the eleven negatively worded
items are answered in reverse (§13 step 2). The questionnaire is not given at the day-7 safety
visit and is sometimes skipped; single items are sometimes left unanswered.
"""

from __future__ import annotations

import numpy as np

from lupus_msc.clinical.facit_f import ITEMS, MAX_ITEM_SCORE, POSITIVE_ITEMS
from lupus_msc.synth.arrays import Columns, Floats, chance, integer, normal
from lupus_msc.synth.panels import SAFETY_VISIT_SLOT
from lupus_msc.synth.schedule import Visits

NOT_GIVEN = 0.07
ITEM_UNANSWERED = 0.02
ITEM_BLANK = 0.01


def draw_facit(
    activity: Floats, visits: Visits, patients: int, rng: np.random.Generator
) -> Columns:
    """The 13 ``facit_<code>`` columns of every visit (module docstring)."""
    n, p = visits.size, visits.patient
    baseline = np.clip(rng.normal(29, 9, patients), 4, 50)
    gain = np.maximum(rng.normal(8, 4, patients), 0)
    relief = 1 - np.minimum(activity, 1.2)
    level = np.clip(baseline[p] + gain[p] * relief + normal(rng, n, 2.5), 0, 52) / 13
    skipped = chance(rng, n, NOT_GIVEN) | (visits.slot == SAFETY_VISIT_SLOT)
    columns: Columns = {}
    for code in ITEMS:
        spread = rng.random(n, dtype=np.float32) + rng.random(n, dtype=np.float32)
        scored = np.clip(np.floor(level + spread - 0.5), 0, MAX_ITEM_SCORE)
        answer = scored if code in POSITIVE_ITEMS else MAX_ITEM_SCORE - scored
        unanswered = chance(rng, n, ITEM_UNANSWERED)
        answer = np.where(unanswered, np.where(chance(rng, n, 0.5), 8, 9), answer)
        missing = skipped | chance(rng, n, ITEM_BLANK)
        columns[f"facit_{code}"] = integer(f"facit_{code}", answer.astype(np.int8), missing=missing)
    return columns
