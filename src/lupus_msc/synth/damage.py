"""SLICC/ACR damage items (§8): cumulative, so an item once scored stays scored.

Each patient starts with the damage of some years of lupus (prevalences per item; SDI 0–1 in most
patients) and accrues new items at small yearly rates: steroid-related items (cataract,
osteoporotic fracture, avascular necrosis, diabetes) faster on higher doses, renal items in
nephritis non-responders, who may reach end-stage renal disease. Items marked "2 if > 1" can
happen twice and are recorded as counts. Damage is assessed at baseline and every 6 months.
"""

from __future__ import annotations

import numpy as np

from lupus_msc.clinical.sdi import ITEMS
from lupus_msc.synth.arrays import Columns, Floats, chance, integer
from lupus_msc.synth.cohort import RENAL_NON_RESPONDER, Patients
from lupus_msc.synth.schedule import Visits

PREVALENCE: dict[str, float] = {
    "cataract": 0.05,
    "retinal_change_or_optic_atrophy": 0.01,
    "cognitive_impairment_or_psychosis": 0.02,
    "seizures_6_months": 0.01,
    "cerebrovascular_accident": 0.015,
    "neuropathy": 0.02,
    "transverse_myelitis": 0.003,
    "gfr_below_50_percent": 0.01,
    "proteinuria_3_5_g": 0.005,
    "end_stage_renal_disease": 0.0,
    "pulmonary_hypertension": 0.01,
    "pulmonary_fibrosis": 0.01,
    "shrinking_lung": 0.005,
    "pleural_fibrosis": 0.01,
    "pulmonary_infarction": 0.005,
    "angina_or_bypass": 0.01,
    "myocardial_infarction": 0.01,
    "cardiomyopathy": 0.01,
    "valvular_disease": 0.02,
    "pericarditis_6_months_or_pericardiectomy": 0.005,
    "claudication_6_months": 0.005,
    "minor_tissue_loss": 0.01,
    "significant_tissue_loss": 0.005,
    "venous_thrombosis": 0.03,
    "bowel_infarction_or_resection": 0.01,
    "mesenteric_insufficiency": 0.002,
    "chronic_peritonitis": 0.002,
    "upper_gi_stricture_or_surgery": 0.005,
    "pancreatic_insufficiency": 0.002,
    "muscle_atrophy_or_weakness": 0.02,
    "deforming_or_erosive_arthritis": 0.04,
    "osteoporosis_with_fracture": 0.04,
    "avascular_necrosis": 0.05,
    "osteomyelitis": 0.003,
    "ruptured_tendon": 0.005,
    "scarring_chronic_alopecia": 0.05,
    "extensive_scarring": 0.02,
    "skin_ulceration_6_months": 0.01,
    "premature_gonadal_failure": 0.03,
    "diabetes": 0.03,
    "malignancy": 0.01,
}
"""Share of patients with each item at baseline."""
YEARLY_RATE_SHARE = 0.12
"""New damage per year, as a share of the baseline prevalence (at least 0.0003/year)."""
STEROID_RELATED = frozenset(
    {"cataract", "osteoporosis_with_fracture", "avascular_necrosis", "diabetes"}
)
RENAL_RATES = {
    "gfr_below_50_percent": 0.03,
    "proteinuria_3_5_g": 0.03,
    "end_stage_renal_disease": 0.01,
}
"""Yearly rates in nephritis non-responders."""
RENAL_BASELINE = {"gfr_below_50_percent": 0.05, "proteinuria_3_5_g": 0.06}
"""Baseline prevalence in nephritis patients."""
ASSESSED_EVERY_MONTHS = 6
NOT_ASSESSED = 0.03


def _rates(patients: Patients, key: str, start_dose: Floats) -> tuple[Floats, Floats]:
    """(baseline prevalence, yearly rate) of ``key`` for each patient."""
    prevalence = np.full(patients.size, PREVALENCE[key])
    rate = np.full(patients.size, max(PREVALENCE[key] * YEARLY_RATE_SHARE, 0.0003))
    if key in STEROID_RELATED:
        rate = rate * (1 + start_dose / 15)
    if key in RENAL_BASELINE:
        prevalence = np.where(patients.renal(), RENAL_BASELINE[key], prevalence)
    if key in RENAL_RATES:
        rate = np.where(patients.of(RENAL_NON_RESPONDER), RENAL_RATES[key], rate)
    return prevalence, rate


def onsets(patients: Patients, start_dose: Floats, rng: np.random.Generator) -> dict[str, Floats]:
    """Day of each item's first event per patient (≤ 0: present at baseline; often far beyond
    the follow-up, i.e. never seen)."""
    found: dict[str, Floats] = {}
    for item in ITEMS:
        prevalence, rate = _rates(patients, item.key, start_dose)
        later = rng.exponential(365.25, patients.size) / rate
        found[item.key] = np.where(chance(rng, patients.size, prevalence), -1.0, later)
    esrd = found["end_stage_renal_disease"]
    found["gfr_below_50_percent"] = np.minimum(found["gfr_below_50_percent"], esrd)
    return found


def draw_damage(
    first_event: dict[str, Floats], patients: Patients, visits: Visits, rng: np.random.Generator
) -> Columns:
    """The 41 ``sdi_<key>`` columns of every visit (module docstring)."""
    p, day = visits.patient, visits.day
    due = (visits.month % ASSESSED_EVERY_MONTHS == 0) & (visits.month == np.round(visits.month))
    missing = ~due | chance(rng, visits.size, NOT_ASSESSED)
    columns: Columns = {}
    for item in ITEMS:
        onset = first_event[item.key]
        count = (day >= onset[p]).astype(np.int8)
        if item.repeatable:
            again = onset + rng.exponential(365.25, patients.size) / max(
                PREVALENCE[item.key] * YEARLY_RATE_SHARE * 4, 0.01
            )
            count += (day >= again[p]).astype(np.int8)
        name = f"sdi_{item.key}"
        columns[name] = integer(name, count, missing=missing)
    return columns
