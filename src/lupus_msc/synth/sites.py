"""What differs between sites: laboratory reference limits and how each site records a visit.

Each site's laboratory has its own reference limits (the LLN/ULN columns of the visit table, which
the SLEDAI-2K low-complement and anti-dsDNA rules and the CTCAE grades read, §1, §12). Sites also
differ in habits: some collect BILAG-2004 (for SRI, §4), some record the lab-derived SLEDAI
descriptors explicitly instead of leaving them to be derived from the labs (§16.1), and their
preferred oral glucocorticoid differs (§11).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lupus_msc.synth.arrays import Bools, Floats, Ints

REFERENCE_CHOICES: dict[str, tuple[float, ...]] = {
    "platelets_lln_10e9_l": (150, 140, 150, 130),
    "wbc_lln_10e9_l": (4.0, 3.5, 4.5, 3.8),
    "neutrophils_lln_10e9_l": (1.8, 2.0, 1.5, 1.7),
    "lymphocytes_lln_10e9_l": (1.0, 1.1, 0.9, 1.2),
    "hemoglobin_lln_female": (12.0, 11.5, 12.0, 11.8),
    "hemoglobin_lln_male": (13.0, 13.5, 13.2, 13.0),
    "c3_lln_g_l": (0.90, 0.83, 0.75, 0.88),
    "c4_lln_g_l": (0.10, 0.12, 0.16, 0.14),
    "anti_dsdna_uln_iu_ml": (30.0, 15.0, 100.0, 10.0),
    "creatinine_uln_female": (1.02, 1.10, 0.95, 1.04),
    "creatinine_uln_male": (1.20, 1.30, 1.17, 1.25),
    "alt_uln_u_l": (33, 40, 55, 35),
    "ast_uln_u_l": (32, 40, 35, 34),
}
"""Reference limits in use at real laboratories; each site draws one of each."""
COLLECTS_BILAG = 0.6
EXPLICIT_LAB_DESCRIPTORS = 0.2
MAIN_DRUG_SHARES = (0.5, 0.35, 0.15)
"""Sites whose usual oral glucocorticoid is prednisone, prednisolone, methylprednisolone."""


@dataclass(frozen=True)
class Sites:
    """One value per site."""

    references: dict[str, Floats]
    collects_bilag: Bools
    explicit_lab_descriptors: Bools
    main_drug: Ints
    """0 prednisone, 1 prednisolone, 2 methylprednisolone."""


def draw_sites(count: int, rng: np.random.Generator) -> Sites:
    """Reference limits and habits of ``count`` sites."""
    references = {
        name: np.array(options, dtype=np.float64)[rng.integers(0, len(options), count)]
        for name, options in REFERENCE_CHOICES.items()
    }
    return Sites(
        references=references,
        collects_bilag=rng.random(count) < COLLECTS_BILAG,
        explicit_lab_descriptors=rng.random(count) < EXPLICIT_LAB_DESCRIPTORS,
        main_drug=rng.choice(3, size=count, p=np.array(MAIN_DRUG_SHARES)),
    )
