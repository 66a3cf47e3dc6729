"""Which SLEDAI-2K descriptors (§1) each patient has at baseline, and how each resolves.

Every patient draws a baseline set of active descriptors from a profile: refractory extra-renal
SLE for most types, lupus nephritis for the renal types, milder steroid-dependent disease for the
steroid-taper type; at least 6 points, the usual inclusion threshold of MSC trials (Farge 2025:
SELENA-SLEDAI ≥ 6). Each involved descriptor gets a resolution threshold: it stays active while
the latent activity exceeds the threshold, so the same manifestations persist or return, as in
real follow-up. Some descriptors absent at baseline may appear during a flare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.clinical.sledai2k import WEIGHTS
from lupus_msc.synth.arrays import Bools, Floats, Ints, chance, uniform
from lupus_msc.synth.cohort import TAPER, Patients

PROFILES: dict[str, tuple[float, float, float]] = {
    "seizure": (0.015, 0.01, 0.005),
    "psychosis": (0.01, 0.01, 0.005),
    "organic_brain_syndrome": (0.01, 0.01, 0.0),
    "visual_disturbance": (0.01, 0.01, 0.0),
    "cranial_nerve_disorder": (0.015, 0.01, 0.005),
    "lupus_headache": (0.03, 0.02, 0.01),
    "cva": (0.008, 0.008, 0.0),
    "vasculitis": (0.10, 0.06, 0.04),
    "arthritis": (0.62, 0.35, 0.55),
    "myositis": (0.05, 0.03, 0.02),
    "urinary_casts": (0.03, 0.40, 0.01),
    "hematuria": (0.06, 0.70, 0.03),
    "proteinuria": (0.05, 1.0, 0.02),
    "pyuria": (0.04, 0.45, 0.02),
    "rash": (0.58, 0.35, 0.45),
    "alopecia": (0.42, 0.30, 0.35),
    "mucosal_ulcers": (0.36, 0.20, 0.30),
    "pleurisy": (0.12, 0.08, 0.06),
    "pericarditis": (0.08, 0.06, 0.04),
    "low_complement": (0.72, 0.85, 0.55),
    "increased_dna_binding": (0.76, 0.85, 0.60),
    "fever": (0.12, 0.10, 0.05),
    "thrombocytopenia": (0.14, 0.12, 0.08),
    "leukopenia": (0.20, 0.15, 0.12),
}
"""Baseline share of patients with each descriptor: (extra-renal, nephritis, steroid-taper)."""
GENERAL, NEPHRITIS, MILD = range(3)
INCLUSION_SLEDAI = 6
FLARE_POTENTIAL = 0.5
"""A descriptor absent at baseline may appear in a flare with this share of its profile chance."""


@dataclass(frozen=True)
class Involvement:
    """Per patient and descriptor: involved at baseline, resolution threshold, flare potential."""

    profile: Ints
    involved: dict[str, Bools]
    threshold: dict[str, Floats]
    potential: dict[str, Bools]
    flare_threshold: dict[str, Floats]

    def chance_of(self, key: str) -> Floats:
        """The profile chance of ``key`` for each patient."""
        table = np.array(PROFILES[key])
        chances: Floats = table[self.profile]
        return chances


def profile_of(patients: Patients) -> Ints:
    """Profile of each patient: nephritis, mild (steroid taper) or extra-renal."""
    profile: Ints = np.where(
        patients.renal(), NEPHRITIS, np.where(patients.of(TAPER), MILD, GENERAL)
    )
    return profile


def draw_involvement(patients: Patients, rng: np.random.Generator) -> Involvement:
    """Baseline descriptors and resolution thresholds (module docstring)."""
    profile = profile_of(patients)
    size = patients.size
    involved = {key: chance(rng, size, np.array(p)[profile]) for key, p in PROFILES.items()}
    points = sum(WEIGHTS[key] * flags.astype(np.int64) for key, flags in involved.items())
    short = points < INCLUSION_SLEDAI
    involved["arthritis"] = involved["arthritis"] | short
    involved["rash"] = involved["rash"] | short
    potential = {
        key: ~flags & chance(rng, size, FLARE_POTENTIAL * np.array(PROFILES[key])[profile])
        for key, flags in involved.items()
    }
    return Involvement(
        profile=profile,
        involved=involved,
        threshold={key: uniform(rng, 0.05, 1.0, size) for key in PROFILES},
        potential=potential,
        flare_threshold={key: uniform(rng, 0.3, 1.0, size) for key in PROFILES},
    )
