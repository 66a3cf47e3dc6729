"""The follow-up schedule after the MSC infusion and the visits each patient actually attended.

The protocol schedule (DESIGN.md pathway, step 6) is a baseline assessment on the infusion day,
then day 7 and months 1, 3, 6, 9, 12, 18 and 24, each within a window. A longer schedule (for
registries and benchmarks) continues every 3 months after month 24. A visit happens on a day drawn
inside its window; some scheduled visits are missed and some patients are lost to follow-up, but
the baseline visit always happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.synth.arrays import Bools, Floats, Ints, chance

DAYS_PER_MONTH = 30.4375
PROTOCOL: tuple[tuple[float, int], ...] = (
    (0, 0),
    (7 / DAYS_PER_MONTH, 2),
    (1, 7),
    (3, 14),
    (6, 28),
    (9, 28),
    (12, 28),
    (18, 28),
    (24, 28),
)
"""(scheduled month, window ± days) of each protocol visit; month 0 is the baseline."""
EXTENSION_STEP_MONTHS = 3
EXTENSION_WINDOW_DAYS = 21
MISSED_VISIT = 0.05
"""Chance that a scheduled follow-up visit does not happen."""
LOST_TO_FOLLOW_UP = 0.08
"""Chance that a patient stops attending at some visit after the baseline."""


@dataclass(frozen=True)
class Schedule:
    """Scheduled visits: month after infusion, nominal day and window of each."""

    months: Floats
    days: Ints
    windows: Ints

    @property
    def size(self) -> int:
        """Number of scheduled visits per patient."""
        return len(self.days)


def schedule(visits_per_patient: int | None = None) -> Schedule:
    """The protocol schedule, or its first ``visits_per_patient`` visits (then every 3 months)."""
    count = len(PROTOCOL) if visits_per_patient is None else visits_per_patient
    if count < 1:
        raise ValueError("visits_per_patient must be at least 1")
    extra = max(0, count - len(PROTOCOL))
    last = PROTOCOL[-1][0]
    slots = [
        *PROTOCOL,
        *[(last + EXTENSION_STEP_MONTHS * (k + 1), EXTENSION_WINDOW_DAYS) for k in range(extra)],
    ][:count]
    months = np.array([month for month, _ in slots])
    return Schedule(
        months=months,
        days=np.round(months * DAYS_PER_MONTH).astype(np.int64),
        windows=np.array([window for _, window in slots], dtype=np.int64),
    )


def expected_visits(plan: Schedule) -> float:
    """Visits a patient attends on average: the baseline, then each follow-up neither missed nor
    after the patient was lost (lost at a follow-up drawn uniformly, see ``attended``)."""
    follow_ups = np.arange(1, plan.size)
    still_followed = 1 - LOST_TO_FOLLOW_UP * follow_ups / max(plan.size - 1, 1)
    return 1 + float(np.sum((1 - MISSED_VISIT) * still_followed))


@dataclass(frozen=True)
class Visits:
    """The attended visits of a block of patients, patient by patient in date order."""

    patient: Ints
    """Position of the visit's patient in the block."""
    slot: Ints
    """Position of the visit in the schedule (0 = baseline)."""
    day: Ints
    """Days since the infusion (the baseline visit is day 0)."""
    month: Floats
    """Scheduled month of the visit."""
    first: Bools
    """The baseline visit."""
    previous: Ints
    """Row of the patient's previous visit (the row itself for the baseline)."""
    baseline: Ints
    """Row of the patient's baseline visit, for every visit."""

    @property
    def size(self) -> int:
        """Number of visits."""
        return len(self.day)


def attended(plan: Schedule, patients: int, rng: np.random.Generator) -> Visits:
    """Visits that happened: missed visits and losses to follow-up removed, days jittered."""
    size = patients * plan.size
    slot = np.tile(np.arange(plan.size), patients)
    patient = np.repeat(np.arange(patients), plan.size)
    lost_at = np.where(
        chance(rng, patients, LOST_TO_FOLLOW_UP),
        rng.integers(1, max(plan.size, 2), patients),
        plan.size,
    )
    kept = (slot == 0) | (~chance(rng, size, MISSED_VISIT) & (slot < lost_at[patient]))
    slot, patient = slot[kept], patient[kept]
    window = plan.windows[slot]
    day = plan.days[slot] + np.floor(rng.random(len(slot)) * (2 * window + 1)).astype(np.int64)
    day -= window
    first = slot == 0
    rows = np.arange(len(slot))
    baseline_rows = np.flatnonzero(first)
    return Visits(
        patient=patient,
        slot=slot,
        day=day,
        month=plan.months[slot],
        first=first,
        previous=np.where(first, rows, rows - 1),
        baseline=baseline_rows[patient],
    )


def per_patient_rank(visits: Visits, selected: Bools) -> Ints:
    """1-based rank of each selected visit among its patient's selected visits (0 elsewhere)."""
    running = np.cumsum(selected)
    before: Ints = running[visits.baseline] - selected[visits.baseline]
    ranks: Ints = np.where(selected, running - before, 0)
    return ranks
