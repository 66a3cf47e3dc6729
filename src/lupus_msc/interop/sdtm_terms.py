"""The coded values of the SDTM-style domains: registry value → SDTM term (issue 8, CDISC).

One table per controlled variable, used both by the builders (``sdtm``, ``sdtm_findings``) and
by the metadata (``sdtm_metadata`` lists each codelist's terms from these same tables, so the
define file and the ODM ``CodeList`` elements cannot drift from the data).

Submission values are written from knowledge of CDISC Controlled Terminology (codelists ROUTE,
OUT, NY, SEX, FREQ, UNIT, SPECTYPE, VSTESTCD, the SDTMIG QS/RS conventions); they were not
checked against a CT release here: treat them as unverified. Test codes of the project's own
scales follow SDTM's form (at most 8 characters, a letter first).
"""

from __future__ import annotations

from lupus_msc.clinical.facit_f import ITEMS as FACIT_ITEMS
from lupus_msc.clinical.sledai2k import DESCRIPTORS

ROUTES = {
    "intravenous": "INTRAVENOUS",
    "renal-artery": "INTRA-ARTERIAL",
    "local-injection": "INTRALESIONAL",
    "oral": "ORAL",
    "subcutaneous": "SUBCUTANEOUS",
    "intramuscular": "INTRAMUSCULAR",
    "intra-articular": "INTRA-ARTICULAR",
    "topical": "TOPICAL",
    "inhaled": "RESPIRATORY (INHALATION)",
    "rectal": "RECTAL",
    "other": "OTHER",
}
"""Infusion routes (EX) and medication routes (``services.visit_prednisone.Route``, CM)."""

OUTCOMES = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not-recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered-with-sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
RELATEDNESS = ("NOT RELATED", "UNLIKELY", "POSSIBLE", "PROBABLE", "DEFINITE")

FREQUENCIES = {
    "once-daily": "QD",
    "twice-daily": "BID",
    "three-times-daily": "TID",
    "four-times-daily": "QID",
    "every-other-day": "QOD",
    "weekly": "EVERY WEEK",
    "every-2-weeks": "EVERY 2 WEEKS",
    "every-4-weeks": "EVERY 4 WEEKS",
    "monthly": "QM",
    "as-needed": "PRN",
}
"""``services.visit_prednisone.Frequency`` → CDISC CT FREQ."""

DOSE_UNITS = {
    "mg": "mg",
    "g": "g",
    "ug": "ug",
    "mg/kg": "mg/kg",
    "mg/m2": "mg/m2",
    "IU": "IU",
    "mL": "mL",
    "tablet": "TABLET",
}
"""``services.visit_prednisone.DoseUnit`` → CDISC CT UNIT."""

GLUCOCORTICOID = "SYSTEMIC GLUCOCORTICOID"
"""``CMCAT`` of a medication the registry converted to prednisone-equivalent mg/day (§11)."""

LAB_TESTS: dict[str, tuple[str, str, str]] = {
    "c3": ("C3", "Complement C3", "SERUM"),
    "c4": ("C4", "Complement C4", "SERUM"),
    "anti_dsdna": ("DSDNAAB", "Double-Stranded DNA Antibody", "SERUM"),
    "hemoglobin": ("HGB", "Hemoglobin", "BLOOD"),
    "wbc": ("WBC", "Leukocytes", "BLOOD"),
    "lymphocytes": ("LYM", "Lymphocytes", "BLOOD"),
    "neutrophils": ("NEUT", "Neutrophils", "BLOOD"),
    "platelets": ("PLAT", "Platelets", "BLOOD"),
    "creatinine": ("CREAT", "Creatinine", "SERUM"),
    "cystatin_c": ("CYSTC", "Cystatin C", "SERUM"),
    "upcr": ("PROTCRT", "Protein/Creatinine", "URINE"),
    "urine_protein_24h": ("PROT", "Protein", "URINE"),
    "urine_rbc_hpf": ("RBC", "Erythrocytes", "URINE"),
    "urine_wbc_hpf": ("WBC", "Leukocytes", "URINE"),
    "crp": ("CRP", "C Reactive Protein", "SERUM"),
    "esr": ("ESR", "Erythrocyte Sedimentation Rate", "BLOOD"),
    "cd4": ("CD4", "CD4 Cells", "BLOOD"),
    "cd8": ("CD8", "CD8 Cells", "BLOOD"),
    "cd19": ("CD19", "CD19 Cells", "BLOOD"),
    "treg_pct": ("TREGCD4", "Regulatory T Cells/CD4 Cells", "BLOOD"),
}
"""Analyte → (LBTESTCD, LBTEST, LBSPEC). Urine and blood leukocytes share ``WBC`` and are told
apart by ``LBSPEC``, as SDTM does."""

VITAL_SIGNS: dict[str, tuple[str, str, str]] = {
    "weight_kg": ("WEIGHT", "Weight", "kg"),
    "systolic_mmhg": ("SYSBP", "Systolic Blood Pressure", "mmHg"),
    "diastolic_mmhg": ("DIABP", "Diastolic Blood Pressure", "mmHg"),
    "heart_rate_bpm": ("HR", "Heart Rate", "beats/min"),
    "temperature_c": ("TEMP", "Temperature", "C"),
    "respiratory_rate_min": ("RESP", "Respiratory Rate", "breaths/min"),
    "spo2_pct": ("OXYSAT", "Oxygen Saturation", "%"),
}
"""``services.visit_findings.Vitals`` field → (VSTESTCD, VSTEST, unit). The registry records each
in this one unit, so original and standard units are the same."""
INFUSION_VITALS: dict[str, str] = {
    "systolic_mmhg": "systolic_mmhg",
    "diastolic_mmhg": "diastolic_mmhg",
    "heart_rate_bpm": "heart_rate_bpm",
    "temperature_c": "temperature_c",
    "spo2_pct": "spo2_pct",
    "respiratory_rate": "respiratory_rate_min",
}
"""``services.infusions.Vitals`` field → its ``VITAL_SIGNS`` key (same measurement, same unit)."""
INFUSION_TIME_POINTS = ("PRE-INFUSION", "POST-INFUSION")
"""``VSTPT`` of the vitals taken before and after an infusion, ``VSTPTNUM`` 1 and 2."""

FACIT_CATEGORY = "FACIT-F"
FACIT_TOTAL = ("FACITTOT", "FACIT-Fatigue Total Score")
FACIT_TESTS: dict[str, str] = {item: f"FACIT-F Item {item}" for item in FACIT_ITEMS}
"""§13 item code → QSTEST. ``QSTESTCD`` is the §13 item code itself (HI7 … An16); the item
wording is licensed by FACIT.org and is not exported (§13)."""
FACIT_NOT_ANSWERED = frozenset({8, 9})
"""§13 step 1: responses 8 and 9 are missing."""

SLEDAI_CATEGORY = "SLEDAI-2K"
SLEDAI_TOTAL = ("SLEDTOT", "SLEDAI-2K Total Score")
SLEDAI_TESTS: dict[str, tuple[str, str]] = {
    d.key: (f"SLED{d.number:02d}", f"SLEDAI-2K {d.key.replace('_', ' ').capitalize()}")
    for d in DESCRIPTORS
}
"""§1 descriptor → (RSTESTCD ``SLED01``…``SLED24`` in §1 table order, RSTEST)."""
PGA_CATEGORY = "PGA"
PGA_TEST = ("PGA", "Physician Global Assessment")

NOT_DONE = "NOT DONE"
