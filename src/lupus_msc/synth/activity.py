"""Latent disease activity after the infusion: the hidden curves the recorded items follow.

Activity is relative to the patient's baseline (1 at the infusion). It falls towards a plateau
``f`` with a time constant ``tau`` that depend on the trajectory type (responders reach a low
plateau, partial responders about half, non-responders stay near 1), separately for extra-renal
activity, renal activity (proteinuria, sediment) and serology (complement, anti-dsDNA), which
improves more slowly and less completely. A flare adds a bump that starts at its onset and fades:
every patient of the ``flare`` type has one after month 6, timed shortly before a scheduled visit
so that it is seen; other improving patients flare at a low yearly rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.synth.arrays import Floats, Ints, chance, uniform
from lupus_msc.synth.cohort import FLARE, RENAL_RESPONDER, Patients
from lupus_msc.synth.schedule import Visits, per_patient_rank

# Per trajectory type (cohort.TRAJECTORIES order): plateau ranges and time constants in days.
CLINICAL_PLATEAU = np.array(
    [(0.0, 0.15), (0.35, 0.6), (0.8, 1.1), (0.0, 0.15), (0.0, 0.25), (0.05, 0.35), (0.4, 0.9)]
)
CLINICAL_TAU = np.array(
    [(45, 120), (60, 150), (60, 180), (45, 120), (45, 120), (60, 150), (60, 180)]
)
SEROLOGY_PLATEAU = np.array(
    [(0.2, 0.8), (0.5, 1.0), (0.8, 1.1), (0.2, 0.8), (0.3, 0.9), (0.2, 0.7), (0.7, 1.1)]
)
RENAL_NON_RESPONSE_PLATEAU = (0.6, 1.15)
RENAL_COMPLETE_PLATEAU = (0.0, 0.1)
RENAL_PARTIAL_PLATEAU = (0.2, 0.42)
RENAL_COMPLETE_SHARE = 0.6
"""Of renal responders, the share reaching a complete renal response (§10)."""
SPORADIC_FLARES_PER_YEAR = np.array([0.06, 0.08, 0.0, 0.0, 0.05, 0.06, 0.0])
FLARE_FROM_MONTH = 6


@dataclass(frozen=True)
class Activity:
    """Latent activity per visit, relative to baseline."""

    clinical: Floats
    renal: Floats
    serology: Floats
    flare: Floats
    """The flare bump alone (0 without a flare)."""


def _decay(plateau: Floats, tau: Floats, day: Floats) -> Floats:
    curve: Floats = plateau + (1 - plateau) * np.exp(-day / tau)
    return curve


def _ranged(table: Floats, kinds: Ints, rng: np.random.Generator) -> Floats:
    low, high = table[kinds, 0], table[kinds, 1]
    return uniform(rng, low, high, len(kinds))


def _renal_plateau(patients: Patients, clinical: Floats, rng: np.random.Generator) -> Floats:
    size = patients.size
    complete = chance(rng, size, RENAL_COMPLETE_SHARE)
    responder = np.where(
        complete,
        uniform(rng, *RENAL_COMPLETE_PLATEAU, size),
        uniform(rng, *RENAL_PARTIAL_PLATEAU, size),
    )
    plateau = np.where(patients.of(RENAL_RESPONDER), responder, clinical)
    renal_non = patients.renal() & ~patients.of(RENAL_RESPONDER)
    plateau = np.where(renal_non, uniform(rng, *RENAL_NON_RESPONSE_PLATEAU, size), plateau)
    return plateau


def _flare_onsets(patients: Patients, visits: Visits, rng: np.random.Generator) -> Floats:
    """Onset day of each patient's flare (infinite without one)."""
    size = patients.size
    rate = SPORADIC_FLARES_PER_YEAR[patients.trajectory]
    sporadic = FLARE_FROM_MONTH * 30.4375 + rng.exponential(365.25, size) / np.maximum(rate, 1e-9)
    onset = np.where(rate > 0, sporadic, np.inf)
    eligible = (visits.month >= FLARE_FROM_MONTH) & (patients.trajectory[visits.patient] == FLARE)
    ranks = per_patient_rank(visits, eligible)
    counts = np.bincount(visits.patient[eligible], minlength=size)
    target = np.floor(rng.random(size) * counts).astype(np.int64) + 1
    chosen = eligible & (ranks == target[visits.patient])
    onset[visits.patient[chosen]] = visits.day[chosen] - rng.uniform(0, 21, int(chosen.sum()))
    return onset


def draw_activity(patients: Patients, visits: Visits, rng: np.random.Generator) -> Activity:
    """Latent activity curves of every visit (module docstring)."""
    kinds = patients.trajectory
    plateau = _ranged(CLINICAL_PLATEAU, kinds, rng)
    tau = _ranged(CLINICAL_TAU, kinds, rng)
    renal_plateau = _renal_plateau(patients, plateau, rng)
    renal_tau = np.where(patients.renal(), uniform(rng, 60, 160, patients.size), tau)
    serology_plateau = _ranged(SEROLOGY_PLATEAU, kinds, rng)
    serology_tau = uniform(rng, 90, 270, patients.size)
    onset = _flare_onsets(patients, visits, rng)
    amplitude = np.where(
        kinds == FLARE, uniform(rng, 0.6, 1.1, patients.size), uniform(rng, 0.4, 0.9, patients.size)
    )
    fade = uniform(rng, 45, 120, patients.size)
    p, day = visits.patient, visits.day.astype(np.float64)
    since = day - onset[p]
    bump = np.where(since >= 0, amplitude[p] * np.exp(-np.maximum(since, 0) / fade[p]), 0.0)
    return Activity(
        clinical=_decay(plateau[p], tau[p], day) + bump,
        renal=_decay(renal_plateau[p], renal_tau[p], day) + 0.7 * bump,
        serology=_decay(serology_plateau[p], serology_tau[p], day) + 0.8 * bump,
        flare=bump,
    )
