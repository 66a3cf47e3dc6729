"""Kidney: urine sediment, proteinuria, creatinine and cystatin C (§1, §9, §10, §12 inputs).

Lupus nephritis patients start with sub-nephrotic or nephrotic proteinuria (median about 2.8 g/day;
Liang 2010: mean 2505 mg/24 h; Ranjbar 2022: median 1800, unit presumably mg/24 h) that falls with
their latent renal activity: to below 0.5 g/g in complete responders, by half or more in partial
ones, little in non-responders, whose creatinine drifts up and who may reach end-stage renal
disease. Most visits measure a spot UPCR, some a 24-hour collection; the sediment shows red and
white cells in proportion to renal activity, plus the occasional menstrual haematuria or urinary
infection that a clinician excludes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.synth.activity import Activity
from lupus_msc.synth.arrays import (
    Bools,
    Columns,
    Floats,
    bounded,
    chance,
    decimal,
    lognormal,
    uniform,
)
from lupus_msc.synth.cohort import RENAL_NON_RESPONDER, Patients
from lupus_msc.synth.involvement import Involvement
from lupus_msc.synth.panels import LabState, lab_state, limit_missing, panel_missing
from lupus_msc.synth.schedule import Visits
from lupus_msc.synth.sites import Sites

MENSTRUAL_HEMATURIA = 0.01
URINARY_INFECTION = 0.015


@dataclass(frozen=True)
class Kidney:
    """The kidney columns and what the descriptor and event modules need from them."""

    columns: Columns
    labs: dict[str, LabState]
    truth: dict[str, Bools]
    protein: Floats
    """True daily proteinuria, g."""


def _protein(
    patients: Patients, inv: Involvement, level: Floats, visits: Visits, rng: np.random.Generator
) -> Floats:
    size, p = patients.size, visits.patient
    nephritis = np.clip(np.exp(rng.normal(np.log(2.8), 0.5, size)), 0.8, 12)
    other = uniform(rng, 0.6, 1.6, size)
    baseline = np.where(
        patients.renal(), nephritis, np.where(inv.involved["proteinuria"], other, 0)
    )
    background = uniform(rng, 0.04, 0.18, size)
    lupus = baseline[p] * np.minimum(level, 1.4) * lognormal(rng, visits.size, 0.12)
    protein: Floats = background[p] + lupus
    return protein


def _sediment(
    key: str,
    inv: Involvement,
    level: Floats,
    visits: Visits,
    extra: float,
    rng: np.random.Generator,
) -> tuple[Floats, Bools, Bools]:
    """(cells/hpf, lupus cells > 5, a non-lupus cause pushed the count above 5)."""
    size, p, n = len(inv.profile), visits.patient, visits.size
    peak = np.where(
        inv.involved[key], np.clip(np.exp(rng.normal(np.log(25), 0.5, size)), 8, 150), 0
    )
    lupus = np.round(rng.integers(0, 3, n) + peak[p] * level * lognormal(rng, n, 0.35))
    other = ~(lupus > 5) & chance(rng, n, extra)
    cells = np.where(other, lupus + np.round(uniform(rng, 6, 40, n)), lupus)
    return np.minimum(cells, 500), lupus > 5, other


def _creatinine(
    patients: Patients, level: Floats, esrd_day: Floats, visits: Visits, rng: np.random.Generator
) -> Floats:
    size, p, n = patients.size, visits.patient, visits.size
    base = np.exp(rng.normal(np.where(patients.female, np.log(0.72), np.log(0.92)), 0.13, size))
    rise = np.where(patients.renal(), uniform(rng, 0.1, 0.9, size), 0.0)
    drift = np.where(patients.of(RENAL_NON_RESPONDER), uniform(rng, 0, 0.12, size), 0.0)
    years = visits.day / 365.25
    creatinine = base[p] * (1 + rise[p] * np.minimum(level, 1.4)) * (1 + drift[p] * years)
    creatinine *= lognormal(rng, n, 0.05)
    on_dialysis = visits.day >= esrd_day[p]
    creatinine = np.where(on_dialysis, uniform(rng, 4, 9, n), creatinine)
    clipped: Floats = np.round(np.clip(creatinine, 0.3, 15), 2)
    return clipped


def _cystatin(
    patients: Patients, creatinine: Floats, visits: Visits, rng: np.random.Generator
) -> Floats:
    p = visits.patient
    kappa = np.where(patients.female, 0.7, 0.9)[p]
    age = patients.age[p] + visits.day / 365.25
    cystatin = 0.8 * (creatinine / kappa) ** 0.85 * (1 + 0.004 * (age - 40))
    rounded = bounded(cystatin * lognormal(rng, visits.size, 0.07), 0.4, 8, 2)
    return rounded


def _function_columns(
    patients: Patients,
    sites: Sites,
    creatinine: Floats,
    visits: Visits,
    rng: np.random.Generator,
) -> Columns:
    """Creatinine with its site ULN, and cystatin C (measured at a quarter of visits)."""
    missing = panel_missing(visits, rng, 0.03, safety=True)
    site, refs = patients.site[visits.patient], sites.references
    uln = np.where(
        patients.female[visits.patient],
        refs["creatinine_uln_female"][site],
        refs["creatinine_uln_male"][site],
    )
    cystatin = _cystatin(patients, creatinine, visits, rng)
    return {
        "creatinine_mg_dl": decimal("creatinine_mg_dl", creatinine, missing),
        "creatinine_uln_mg_dl": decimal("creatinine_uln_mg_dl", uln, limit_missing(missing, rng)),
        "cystatin_c_mg_l": decimal(
            "cystatin_c_mg_l", cystatin, missing | chance(rng, visits.size, 0.75)
        ),
    }


def _protein_columns(
    protein: Floats, renal: Bools, visits: Visits, rng: np.random.Generator
) -> tuple[Columns, LabState]:
    """24-hour protein (some visits, more in nephritis) and spot UPCR (most visits)."""
    n = visits.size
    day_missing = panel_missing(visits, rng, np.where(renal, 0.65, 0.88), safety=False)
    upcr_missing = panel_missing(visits, rng, np.where(renal, 0.03, 0.06), safety=False)
    day_protein = np.maximum(protein * lognormal(rng, n, 0.1), 0.01)
    upcr = np.maximum(protein * lognormal(rng, n, 0.18), 0.01)
    measured = np.round(np.where(day_missing, upcr, day_protein), 3)
    columns = {
        "proteinuria_g_24h": decimal("proteinuria_g_24h", day_protein, day_missing),
        "upcr_g_g": decimal("upcr_g_g", upcr, upcr_missing),
    }
    return columns, lab_state(day_missing & upcr_missing, measured > 0.5)


def draw_kidney(
    patients: Patients,
    sites: Sites,
    inv: Involvement,
    activity: Activity,
    esrd_day: Floats,
    visits: Visits,
    rng: np.random.Generator,
) -> Kidney:
    """Urine and renal-function columns of every visit (module docstring)."""
    level, renal = activity.renal, patients.renal()[visits.patient]
    protein = _protein(patients, inv, level, visits, rng)
    rbc, hematuria, menses = _sediment("hematuria", inv, level, visits, MENSTRUAL_HEMATURIA, rng)
    wbc, pyuria, infection = _sediment("pyuria", inv, level, visits, URINARY_INFECTION, rng)
    creatinine = _creatinine(patients, level, esrd_day, visits, rng)
    microscopy_missing = panel_missing(visits, rng, 0.05, safety=False)
    protein_columns, proteinuria = _protein_columns(protein, renal, visits, rng)
    return Kidney(
        columns={
            "urine_rbc_hpf": decimal("urine_rbc_hpf", rbc, microscopy_missing),
            "urine_wbc_hpf": decimal("urine_wbc_hpf", wbc, microscopy_missing),
            **protein_columns,
            **_function_columns(patients, sites, creatinine, visits, rng),
        },
        labs={
            "hematuria": lab_state(microscopy_missing, rbc > 5, menses),
            "pyuria": lab_state(microscopy_missing, wbc > 5, infection),
            "proteinuria": proteinuria,
        },
        truth={"hematuria": hematuria, "pyuria": pyuria, "proteinuria": protein > 0.5},
        protein=protein,
    )
