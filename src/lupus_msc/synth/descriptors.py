"""SLEDAI-2K descriptors (§1): which are truly active at each visit, and how they are recorded.

Clinical descriptors (and fever, which labs cannot decide alone) are active while the patient's
latent activity exceeds their resolution threshold, or when a flare brings up a new one; they are
recorded as explicit booleans. The descriptors derived from labs (§16.1) are left null so the
batch engine derives them from the lab values — except at sites that record them explicitly, where
a non-lupus cause (infection, menstruation) is excluded by an explicit false, and where a clinician
records a result from an outside laboratory. ``attribution_confirmed`` is given where a lab rule
fires for a descriptor that needs attribution; a share of those stay unconfirmed candidates.
"""

from __future__ import annotations

import numpy as np

from lupus_msc.clinical.sledai2k import DESCRIPTORS
from lupus_msc.synth.activity import Activity
from lupus_msc.synth.arrays import Bools, Columns, boolean, chance, jitter
from lupus_msc.synth.involvement import Involvement
from lupus_msc.synth.schedule import Visits

LAB_DERIVED = (
    "hematuria",
    "proteinuria",
    "pyuria",
    "low_complement",
    "increased_dna_binding",
    "fever",
    "thrombocytopenia",
    "leukopenia",
)
"""Descriptors the batch engine derives from labs when they are not given (§16.1)."""
NEEDS_ATTRIBUTION = tuple(d.key for d in DESCRIPTORS if d.needs_attribution)
EPISODIC = tuple(d.key for d in DESCRIPTORS if d.key not in LAB_DERIVED or d.key == "fever")
"""Descriptors whose activity is drawn here (fever included: its temperature follows it)."""
NOISE = 0.14
"""Half-width of the visit-to-visit scatter of latent activity around a resolution threshold."""
SPORADIC = 0.01
NOT_ASSESSED = 0.003
CONFIRMED = 0.85
"""Share of visits with a fired lab candidate where the clinician confirms lupus attribution."""
OUTSIDE_LAB = 0.3
"""Share of visits with a missing lab where the clinician records the descriptor anyway."""


def episodic_truth(
    involvement: Involvement, activity: Activity, visits: Visits, rng: np.random.Generator
) -> dict[str, Bools]:
    """True activity of the clinical descriptors (and fever) at every visit."""
    p, size = visits.patient, visits.size
    truth: dict[str, Bools] = {}
    for key in EPISODIC:
        driver = activity.renal if key == "urinary_casts" else activity.clinical
        noise = jitter(rng, size, NOISE)
        active = involvement.involved[key][p] & (driver + noise > involvement.threshold[key][p])
        rising = activity.flare + noise > involvement.flare_threshold[key][p]
        active |= involvement.potential[key][p] & rising & (activity.flare > 0)
        active |= chance(rng, size, SPORADIC * involvement.chance_of(key)[p] * driver)
        truth[key] = active
    return truth


def recorded_descriptors(
    truth: dict[str, Bools],
    labs: dict[str, tuple[Bools, Bools, Bools]],
    explicit_site: Bools,
    rng: np.random.Generator,
) -> Columns:
    """The 24 descriptor columns and ``attribution_confirmed`` (module docstring).

    ``labs[key]`` = (lab given, lab rule fires on the recorded value, the rule fires for a
    non-lupus cause, which the clinician excludes with an explicit false).
    """
    size = len(explicit_site)
    columns: Columns = {}
    for key in EPISODIC:
        if key not in LAB_DERIVED:
            columns[key] = boolean(key, truth[key], chance(rng, size, NOT_ASSESSED))
    candidate = np.zeros(size, dtype=np.bool_)
    for key in LAB_DERIVED:
        given, fires, excluded = labs[key]
        outside = ~given & truth[key] & chance(rng, size, OUTSIDE_LAB)
        explicit = (explicit_site & given) | outside | excluded
        columns[key] = boolean(key, truth[key] & ~excluded, ~explicit)
        if key in NEEDS_ATTRIBUTION:
            candidate |= fires & ~explicit
    confirmed = chance(rng, size, CONFIRMED)
    columns["attribution_confirmed"] = boolean("attribution_confirmed", confirmed, ~candidate)
    return columns
