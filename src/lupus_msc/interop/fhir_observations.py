"""Observations: a visit's lab results (LOINC + UCUM, §15) and its scores (SLEDAI-2K with its
descriptors as components, PGA, FACIT-Fatigue; local codes, §15 gives no LOINC for them)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.observation import (
    Observation,
    ObservationComponent,
    ObservationReferenceRange,
)

from lupus_msc.clinical import codes
from lupus_msc.interop.fhir_common import LAB_SYSTEM, SCORE_SYSTEM, local, quantity, reference
from lupus_msc.services.visit_labs import ANALYTES
from lupus_msc.store import models

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
SCORES = {
    "sledai2k": ("sledai-2k-total", "SLEDAI-2K total score"),
    "pga": ("pga", "Physician Global Assessment (0-3)"),
    "facit_f": ("facit-fatigue-total", "FACIT-Fatigue score"),
}
"""Score key in ``Visit.scores`` → local code (the same codes as ``codes.LOCAL_SCORES``)."""


def _category(code: str, display: str) -> list[CodeableConcept]:
    return [local(CATEGORY_SYSTEM, code, display)]


def lab_code(lab: models.LabResult) -> CodeableConcept:
    """The §15 LOINC code of the analyte's concept, else the local lab code."""
    concept = ANALYTES[lab.analyte].concept
    if concept is None:
        return local(LAB_SYSTEM, lab.analyte, lab.analyte)
    loinc = codes.LOINC[concept]
    return local(loinc.system, loinc.code, loinc.display)


def _range(lab: models.LabResult) -> list[ObservationReferenceRange] | None:
    if lab.reference_low is None and lab.reference_high is None:
        return None
    low = None if lab.reference_low is None else quantity(lab.reference_low, lab.unit)
    high = None if lab.reference_high is None else quantity(lab.reference_high, lab.unit)
    return [ObservationReferenceRange(low=low, high=high)]


def lab_observation(lab: models.LabResult, visit: models.Visit) -> Observation:
    """A lab result as reported: the value in its unit (UCUM), the lab's reference range."""
    value: dict[str, Any] = (
        {"valueQuantity": quantity(lab.value, lab.unit)}
        if lab.value is not None
        else {"valueString": lab.text_value}
    )
    return Observation(
        id=str(lab.id),
        status="amended" if lab.superseded else "final",
        category=_category("laboratory", "Laboratory"),
        code=lab_code(lab),
        subject=reference("Patient", visit.patient_id),
        encounter=reference("Encounter", visit.id),
        effectiveDateTime=visit.visit_date,
        referenceRange=_range(lab),
        **value,
    )


def _sledai_components(result: dict[str, Any]) -> list[ObservationComponent]:
    """One component per descriptor that counted, with its weight (§1)."""
    return [
        ObservationComponent(
            code=local(SCORE_SYSTEM, f"sledai-2k-{name}", f"SLEDAI-2K {name}"),
            valueInteger=int(points),
        )
        for name, points in sorted(result.get("contributions", {}).items())
    ]


def _score_value(key: str, result: dict[str, Any]) -> dict[str, Any]:
    if key == "sledai2k":
        components = _sledai_components(result)
        return {"valueInteger": result["total"], "component": components or None}
    value = result["pga"] if key == "pga" else result["score"]
    return {"valueQuantity": quantity(Decimal(str(value)), "{score}")}


def _has_value(key: str, result: Any) -> bool:
    field = {"sledai2k": "total", "pga": "pga", "facit_f": "score"}[key]
    return isinstance(result, dict) and result.get(field) is not None


def score_observations(visit: models.Visit) -> list[Observation]:
    """The visit's SLEDAI-2K, PGA and FACIT-F results that have a value, ids ``<visit>-<key>``.

    SLEDAI-2K is a valueInteger; PGA and FACIT-F are Quantities in the UCUM unit ``{score}``
    (R4 has no valueDecimal, and a prorated FACIT-F score, §13, is fractional).
    """
    return [
        Observation(
            id=f"{visit.id}-{key.replace('_', '-')}",
            status="final",
            category=_category("survey", "Survey"),
            code=local(SCORE_SYSTEM, *SCORES[key]),
            subject=reference("Patient", visit.patient_id),
            encounter=reference("Encounter", visit.id),
            effectiveDateTime=visit.visit_date,
            **_score_value(key, visit.scores[key]),
        )
        for key in SCORES
        if _has_value(key, visit.scores.get(key))
    ]
