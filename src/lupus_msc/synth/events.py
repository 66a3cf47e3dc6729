"""What happened since the previous visit: SFI items (§2), BILAG counts (§4), LLDAS/DORIS flags.

New or worse manifestations are those active now and not at the previous visit; a clinician
records most of them in the SFI lists (mild/moderate and severe), adds NSAIDs or
hydroxychloroquine for some mild flares, starts cyclophosphamide, azathioprine or methotrexate or
admits the patient for some severe ones. BILAG-2004 new A/B domain counts compare with the baseline
visit (SRI, §4) and are collected at some sites only. None of these is given at the baseline visit,
which has no previous assessment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.clinical.batch.schema import MILD_MANIFESTATIONS, SEVERE_MANIFESTATIONS
from lupus_msc.clinical.sledai2k import DESCRIPTORS
from lupus_msc.synth.arrays import (
    Bools,
    Columns,
    Floats,
    Ints,
    boolean,
    chance,
    flags_to_lists,
    integer,
)
from lupus_msc.synth.cohort import Patients
from lupus_msc.synth.schedule import Visits
from lupus_msc.synth.sites import Sites

CNS = tuple(descriptor.key for descriptor in DESCRIPTORS if descriptor.number <= 7)
"""SLEDAI-2K's neuropsychiatric descriptors 1–7 (§1)."""
RASH_FORMS = ("discoid", "photosensitive", "profundus", "cutaneous_vasculitis", "bullous")
RASH_FORM_SHARES = (0.35, 0.4, 0.08, 0.1, 0.07)
MILD_FROM = {
    "mucosal_ulcers": "nasopharyngeal_ulcers",
    "pleurisy": "pleuritis",
    "pericarditis": "pericarditis",
    "arthritis": "arthritis",
    "fever": "fever",
}
NEPHRITIS_G_DAY = 1.0
"""Proteinuria (g/day) above which new renal activity counts as a new or worse nephritis."""
RECORDED = 0.9
"""Share of new manifestations the clinician lists."""
GI_ACTIVITY = 0.005
INVESTIGATIONAL = 0.02


@dataclass(frozen=True)
class Events:
    """Event columns, and whether a new severe manifestation was recorded (pulse steroids)."""

    columns: Columns
    severe: Bools


def _new(flags: Bools, visits: Visits) -> Bools:
    fresh: Bools = flags & ~flags[visits.previous] & ~visits.first
    return fresh


def _bit(flags: Bools, bit: int | Ints) -> Ints:
    masks: Ints = np.where(flags, np.left_shift(1, bit), 0)
    return masks


def _manifestations(
    truth: dict[str, Bools],
    renal: Bools,
    patients: Patients,
    visits: Visits,
    rng: np.random.Generator,
) -> tuple[Ints, Ints]:
    """Bit masks of new mild (MILD_MANIFESTATIONS order) and severe manifestations."""
    n = visits.size
    form = rng.choice(len(RASH_FORMS), size=patients.size, p=np.array(RASH_FORM_SHARES))
    form_bit = np.array([MILD_MANIFESTATIONS.index(name) for name in RASH_FORMS])[form]
    mild = _bit(_new(truth["rash"], visits) & chance(rng, n, RECORDED), form_bit[visits.patient])
    for key, item in MILD_FROM.items():
        seen = _new(truth[key], visits) & chance(rng, n, RECORDED)
        mild |= _bit(seen, MILD_MANIFESTATIONS.index(item))
    cns = np.logical_or.reduce([truth[key] for key in CNS])
    sources = {
        "cns": cns,
        "vasculitis": truth["vasculitis"],
        "nephritis": renal,
        "myositis": truth["myositis"],
    }
    severe = np.zeros(n, dtype=np.int64)
    for item, flags in sources.items():
        seen = _new(flags, visits) & chance(rng, n, RECORDED)
        severe |= _bit(seen, SEVERE_MANIFESTATIONS.index(item))
    return mild, severe


def _bilag_levels(
    truth: dict[str, Bools], protein: Floats, hematology_a: Bools, gi: Bools
) -> list[Ints]:
    """Per BILAG-2004 domain: 2 (A), 1 (B) or 0, from the active descriptors."""
    renal_any = truth["proteinuria"] | truth["urinary_casts"] | truth["hematuria"]
    renal_a = truth["urinary_casts"] | (protein > NEPHRITIS_G_DAY)
    cns = np.logical_or.reduce([truth[key] for key in CNS if key != "visual_disturbance"])
    skin = truth["rash"] | truth["alopecia"] | truth["mucosal_ulcers"]
    blood = truth["thrombocytopenia"] | truth["leukopenia"]
    level = [
        np.where(cns, 2, 0),
        np.where(truth["vasculitis"], 2, np.where(skin, 1, 0)),
        np.where(truth["myositis"], 2, np.where(truth["arthritis"], 1, 0)),
        np.where(truth["pleurisy"] | truth["pericarditis"], 1, 0),
        np.where(renal_a, 2, np.where(renal_any, 1, 0)),
        np.where(hematology_a, 2, np.where(blood, 1, 0)),
        np.where(truth["fever"], 1, 0),
        np.where(gi, 1, 0),
        np.where(truth["visual_disturbance"], 2, 0),
    ]
    return [domain.astype(np.int64) for domain in level]


def _bilag(
    levels: list[Ints], patients: Patients, sites: Sites, visits: Visits, rng: np.random.Generator
) -> Columns:
    base = visits.baseline
    new_a = sum(((level == 2) & (level[base] < 2)).astype(np.int8) for level in levels)
    new_b = sum(((level == 1) & (level[base] < 1)).astype(np.int8) for level in levels)
    collected = sites.collects_bilag[patients.site[visits.patient]]
    missing = ~collected | (visits.slot == 1) | chance(rng, visits.size, 0.03)
    return {
        "bilag_new_a": integer("bilag_new_a", np.asarray(new_a), missing=missing),
        "bilag_new_b": integer("bilag_new_b", np.asarray(new_b), missing=missing),
    }


def _sfi_columns(
    mild: Ints, severe: Ints, listed: Bools, first: Bools, rng: np.random.Generator
) -> Columns:
    """SFI manifestation lists and the drug, admission and drug-stability flags (§2, §6)."""
    n, any_mild, any_severe = len(first), mild > 0, severe > 0
    added_mild = np.where(any_mild, chance(rng, n, 0.2), chance(rng, n, 0.01))
    added_severe = np.where(any_severe, chance(rng, n, 0.35), chance(rng, n, 0.005))
    admitted = chance(rng, n, np.where(any_severe, 0.3, np.where(any_mild, 0.02, 0.003)))
    stable = ~(added_mild | added_severe) & ~chance(rng, n, 0.06)
    added = {
        "added_nsaid_or_hydroxychloroquine": added_mild,
        "added_cyclophosphamide_azathioprine_methotrexate": added_severe,
        "hospitalized_for_sle": admitted,
    }
    return {
        "new_mild_manifestations": flags_to_lists(
            "new_mild_manifestations", mild, MILD_MANIFESTATIONS, ~listed
        ),
        "new_severe_manifestations": flags_to_lists(
            "new_severe_manifestations", severe, SEVERE_MANIFESTATIONS, ~listed
        ),
        **{name: boolean(name, flags, first) for name, flags in added.items()},
        "other_drugs_stable": boolean(
            "other_drugs_stable", np.where(first, chance(rng, n, 0.85), stable)
        ),
    }


def _lldas_columns(
    new_any: Bools,
    hemolysis: Bools,
    gi: Bools,
    patients: Patients,
    visits: Visits,
    rng: np.random.Generator,
) -> Columns:
    """The clinician's LLDAS inputs beyond SLEDAI (§5)."""
    n, first = visits.size, visits.first
    new_features = np.where(new_any, chance(rng, n, 0.92), chance(rng, n, 0.03))
    investigational = chance(rng, patients.size, INVESTIGATIONAL)[visits.patient]
    return {
        "new_features": boolean("new_features", new_features, first | chance(rng, n, 0.03)),
        "hemolytic_anemia": boolean("hemolytic_anemia", hemolysis, chance(rng, n, 0.02)),
        "gi_activity": boolean("gi_activity", gi, chance(rng, n, 0.02)),
        "investigational_drug": boolean("investigational_drug", investigational),
        "immunosuppressants_tolerated": boolean(
            "immunosuppressants_tolerated", ~chance(rng, n, 0.04)
        ),
    }


def draw_events(
    truth: dict[str, Bools],
    labs: tuple[Floats, Floats, Floats, Bools],
    patients: Patients,
    sites: Sites,
    visits: Visits,
    rng: np.random.Generator,
) -> Events:
    """Event and flag columns of every visit (module docstring).

    ``labs`` = (true proteinuria g/day, platelets, haemoglobin, haemolysis).
    """
    protein, platelets, hemoglobin, hemolysis = labs
    n, first, p = visits.size, visits.first, visits.patient
    gi = chance(rng, patients.size, GI_ACTIVITY)[p] & chance(rng, n, 0.5)
    renal = (protein > NEPHRITIS_G_DAY) | truth["urinary_casts"]
    mild, severe = _manifestations(truth, renal, patients, visits, rng)
    new_any = np.logical_or.reduce([_new(flags, visits) for flags in truth.values()])
    hematology_a = (platelets < 25) | (hemolysis & (hemoglobin < 8))
    listed = ~first & ~chance(rng, n, 0.01)
    levels = _bilag_levels(truth, protein, hematology_a, gi)
    return Events(
        columns={
            **_sfi_columns(mild, severe, listed, first, rng),
            **_lldas_columns(new_any, hemolysis, gi, patients, visits, rng),
            **_bilag(levels, patients, sites, visits, rng),
        },
        severe=(severe > 0) & listed,
    )
