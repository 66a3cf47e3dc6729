"""Which laboratory panels were drawn at a visit, and which reference limits were printed.

A panel is missing as a whole now and then (sample not taken, lost, not yet resulted); the day-7
safety visit draws only the blood count and chemistry. A result comes with its laboratory's
reference limit, which is occasionally not transcribed.
"""

from __future__ import annotations

import numpy as np

from lupus_msc.synth.arrays import Bools, Floats, chance
from lupus_msc.synth.schedule import Visits

SAFETY_VISIT_SLOT = 1
"""The day-7 visit of the protocol schedule."""
LIMIT_NOT_TRANSCRIBED = 0.01


def panel_missing(
    visits: Visits, rng: np.random.Generator, share: float | Floats, *, safety: bool
) -> Bools:
    """Visits without the panel: a random ``share``, and the day-7 visit unless ``safety``."""
    missing = chance(rng, visits.size, share)
    if not safety:
        missing |= visits.slot == SAFETY_VISIT_SLOT
    return missing


def limit_missing(result_missing: Bools, rng: np.random.Generator) -> Bools:
    """A reference limit is absent with its result, and occasionally on its own."""
    missing: Bools = result_missing | chance(rng, len(result_missing), LIMIT_NOT_TRANSCRIBED)
    return missing


LabState = tuple[Bools, Bools, Bools]
"""(lab given, rule fires on the recorded value, fires for a non-lupus cause) of a descriptor."""


def lab_state(missing: Bools, fires: Bools, excluded: Bools | None = None) -> LabState:
    """The :data:`LabState` of one lab-derived descriptor at every visit."""
    given = ~missing
    cause = np.zeros(len(missing), dtype=np.bool_) if excluded is None else excluded
    return given, given & fires, given & cause
