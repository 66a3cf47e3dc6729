"""Observations: a visit's lab results (LOINC + UCUM, §15) and its scores (SLEDAI-2K with its
descriptors as components, PGA, FACIT-Fatigue with its items as components; local codes, §15
gives no LOINC for them).

``*_draft`` functions build ``fhir_common.Draft``s (the bulk export's form); the others return
validated R4B models."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from fhir.resources.R4B.observation import (
    Observation,
    ObservationComponent,
    ObservationReferenceRange,
)

from lupus_msc.clinical import codes, facit_f
from lupus_msc.interop.fhir_common import (
    CACHED,
    LAB_SYSTEM,
    SCORE_SYSTEM,
    Draft,
    Part,
    built,
    date,
    local,
    quantity,
    reference,
    undisplayed,
)
from lupus_msc.services.visit_labs import ANALYTES
from lupus_msc.store import models

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
SCORES = {
    "sledai2k": ("sledai-2k-total", "SLEDAI-2K total score"),
    "pga": ("pga", "Physician Global Assessment (0-3)"),
    "facit_f": ("facit-fatigue-total", "FACIT-Fatigue score"),
}
"""Score key in ``Visit.scores`` → local code (the same codes as ``codes.LOCAL_SCORES``)."""


CATEGORIES = {"laboratory": "Laboratory", "survey": "Survey"}
"""The observation-category codes used, with their displays."""


def _of_visit(
    visit: models.Visit,
    resource_id: str,
    category: str,
    code: Part,
    status: str = "final",
    **value: Any,
) -> Draft:
    """An Observation of the visit's patient, encounter and day."""
    return Draft(
        Observation,
        id=resource_id,
        status=status,
        category=[local(CATEGORY_SYSTEM, category, CATEGORIES[category])],
        code=code,
        subject=reference("Patient", visit.patient_id),
        encounter=reference("Encounter", visit.id),
        effectiveDateTime=date(visit.visit_date),
        **value,
    )


def lab_code(lab: models.LabResult) -> Part:
    """The §15 LOINC code of the analyte's concept, else the local lab code: for an analyte
    without one, and for a result in a unit of another kind than the code's (creatinine in
    µmol/L, UPCR in mg/mmol: ``codes.OTHER_KIND_UNITS``), sent as reported."""
    concept = ANALYTES[lab.analyte].concept
    if concept is None or not codes.loinc_fits(concept, lab.unit):
        return local(LAB_SYSTEM, lab.analyte, lab.analyte)
    loinc = codes.LOINC[concept]
    return local(loinc.system, loinc.code, loinc.display)


@lru_cache(maxsize=CACHED)
def _range_part(low: str | None, high: str | None, unit: str) -> Part:
    return Part(
        ObservationReferenceRange(
            low=None if low is None else quantity(Decimal(low), unit).model,
            high=None if high is None else quantity(Decimal(high), unit).model,
        )
    )


def _range(lab: models.LabResult) -> list[Part] | None:
    """The lab's reference range: a Part shared by the analyte's results, cached by the
    limits' spelling as ``quantity`` is (30 and 30.0 are equal Decimals, not equal JSON)."""
    low, high = lab.reference_low, lab.reference_high
    if low is None and high is None:
        return None
    return [
        _range_part(
            None if low is None else str(low), None if high is None else str(high), lab.unit
        )
    ]


def lab_observation_draft(
    lab: models.LabResult, visit: models.Visit, *, amended: bool = False
) -> Draft:
    """A current lab result as reported: the value in its unit (UCUM), the lab's reference
    range. ``amended`` when it replaced an earlier result of the visit: FHIR R4's
    observation-status ``amended``, "subsequent to being final, the content has been modified"."""
    value: dict[str, Any] = (
        {"valueQuantity": quantity(lab.value, lab.unit)}
        if lab.value is not None
        else {"valueString": lab.text_value}
    )
    return _of_visit(
        visit,
        str(lab.id),
        "laboratory",
        lab_code(lab),
        status="amended" if amended else "final",
        referenceRange=_range(lab),
        **value,
    )


def lab_observation(
    lab: models.LabResult, visit: models.Visit, *, amended: bool = False
) -> Observation:
    return built(Observation, lab_observation_draft(lab, visit, amended=amended))


@lru_cache(maxsize=CACHED)
def _component(name: str, points: int) -> Part:
    code = local(SCORE_SYSTEM, f"sledai-2k-{name}", f"SLEDAI-2K {name}")
    return Part(ObservationComponent(code=code.model, valueInteger=points))


def _sledai_components(result: dict[str, Any]) -> list[Part]:
    """One component per descriptor that counted, with its weight (§1)."""
    return [
        _component(name, int(points))
        for name, points in sorted(result.get("contributions", {}).items())
    ]


@lru_cache(maxsize=CACHED)
def _facit_item(item: str, answer: int) -> Part:
    display = f"FACIT-Fatigue item {item} response (0-4 as answered, not reversed)"
    code = local(SCORE_SYSTEM, f"facit-fatigue-{item}", display)
    return Part(ObservationComponent(code=code.model, valueInteger=answer))


def _facit_components(visit: models.Visit) -> list[Part]:
    """One component per answered item (§13 codes, questionnaire order), the answer 0–4 as
    given, before any reversal (the display says so: summed as they are, 11 of the 13 items
    read "higher = more fatigue", D17); 8, 9 and blanks are not answers (§13 step 1), left out.
    The items' wording is licensed (§13): the codes only."""
    answers = (visit.findings or {}).get("facit_f") or {}
    answered = facit_f.item_scores(facit_f.FacitResponses.model_validate(answers))
    return [_facit_item(item, answers[item]) for item in answered]


def _score_value(key: str, visit: models.Visit) -> dict[str, Any]:
    result = visit.scores[key]
    if key == "sledai2k":
        components = _sledai_components(result)
        return {"valueInteger": result["total"], "component": components or None}
    value = result["pga"] if key == "pga" else result["score"]
    facit = _facit_components(visit) if key == "facit_f" else []
    return {"valueQuantity": quantity(Decimal(str(value)), "{score}"), "component": facit or None}


def _has_value(key: str, result: Any) -> bool:
    field = {"sledai2k": "total", "pga": "pga", "facit_f": "score"}[key]
    return isinstance(result, dict) and result.get(field) is not None


def score_drafts(visit: models.Visit) -> list[Draft]:
    """The visit's SLEDAI-2K, PGA and FACIT-F results that have a value, ids ``<visit>-<key>``.

    SLEDAI-2K is a valueInteger with a component per descriptor that counted; PGA and FACIT-F
    are Quantities in the UCUM unit ``{score}`` (R4 has no valueDecimal, and a prorated FACIT-F
    score, §13, is fractional); FACIT-F has a component per answered item.
    """
    return [
        _of_visit(
            visit,
            f"{visit.id}-{key.replace('_', '-')}",
            "survey",
            local(SCORE_SYSTEM, *SCORES[key]),
            **_score_value(key, visit),
        )
        for key in SCORES
        if _has_value(key, visit.scores.get(key))
    ]


EGFR_UNIT = "mL/min/1.73m2"
EGFR_RESULTS: tuple[tuple[str, codes.LabConcept, str], ...] = (
    ("egfr_cr", "egfr_ckdepi2021_cr", "egfr-cr"),
    ("egfr_cr_cys", "egfr_ckdepi2021_cr_cys", "egfr-cr-cys"),
)
"""Field of the visit's §9 result → its §15 concept → the Observation id's suffix."""


def _egfr_code(concept: codes.LabConcept) -> Part:
    code = codes.LOINC[concept]
    if concept == "egfr_ckdepi2021_cr_cys":  # §15: its display was not retrieved
        return undisplayed(code, code.display)
    return local(code.system, code.code, code.display)


def egfr_drafts(visit: models.Visit, *, amended: bool = False) -> list[Draft]:
    """The visit's eGFR (CKD-EPI 2021, §9) as the registry computed it from the visit's
    creatinine (and cystatin C), ids ``<visit>-egfr-cr`` and ``<visit>-egfr-cr-cys``: LOINC
    98979-8 and 98980-6 (§15), in mL/min/1.73 m² (UCUM ``mL/min/{1.73_m2}``), at the full
    precision stored (§9: "store full precision; display rounded to integer"; an exchange is
    not a display, and rounding first could move a value across a KDIGO category limit).
    ``amended`` when a result it was computed from replaced an earlier one."""
    result = (visit.scores or {}).get("egfr")
    if not isinstance(result, dict):
        return []
    return [
        _of_visit(
            visit,
            f"{visit.id}-{suffix}",
            "laboratory",
            _egfr_code(concept),
            status="amended" if amended else "final",
            valueQuantity=quantity(Decimal(str(result[field])), EGFR_UNIT),
        )
        for field, concept, suffix in EGFR_RESULTS
        if result.get(field) is not None
    ]


def egfr_observations(visit: models.Visit, *, amended: bool = False) -> list[Observation]:
    return [built(Observation, draft) for draft in egfr_drafts(visit, amended=amended)]


def score_observations(visit: models.Visit) -> list[Observation]:
    return [built(Observation, draft) for draft in score_drafts(visit)]
