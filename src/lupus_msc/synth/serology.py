"""Complement C3/C4 and anti-dsDNA with their laboratory limits (§1 descriptors 20 and 21).

Serology follows its own latent curve, which improves later and less completely than clinical
activity (serologically active, clinically quiescent patients are common). Low complement is C3,
C4 or both below the site laboratory's LLN at baseline; anti-dsDNA is a multiple of the site's
ULN, which differs between assays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.synth.activity import Activity
from lupus_msc.synth.arrays import Bools, Columns, Floats, bounded, decimal, lognormal, uniform
from lupus_msc.synth.cohort import Patients
from lupus_msc.synth.involvement import Involvement
from lupus_msc.synth.panels import LabState, lab_state, limit_missing, panel_missing
from lupus_msc.synth.schedule import Visits
from lupus_msc.synth.sites import Sites

LOW_C3_AND_C4, LOW_C3_ONLY = 0.55, 0.25
"""Of patients with low complement: both low, C3 only (the rest C4 only)."""


@dataclass(frozen=True)
class Serology:
    """The serology columns and their descriptor states."""

    columns: Columns
    labs: dict[str, LabState]
    truth: dict[str, Bools]


def _towards(normal: Floats, target: Floats, low: Bools, level: Floats) -> Floats:
    depth = np.where(low, 1 - target / normal, 0.0)
    moved: Floats = normal * (1 - depth * np.minimum(level, 1.3))
    return moved


def _complement(
    patients: Patients,
    lln: dict[str, Floats],
    inv: Involvement,
    level: Floats,
    visits: Visits,
    rng: np.random.Generator,
) -> tuple[Floats, Floats]:
    size, p, n = patients.size, visits.patient, visits.size
    c3_lln, c4_lln = lln["c3"][patients.site], lln["c4"][patients.site]
    which = rng.random(size)
    low = inv.involved["low_complement"]
    low_c3 = low & (which < LOW_C3_AND_C4 + LOW_C3_ONLY)
    low_c4 = low & ((which < LOW_C3_AND_C4) | (which >= LOW_C3_AND_C4 + LOW_C3_ONLY))
    c3_normal = np.maximum(rng.normal(1.15, 0.16, size), c3_lln * 1.12)
    c4_normal = np.maximum(rng.normal(0.24, 0.06, size), c4_lln * 1.15)
    c3_target = uniform(rng, 0.35, c3_lln * 0.95, size)
    c4_target = uniform(rng, 0.02, c4_lln * 0.9, size)
    c3 = _towards(c3_normal[p], c3_target[p], low_c3[p], level) * lognormal(rng, n, 0.06)
    c4 = _towards(c4_normal[p], c4_target[p], low_c4[p], level) * lognormal(rng, n, 0.08)
    return bounded(c3, 0.1, 3, 2), bounded(c4, 0.01, 1, 3)


def _anti_dsdna(
    uln: Floats, inv: Involvement, level: Floats, visits: Visits, rng: np.random.Generator
) -> Floats:
    size, p = len(inv.profile), visits.patient
    negative = uniform(rng, 0.1, 0.6, size)
    peak = np.clip(np.exp(rng.normal(np.log(4), 0.8, size)), 1.3, 40)
    ratio = np.where(
        inv.involved["increased_dna_binding"][p],
        negative[p] + (peak - negative)[p] * level,
        negative[p],
    )
    value = bounded(uln * ratio * lognormal(rng, visits.size, 0.15), 0, 5000, 1)
    return value


def draw_serology(
    patients: Patients,
    sites: Sites,
    inv: Involvement,
    activity: Activity,
    visits: Visits,
    rng: np.random.Generator,
) -> Serology:
    """Complement and anti-dsDNA columns of every visit (module docstring)."""
    refs, site = sites.references, patients.site[visits.patient]
    lln = {"c3": refs["c3_lln_g_l"], "c4": refs["c4_lln_g_l"]}
    c3, c4 = _complement(patients, lln, inv, activity.serology, visits, rng)
    uln = refs["anti_dsdna_uln_iu_ml"][site]
    dsdna = _anti_dsdna(uln, inv, activity.serology, visits, rng)
    complement_missing = panel_missing(visits, rng, 0.04, safety=False)
    c3_lln_missing = limit_missing(complement_missing, rng)
    c4_lln_missing = limit_missing(complement_missing, rng)
    dsdna_missing = panel_missing(visits, rng, 0.05, safety=False)
    uln_missing = limit_missing(dsdna_missing, rng)
    c3_low, c4_low = c3 < lln["c3"][site], c4 < lln["c4"][site]
    c3_known, c4_known = ~c3_lln_missing, ~c4_lln_missing
    return Serology(
        columns={
            "c3_g_l": decimal("c3_g_l", c3, complement_missing),
            "c3_lln_g_l": decimal("c3_lln_g_l", lln["c3"][site], c3_lln_missing),
            "c4_g_l": decimal("c4_g_l", c4, complement_missing),
            "c4_lln_g_l": decimal("c4_lln_g_l", lln["c4"][site], c4_lln_missing),
            "anti_dsdna_iu_ml": decimal("anti_dsdna_iu_ml", dsdna, dsdna_missing),
            "anti_dsdna_uln_iu_ml": decimal("anti_dsdna_uln_iu_ml", uln, uln_missing),
        },
        labs={
            "low_complement": lab_state(
                ~(c3_known | c4_known), (c3_known & c3_low) | (c4_known & c4_low)
            ),
            "increased_dna_binding": lab_state(uln_missing, dsdna > uln),
        },
        truth={"low_complement": c3_low | c4_low, "increased_dna_binding": dsdna > uln},
    )
