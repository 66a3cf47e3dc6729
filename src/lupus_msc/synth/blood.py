"""Blood count, temperature and liver enzymes (SLEDAI-2K §1, SFI §2, CTCAE §12 inputs).

Each patient has a personal normal value; lupus activity pulls the count towards the patient's
baseline abnormal value in proportion to the latent activity, so thrombocytopenia and leukopenia
(§1: < 100 and < 3 × 10⁹/L) resolve as activity falls. Lymphocytes fall with activity (SLE
lymphopenia); haemoglobin falls with activity, and sharply in haemolysis. Temperature follows the
lupus fever descriptor; infections add fevers a clinician does not attribute to lupus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from lupus_msc.synth.activity import Activity
from lupus_msc.synth.arrays import (
    Bools,
    Columns,
    Floats,
    bounded,
    chance,
    decimal,
    integer,
    lognormal,
    normal,
    uniform,
)
from lupus_msc.synth.cohort import Patients
from lupus_msc.synth.involvement import Involvement
from lupus_msc.synth.panels import lab_state, limit_missing, panel_missing
from lupus_msc.synth.schedule import Visits
from lupus_msc.synth.sites import Sites

HEMOLYSIS = 0.015
INFECTION_FEVER = 0.01
FEVER_ABOVE_40 = 0.05
LIVER_ENZYME_RISE = 0.025


@dataclass(frozen=True)
class Blood:
    """The blood columns and what the descriptor and event modules need from them."""

    columns: Columns
    labs: dict[str, tuple[Bools, Bools, Bools]]
    """(given, fires, excluded) per lab-derived descriptor (see ``descriptors``)."""
    truth: dict[str, Bools]
    hemolysis: Bools
    hemoglobin: Floats
    platelets: Floats


def _pulled(normal: Floats, target: Floats, involved: Bools, level: Floats) -> Floats:
    """``normal`` moved towards ``target`` by ``level`` (1 at baseline) where ``involved``."""
    depth = np.where(involved, 1 - target / normal, 0.0)
    pulled: Floats = normal * (1 - depth * np.minimum(level, 1.25))
    return pulled


def _platelets(inv: Involvement, level: Floats, visits: Visits, rng: np.random.Generator) -> Floats:
    size, p = len(inv.profile), visits.patient
    usual = np.clip(rng.normal(255, 50, size), 170, 420)
    target = uniform(rng, 25, 95, size)
    pulled = _pulled(usual[p], target[p], inv.involved["thrombocytopenia"][p], level)
    counts = bounded(pulled * lognormal(rng, visits.size, 0.07), 3, 900, 0)
    return counts


def _white_cells(
    inv: Involvement, level: Floats, visits: Visits, rng: np.random.Generator
) -> tuple[Floats, Floats, Floats]:
    size, p, n = len(inv.profile), visits.patient, visits.size
    usual = np.clip(np.exp(rng.normal(np.log(6.2), 0.22, size)), 3.9, 11)
    involved = inv.involved["leukopenia"]
    mild = ~involved & chance(rng, size, 0.25)
    target = np.where(involved, uniform(rng, 1.6, 2.9, size), uniform(rng, 3.05, 3.9, size))
    wbc = _pulled(usual[p], target[p], (involved | mild)[p], level) * lognormal(rng, n, 0.1)
    wbc = bounded(wbc, 0.3, 30, 2)
    neutrophil_share = bounded(uniform(rng, 0.5, 0.7, size)[p] + normal(rng, n, 0.04), 0.3, 0.85)
    lymphocyte_share = uniform(rng, 0.2, 0.35, size)[p] * (1 - 0.35 * np.minimum(level, 1))
    lymphocyte_share = bounded(lymphocyte_share + normal(rng, n, 0.03), 0.05, 0.5)
    lymphocyte_share = np.minimum(lymphocyte_share, 0.95 - neutrophil_share)
    neutrophils = bounded(wbc * neutrophil_share, 0, 500, 2)
    return wbc, neutrophils, bounded(wbc * lymphocyte_share, 0, 500, 2)


def _hemoglobin(
    patients: Patients, inv: Involvement, level: Floats, visits: Visits, rng: np.random.Generator
) -> tuple[Floats, Bools]:
    size, p, n = patients.size, visits.patient, visits.size
    usual = np.where(patients.female, rng.normal(13.2, 0.9, size), rng.normal(14.8, 1.0, size))
    depth = uniform(rng, 0, 2.5, size)
    prone = chance(rng, size, HEMOLYSIS)
    threshold = uniform(rng, 0.05, 1.0, size)
    hemolysis = prone[p] & (level + normal(rng, n, 0.08) > threshold[p])
    drop = np.where(hemolysis, uniform(rng, 3, 5.5, n), 0.0)
    hb = usual[p] - depth[p] * np.minimum(level, 1.2) - drop + normal(rng, n, 0.35)
    return bounded(hb, 4, 19, 1), hemolysis


def _temperature(fever: Bools, rng: np.random.Generator) -> tuple[Floats, Floats, Bools]:
    n = len(fever)
    infection = ~fever & chance(rng, n, INFECTION_FEVER)
    temperature = bounded(36.75 + normal(rng, n, 0.28), 35.6, 37.9)
    temperature = np.where(fever, uniform(rng, 38.1, 39.8, n), temperature)
    high = fever & chance(rng, n, FEVER_ABOVE_40)
    temperature = np.where(high, uniform(rng, 40.1, 40.9, n), temperature)
    temperature = np.where(infection, uniform(rng, 38.1, 39.6, n), temperature)
    hours = np.where(temperature > 40, uniform(rng, 1, 40, n), np.nan)
    return bounded(temperature, 25, 45, 1), hours, infection


def _liver(sites: Sites, patients: Patients, visits: Visits, rng: np.random.Generator) -> Columns:
    p, n = visits.patient, visits.size
    site = patients.site[p]
    alt_uln, ast_uln = sites.references["alt_uln_u_l"][site], sites.references["ast_uln_u_l"][site]
    base = np.clip(np.exp(rng.normal(np.log(18), 0.35, patients.size)), 6, 60)
    alt = base[p] * lognormal(rng, n, 0.2)
    rise = chance(rng, n, LIVER_ENZYME_RISE)
    alt = np.where(rise, alt_uln * uniform(rng, 1.2, 8, n), alt)
    ast = alt * uniform(rng, 0.7, 1.2, n)
    missing = panel_missing(visits, rng, 0.05, safety=True)
    return {
        "alt_u_l": integer("alt_u_l", np.round(alt).astype(np.int32), pl.Int32, missing),
        "alt_uln_u_l": integer(
            "alt_uln_u_l", alt_uln.astype(np.int32), pl.Int32, limit_missing(missing, rng)
        ),
        "ast_u_l": integer("ast_u_l", np.round(ast).astype(np.int32), pl.Int32, missing),
        "ast_uln_u_l": integer(
            "ast_uln_u_l", ast_uln.astype(np.int32), pl.Int32, limit_missing(missing, rng)
        ),
    }


def _limits(
    patients: Patients,
    sites: Sites,
    visits: Visits,
    missing: dict[str, Bools],
    rng: np.random.Generator,
) -> Columns:
    """Reference limits of the blood count, absent with their results (``missing`` by column)."""
    site, refs = patients.site[visits.patient], sites.references
    female = patients.female[visits.patient]
    limits = {
        "platelets_lln_10e9_l": refs["platelets_lln_10e9_l"][site],
        "wbc_lln_10e9_l": refs["wbc_lln_10e9_l"][site],
        "neutrophils_lln_10e9_l": refs["neutrophils_lln_10e9_l"][site],
        "lymphocytes_lln_10e9_l": refs["lymphocytes_lln_10e9_l"][site],
        "hemoglobin_lln_g_dl": np.where(
            female, refs["hemoglobin_lln_female"][site], refs["hemoglobin_lln_male"][site]
        ),
    }
    return {
        name: decimal(name, values, limit_missing(missing[name], rng))
        for name, values in limits.items()
    }


def draw_blood(
    patients: Patients,
    sites: Sites,
    inv: Involvement,
    activity: Activity,
    fever: Bools,
    visits: Visits,
    rng: np.random.Generator,
) -> Blood:
    """Blood count, temperature and liver enzyme columns of every visit (module docstring)."""
    level = activity.clinical
    platelets = _platelets(inv, level, visits, rng)
    wbc, neutrophils, lymphocytes = _white_cells(inv, level, visits, rng)
    hb, hemolysis = _hemoglobin(patients, inv, level, visits, rng)
    temperature, hours, infection = _temperature(fever, rng)
    counts = panel_missing(visits, rng, 0.03, safety=True)
    differential = counts | chance(rng, visits.size, 0.04)
    no_temperature = chance(rng, visits.size, 0.02)
    values = {
        "platelets_10e9_l": (platelets, counts),
        "wbc_10e9_l": (wbc, counts),
        "neutrophils_10e9_l": (neutrophils, differential),
        "lymphocytes_10e9_l": (lymphocytes, differential),
        "hemoglobin_g_dl": (hb, counts),
        "temperature_c": (temperature, no_temperature),
        "hours_above_40": (hours, no_temperature),
    }
    missing = {
        "platelets_lln_10e9_l": counts,
        "wbc_lln_10e9_l": counts,
        "neutrophils_lln_10e9_l": differential,
        "lymphocytes_lln_10e9_l": differential,
        "hemoglobin_lln_g_dl": counts,
    }
    return Blood(
        columns={
            **{name: decimal(name, value, absent) for name, (value, absent) in values.items()},
            **_limits(patients, sites, visits, missing, rng),
            **_liver(sites, patients, visits, rng),
        },
        labs={
            "thrombocytopenia": lab_state(counts, platelets < 100),
            "leukopenia": lab_state(counts, wbc < 3),
            "fever": lab_state(no_temperature, temperature > 38, infection),
        },
        truth={"thrombocytopenia": platelets < 100, "leukopenia": wbc < 3},
        hemolysis=hemolysis,
        hemoglobin=hb,
        platelets=platelets,
    )
