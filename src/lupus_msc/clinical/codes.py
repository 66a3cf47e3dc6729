"""Terminology codes for the concepts the instruments read and write (§15; D20).

Importers look a lab result's concept up here and refuse a code that public material is known to
misuse for it (D20), rather than silently mapping it: a C4 sent as LOINC 4486-7, an eGFR labelled
CKD-EPI 2021 but coded 62238-1 (CKD-EPI 2009), a urine RBC/HPF coded 5808-1 (#/volume), and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LOINC_SYSTEM = "http://loinc.org"
SNOMED_SYSTEM = "http://snomed.info/sct"
LOCAL_SCORE_SYSTEM = "urn:lupus-msc:score"
"""§15: no LOINC code was found for SLEDAI-2K or FACIT-Fatigue totals; a local system is used."""

LabConcept = Literal[
    "c3",
    "c4",
    "anti_dsdna",
    "ana_titer",
    "upcr",
    "urine_protein_24h",
    "creatinine",
    "egfr_ckdepi2021_cr",
    "egfr_ckdepi2021_cr_cys",
    "hemoglobin",
    "platelets",
    "wbc",
    "lymphocytes",
    "neutrophils",
    "esr",
    "crp",
    "urine_rbc_hpf",
    "urine_wbc_hpf",
]


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str


_LOINC_ROWS: tuple[tuple[LabConcept, str, str], ...] = (
    ("c3", "4485-9", "Complement C3 [Mass/volume] in Serum or Plasma"),
    ("c4", "4498-2", "Complement C4 [Mass/volume] in Serum or Plasma"),
    ("anti_dsdna", "5130-0", "DNA double strand Ab [Units/volume] in Serum"),
    ("ana_titer", "5048-4", "Nuclear Ab [Titer] in Serum by Immunofluorescence"),
    ("upcr", "2890-2", "Protein/Creatinine [Mass Ratio] in Urine"),
    ("urine_protein_24h", "2889-4", "Protein [Mass/time] in 24 hour Urine"),
    ("creatinine", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    (
        "egfr_ckdepi2021_cr",
        "98979-8",
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, "
        "Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)",
    ),
    # §15: code partly verified; its display was not retrieved, so none is claimed here.
    ("egfr_ckdepi2021_cr_cys", "98980-6", "eGFR CKD-EPI 2021 (creatinine and cystatin C)"),
    ("hemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood"),
    ("platelets", "777-3", "Platelets [#/volume] in Blood by Automated count"),
    ("wbc", "6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
    ("lymphocytes", "731-0", "Lymphocytes [#/volume] in Blood by Automated count"),
    ("neutrophils", "751-8", "Neutrophils [#/volume] in Blood by Automated count"),
    ("esr", "4537-7", "Erythrocyte sedimentation rate by Westergren method"),
    ("crp", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma"),
    (
        "urine_rbc_hpf",
        "13945-1",
        "Erythrocytes [#/area] in Urine sediment by Microscopy high power field",
    ),
    (
        "urine_wbc_hpf",
        "5821-4",
        "Leukocytes [#/area] in Urine sediment by Microscopy high power field",
    ),
)
LOINC: dict[LabConcept, Code] = {
    concept: Code(LOINC_SYSTEM, code, display) for concept, code, display in _LOINC_ROWS
}

ALSO_ACCEPTED: dict[LabConcept, tuple[str, ...]] = {"esr": ("30341-2",)}
"""§15: the method-less ESR code is verified too."""

KNOWN_MISUSES: dict[tuple[LabConcept, str], str] = {
    ("c4", "4486-7"): "4486-7 is not confirmed as complement C4; C4 is 4498-2",
    ("egfr_ckdepi2021_cr", "62238-1"): "62238-1 is the CKD-EPI 2009 eGFR, not 2021 (98979-8)",
    ("hemoglobin", "4544-3"): "4544-3 is hematocrit; hemoglobin is 718-7",
    ("neutrophils", "770-8"): "770-8 is the neutrophil percentage; the absolute count is 751-8",
    ("urine_rbc_hpf", "5808-1"): "5808-1 counts RBC per volume, not per high-power field",
    ("upcr", "2889-4"): "2889-4 is 24-hour urine protein (mass/time), not the UPCR (2890-2)",
}
"""D20: codes seen misused in public code for these concepts."""

SNOMED: dict[str, Code] = {
    "sle": Code(SNOMED_SYSTEM, "55464009", "Systemic lupus erythematosus (disorder)"),
    "lupus_nephritis": Code(
        SNOMED_SYSTEM,
        "68815009",
        "Systemic lupus erythematosus glomerulonephritis syndrome (disorder)",
    ),
}

LOCAL_SCORES: dict[str, Code] = {
    "sledai2k_total": Code(LOCAL_SCORE_SYSTEM, "sledai-2k-total", "SLEDAI-2K total score"),
    "facit_f_total": Code(LOCAL_SCORE_SYSTEM, "facit-fatigue-total", "FACIT-Fatigue score"),
}


OTHER_KIND_UNITS: dict[LabConcept, frozenset[str]] = {
    "creatinine": frozenset({"umol/L"}),
    "upcr": frozenset({"mg/mmol"}),
}
"""§15: registry units (``services.visit_labs.ANALYTES``) that measure another kind of quantity
than the analyte's LOINC code. 2160-0 is Creatinine [Mass/volume], and µmol/L is substance per
volume; 2890-2 is Protein/Creatinine [Mass Ratio], "mass ratio only" (§15), and mg/mmol is
mass per substance. §15 verifies no code for either unit, so such a result carries no LOINC."""


def loinc_fits(concept: LabConcept, unit: str) -> bool:
    """Whether a result of ``concept`` in ``unit`` may carry the concept's LOINC code (§15)."""
    return unit not in OTHER_KIND_UNITS.get(concept, frozenset())


class CodeMismatch(ValueError):
    """A code that does not identify the concept it was sent for."""


ABSOLUTE_COUNTS: frozenset[LabConcept] = frozenset({"lymphocytes", "neutrophils"})
"""D20: 731-0 and 751-8 are absolute counts, seen misused for percentages."""


def check_loinc(concept: LabConcept, code: str, unit: str | None = None) -> Code:
    """The §15 code for ``concept`` if ``code`` is an accepted LOINC for it; else CodeMismatch.

    A known misuse (D20) is refused with the reason, so an importer can tell the sender; so is a
    percentage sent under an absolute-count code, and a unit of another kind than the code's
    (``OTHER_KIND_UNITS``).
    """
    expected = LOINC[concept]
    if code == expected.code or code in ALSO_ACCEPTED.get(concept, ()):
        if concept in ABSOLUTE_COUNTS and unit == "%":
            raise CodeMismatch(
                f"LOINC {code} refused for a percentage: it is the absolute {concept} count"
            )
        if unit is not None and not loinc_fits(concept, unit):
            raise CodeMismatch(
                f"LOINC {code} refused for a result in {unit}: it is {expected.display} (§15); "
                "send the registry's lab code instead"
            )
        return expected
    reason = KNOWN_MISUSES.get((concept, code), f"{concept} is LOINC {expected.code}")
    raise CodeMismatch(f"LOINC {code} refused for {concept}: {reason}")
