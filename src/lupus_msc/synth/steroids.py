"""Glucocorticoids: each patient's dose plan and the medication slots recorded at each visit (§11).

Refractory SLE patients come to MSC therapy on prednisone-equivalent doses of about 5–60 mg/day
(nephritis patients on induction doses). Improving patients taper towards a floor — mostly
≤ 5 mg/day (EULAR 2023 maintenance target, DORIS) or ≤ 7.5 mg/day (LLDAS), some stop — while
non-responders stay near their dose and flares bring increases, occasionally an intravenous
methylprednisolone pulse. Doses are recorded as the tablet strengths a patient can take, in the
site's usual drug; a few patients take alternate-day doses or split high doses, and some who stop
take hydrocortisone replacement (two slots, morning and afternoon).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.clinical.batch.schema import GLUCOCORTICOID_DRUGS
from lupus_msc.clinical.prednisone_equivalent import EQUIVALENT_DOSE_MG, factor
from lupus_msc.synth.arrays import (
    Bools,
    Columns,
    Floats,
    Ints,
    chance,
    choice,
    decimal,
    integer,
    uniform,
)
from lupus_msc.synth.cohort import (
    FLARE,
    NON_RESPONDER,
    PARTIAL,
    RENAL_NON_RESPONDER,
    RENAL_RESPONDER,
    RESPONDER,
    TAPER,
    Patients,
)
from lupus_msc.synth.schedule import Visits
from lupus_msc.synth.sites import Sites

DRUG = {name: code for code, name in enumerate(GLUCOCORTICOID_DRUGS)}
_FACTORS: dict[str, float] = {drug: float(factor(drug)) for drug in EQUIVALENT_DOSE_MG}
FACTOR = np.array([_FACTORS[name] for name in GLUCOCORTICOID_DRUGS])
"""mg of each drug (schema order) × FACTOR = prednisone-equivalent mg (§11)."""
PREDNISONE_MG: tuple[float, ...] = (1, 2, 2.5, 3, 4, 5, 6, 7.5, 10, 12.5, 15, 17.5, 20, 22.5)
PREDNISONE_MG += (25, 30, 35, 40, 45, 50, 55, 60, 70, 80)
GRIDS: dict[str, tuple[float, ...]] = {  # tablet strengths (and halves) a patient can take
    "prednisone": PREDNISONE_MG,
    "prednisolone": PREDNISONE_MG,
    "methylprednisolone": (2, 4, 6, 8, 10, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64),
    "deflazacort": (3, 6, 9, 12, 15, 18, 24, 30, 36, 45, 60, 72, 90),
    "dexamethasone": (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 10, 12),
}
OTHER_DRUGS = ("prednisone", "prednisolone", "methylprednisolone", "deflazacort", "dexamethasone")
OTHER_DRUG_SHARES = (0.35, 0.35, 0.15, 0.1, 0.05)
PULSE_MG = np.array([250.0, 500.0, 1000.0])
PULSE_AT_SEVERE_FLARE = 0.15
DOSE_NOT_RECORDED = 0.005


@dataclass(frozen=True)
class Plan:
    """Per patient: baseline dose, floor, taper time constant, flare boost, drug and habits."""

    start: Floats
    floor: Floats
    tau: Floats
    boost: Floats
    drug: Ints
    alternate_days: Bools
    split: Bools
    replacement: Bools


def _floors(patients: Patients, start: Floats, rng: np.random.Generator) -> Floats:
    size, kind = patients.size, patients.trajectory
    responder = rng.choice([0, 2, 2.5, 4, 5], size=size, p=[0.15, 0.1, 0.2, 0.15, 0.4])
    floor = np.select(
        [
            np.isin(kind, (RESPONDER, FLARE)),
            kind == PARTIAL,
            kind == NON_RESPONDER,
            kind == TAPER,
            kind == RENAL_RESPONDER,
            kind == RENAL_NON_RESPONDER,
        ],
        [
            responder,
            rng.choice([5, 7.5, 10], size=size, p=[0.35, 0.4, 0.25]),
            start * uniform(rng, 0.7, 1.1, size),
            rng.choice([0, 1, 2.5, 5], size=size, p=[0.3, 0.1, 0.3, 0.3]),
            rng.choice([2.5, 5, 7.5], size=size, p=[0.3, 0.5, 0.2]),
            np.maximum(7.5, start * uniform(rng, 0.4, 0.8, size)),
        ],
    )
    floors: Floats = np.minimum(floor, start)
    return floors


def draw_plan(patients: Patients, sites: Sites, rng: np.random.Generator) -> Plan:
    """Each patient's glucocorticoid plan (module docstring)."""
    size = patients.size
    general = np.where(chance(rng, size, 0.07), 0.0, np.exp(rng.normal(np.log(15), 0.5, size)))
    start = np.select(
        [patients.renal(), patients.of(TAPER)],
        [np.exp(rng.normal(np.log(30), 0.4, size)), np.exp(rng.normal(np.log(35), 0.3, size))],
        np.where(general > 0, np.clip(general, 5, 60), 0.0),
    )
    start = np.where(patients.renal(), np.clip(start, 10, 60), start)
    start = np.where(patients.of(TAPER), np.clip(start, 20, 60), start)
    other = np.array([DRUG[name] for name in OTHER_DRUGS])[
        rng.choice(len(OTHER_DRUGS), size=size, p=np.array(OTHER_DRUG_SHARES))
    ]
    drug = np.where(chance(rng, size, 0.9), sites.main_drug[patients.site], other)
    return Plan(
        start=start,
        floor=_floors(patients, start, rng),
        tau=np.where(patients.of(TAPER), uniform(rng, 40, 100, size), uniform(rng, 45, 150, size)),
        boost=uniform(rng, 15, 40, size),
        drug=drug,
        alternate_days=chance(rng, size, 0.05),
        split=chance(rng, size, 0.2),
        replacement=chance(rng, size, 0.3) & (start >= 7.5),
    )


def _quantised(mg: Floats, drug: Ints) -> Floats:
    """``mg`` of ``drug`` rounded to the nearest strength of its grid; 0 below half the least."""
    result = np.zeros(len(mg))
    for name, grid in GRIDS.items():
        rows = drug == DRUG[name]
        steps = np.array(grid)
        middles = (steps[1:] + steps[:-1]) / 2
        picked = steps[np.searchsorted(middles, mg[rows])]
        result[rows] = np.where(mg[rows] < steps[0] / 2, 0.0, picked)
    return result


def daily_dose(plan: Plan, flare: Floats, visits: Visits) -> Floats:
    """Prednisone-equivalent mg/day the plan calls for at every visit."""
    p = visits.patient
    taper = np.exp(-visits.day / plan.tau[p])
    dose: Floats = plan.floor[p] + (plan.start - plan.floor)[p] * taper + plan.boost[p] * flare
    return np.where(plan.start[p] > 0, dose, plan.boost[p] * flare * (flare > 0.3))


def _slot(
    number: int,
    drug: Ints,
    dose: Floats,
    per_day: Ints,
    every: Ints,
    given: Bools,
    dose_missing: Bools,
) -> Columns:
    prefix = f"glucocorticoid_{number}"
    absent = ~given
    return {
        f"{prefix}_drug": choice(f"{prefix}_drug", drug, GLUCOCORTICOID_DRUGS, absent),
        f"{prefix}_dose_mg": decimal(f"{prefix}_dose_mg", dose, absent | dose_missing),
        f"{prefix}_doses_per_day": integer(f"{prefix}_doses_per_day", per_day, missing=absent),
        f"{prefix}_every_days": integer(f"{prefix}_every_days", every, missing=absent),
    }


def draw_slots(
    plan: Plan, flare: Floats, severe: Bools, visits: Visits, rng: np.random.Generator
) -> tuple[Columns, Floats]:
    """The two medication slots of every visit, and the planned mg/day (module docstring)."""
    p, n = visits.patient, visits.size
    daily = daily_dose(plan, flare, visits)
    drug = plan.drug[p]
    alternate = plan.alternate_days[p] & (daily <= 10)
    split = plan.split[p] & (daily > 30)
    every = np.where(alternate, 2, 1)
    per_day = np.where(split, 2, 1)
    dose = _quantised(daily * every / per_day / FACTOR[drug], drug)
    taking = dose > 0
    replacing = ~taking & plan.replacement[p] & (visits.day > 0)
    hydrocortisone = np.full(n, DRUG["hydrocortisone"])
    pulse = severe & chance(rng, n, PULSE_AT_SEVERE_FLARE)
    ones = np.ones(n, dtype=np.int64)
    first = _slot(
        1,
        np.where(replacing, hydrocortisone, drug),
        np.where(replacing, 10.0, dose),
        np.where(replacing, 1, per_day),
        np.where(replacing, 1, every),
        taking | replacing,
        chance(rng, n, DOSE_NOT_RECORDED),
    )
    second = _slot(
        2,
        np.where(pulse, DRUG["methylprednisolone"], hydrocortisone),
        np.where(pulse, PULSE_MG[rng.integers(0, 3, n)], 5.0),
        ones,
        ones,
        pulse | replacing,
        np.zeros(n, dtype=np.bool_),
    )
    return {**first, **second}, daily
