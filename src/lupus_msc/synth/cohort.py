"""Who the synthetic patients are: trajectory type, sex, age, weight, site and start date.

Trajectory types and their shares are set to look like the single-arm, open-label MSC cohorts of
shared/evidence/msc-sle-studies.csv (mostly refractory SLE, background immunosuppression): about
60 % any response at 12 months (Wang 2014: 24/40; Gu 2014 renal remission 49/81, hence about 60 %
of nephritis patients respond), complete remission in about a quarter (Wang 2013: 23/83), and
relapses in a minority (Wang 2013: 20 in 87 patients over a mean 27 months; Liang 2010: 2/13
proteinuria relapses at one year). The nephritis share (22 %) is a choice, not a published figure.
These are realistic shapes for demos, tests and benchmarks — never estimates of what MSC therapy
does (the only randomised trial, Deng 2017, was negative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.synth.arrays import Bools, Floats, Ints, chance

TRAJECTORIES: tuple[str, ...] = (
    "responder",
    "partial_responder",
    "non_responder",
    "flare",
    "steroid_taper",
    "renal_responder",
    "renal_non_responder",
)
"""Trajectory types, in code order (a patient's ``trajectory`` indexes this tuple)."""
SHARES: tuple[float, ...] = (0.22, 0.18, 0.18, 0.12, 0.08, 0.13, 0.09)
"""Expected share of each trajectory type in a cohort."""
RESPONDER, PARTIAL, NON_RESPONDER, FLARE, TAPER, RENAL_RESPONDER, RENAL_NON_RESPONDER = range(7)
RENAL = (RENAL_RESPONDER, RENAL_NON_RESPONDER)
FEMALE_SHARE = 0.9
DATA_CUT_DAY = int(np.datetime64("2025-06-30", "D").astype(np.int64))
"""No visit is scheduled after this day (days since 1970-01-01): the data are all recorded."""
INFUSION_SPAN_DAYS = 3653
"""Infusions are spread over ten years before the last one that can complete its schedule."""


@dataclass(frozen=True)
class Patients:
    """One value per patient of a block."""

    number: Ints
    """Position of the patient in the whole cohort."""
    site: Ints
    trajectory: Ints
    female: Bools
    age: Floats
    """Age at the infusion, years (fractional)."""
    weight: Floats
    infusion_day: Ints
    """Infusion date as days since 1970-01-01."""

    @property
    def size(self) -> int:
        """Number of patients."""
        return len(self.number)

    def renal(self) -> Bools:
        """Lupus nephritis patients (the two renal trajectory types)."""
        flags: Bools = np.isin(self.trajectory, RENAL)
        return flags

    def of(self, *kinds: int) -> Bools:
        """Patients whose trajectory type is one of ``kinds``."""
        flags: Bools = np.isin(self.trajectory, kinds)
        return flags


def site_count(patients: int) -> int:
    """Number of sites: one per ten patients, at most twelve."""
    return max(1, min(12, patients // 10))


def site_of(number: Ints, patients: int) -> Ints:
    """Sites in contiguous blocks of patient numbers, so study codes sort in generation order."""
    sites: Ints = number * site_count(patients) // max(patients, 1)
    return sites


def draw_patients(
    number: Ints, cohort_size: int, follow_up_days: int, rng: np.random.Generator
) -> Patients:
    """Baseline characteristics of the patients ``number`` of a cohort of ``cohort_size``.

    Infusion dates leave room for ``follow_up_days`` of scheduled visits before the data cut.
    """
    last_infusion = DATA_CUT_DAY - follow_up_days
    size = len(number)
    female = chance(rng, size, FEMALE_SHARE)
    weight = np.where(female, rng.normal(62, 11, size), rng.normal(76, 12, size))
    return Patients(
        number=number,
        site=site_of(number, cohort_size),
        trajectory=rng.choice(len(SHARES), size=size, p=np.array(SHARES)),
        female=female,
        age=np.clip(rng.normal(34, 10, size), 18, 72),
        weight=np.clip(weight, 38, 150),
        infusion_day=rng.integers(last_infusion - INFUSION_SPAN_DAYS, last_infusion + 1, size),
    )
