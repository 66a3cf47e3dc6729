"""A visit's derived scores, recomputed from its recorded items on every write (DESIGN.md,
"Derived values are recomputed from stored inputs on every write path").

Each score comes from its instrument (``scoring.registry``): SLEDAI-2K (§1, §16.1) with its lab
inputs taken from the visit's labs and temperature, FACIT-F (§13), SDI (§8), eGFR CKD-EPI 2021
(§9) from creatinine (and cystatin C) with the patient's age and sex, the prednisone-equivalent
dose on the visit date from the patient's medications (§11), and the PGA category (§3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc import __version__
from lupus_msc.clinical.pga import pga_category
from lupus_msc.scoring.jsonio import validation_problems
from lupus_msc.scoring.registry import get_instrument
from lupus_msc.services import visit_labs, visit_prednisone
from lupus_msc.services.errors import Invalid, invalid
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.services.visit_labs import LabIn
from lupus_msc.store.models import LabResult, Patient, Visit

ADULT_AGE = (18, 120)
"""§9, §16.0: the CKD-EPI 2021 equations are for adults aged 18–120."""

SLEDAI_LABS = {
    "urine_rbc_hpf": "urine_rbc_hpf",
    "urine_wbc_hpf": "urine_wbc_hpf",
    "urine_protein_24h": "proteinuria_g_24h",
    "upcr": "upcr_g_g",
    "platelets": "platelets_10e9_l",
    "wbc": "wbc_10e9_l",
    "c3": "c3_g_l",
    "c4": "c4_g_l",
    "anti_dsdna": "anti_dsdna_iu_ml",
}
"""Visit analyte → §16.1 ``labs`` field (values in the analyte's canonical unit)."""
SLEDAI_LIMITS = {
    ("c3", "low"): "c3_lln_g_l",
    ("c4", "low"): "c4_lln_g_l",
    ("anti_dsdna", "high"): "anti_dsdna_uln_iu_ml",
}
"""§16.1: complement counts with its lab's LLN, anti-dsDNA with its lab's ULN."""


@dataclass(frozen=True)
class Measured:
    """One lab result as reported and in its analyte's canonical unit."""

    analyte: str
    value: Decimal
    unit: str
    canonical: Decimal
    low: Decimal | None
    high: Decimal | None


def measured_in(lab: LabIn) -> Measured:
    analyte = visit_labs.ANALYTES[lab.analyte]
    low, high = lab.reference_low, lab.reference_high
    return Measured(
        lab.analyte,
        lab.value,
        lab.unit,
        analyte.canonical(lab.value, lab.unit),
        None if low is None else analyte.canonical(low, lab.unit),
        None if high is None else analyte.canonical(high, lab.unit),
    )


def measured_stored(result: LabResult) -> Measured | None:
    value = visit_labs.canonical(result)
    if value is None or result.value is None:
        return None
    return Measured(
        result.analyte,
        result.value,
        result.unit,
        value,
        visit_labs.canonical_reference(result, "low"),
        visit_labs.canonical_reference(result, "high"),
    )


def sledai_labs(labs: dict[str, Measured], temperature: Decimal | None) -> dict[str, Decimal]:
    """The §16.1 ``labs`` object from the visit's labs and temperature."""
    found = {SLEDAI_LABS[key]: lab.canonical for key, lab in labs.items() if key in SLEDAI_LABS}
    for (key, which), field in SLEDAI_LIMITS.items():
        limit = getattr(labs[key], which) if key in labs else None
        if limit is not None:
            found[field] = limit
    if temperature is not None:
        found["temperature_c"] = temperature
    return found


def _merged_labs(given: dict[str, Any], derived: dict[str, Decimal]) -> dict[str, Any]:
    """Labs written into the SLEDAI-2K input must agree with the visit's own results."""
    for key, value in given.items():
        if key in derived and Decimal(value) != derived[key]:
            raise invalid(
                f"sledai2k.labs.{key}",
                f"is {value} but the visit's results give {derived[key]}; record it once",
            )
    return {**derived, **given}


def sledai_input(data: VisitIn, labs: dict[str, Measured]) -> dict[str, Any] | None:
    """The §16.1 input: the recorded descriptors, the clinician's overrides, the labs."""
    if data.sledai2k is None:
        if data.sledai2k_overrides:
            raise invalid("sledai2k_overrides", "needs the sledai2k assessment they override")
        return None
    given = data.sledai2k.model_dump(exclude_none=True)
    temperature = data.vitals.temperature_c if data.vitals else None
    merged = _merged_labs(given.pop("labs", {}), sledai_labs(labs, temperature))
    for key, override in data.sledai2k_overrides.items():
        if key in given:
            raise invalid(
                f"sledai2k_overrides.{key}", "is also given in sledai2k; record it in one place"
            )
        given[key] = override.present
    return {**given, "labs": merged} if merged else given


def _scored(name: str, given: dict[str, Any], field: str) -> dict[str, Any]:
    instrument = get_instrument(name)
    try:
        result = instrument.score(instrument.input_model.model_validate(given))
    except ValidationError as error:
        problems = validation_problems(error, field)
        raise Invalid(f"{field}: {problems[0][1]}", problems) from error
    dumped: dict[str, Any] = result.model_dump()
    return dumped


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def egfr(patient: Patient, day: dt.date, labs: dict[str, Measured]) -> dict[str, Any] | None:
    """CKD-EPI 2021 (§9) from the visit's creatinine, for adults; None without creatinine."""
    creatinine = labs.get("creatinine")
    age = age_on(patient.date_of_birth, day)
    if creatinine is None or not ADULT_AGE[0] <= age <= ADULT_AGE[1]:
        return None
    given: dict[str, Any] = {"sex": patient.sex.value, "age_years": Decimal(age)}
    if creatinine.unit == "umol/L":
        given["creatinine_umol_l"] = creatinine.value
    else:
        given["creatinine_mg_dl"] = creatinine.canonical
    if "cystatin_c" in labs:
        given["cystatin_c_mg_l"] = labs["cystatin_c"].canonical
    return _scored("egfr-ckdepi2021", given, "labs")


def derive(
    session: Session, patient: Patient, data: VisitIn, measured: list[Measured]
) -> dict[str, Any]:
    """Every score the recorded items allow (refused, naming the field, if an input is bad)."""
    labs = {lab.analyte: lab for lab in measured}
    scores: dict[str, Any] = {}
    sledai = sledai_input(data, labs)
    if sledai is not None:
        scores["sledai2k"] = _scored("sledai2k", sledai, "sledai2k")
        scores["sledai2k"]["labs_used"] = sledai.get("labs", {})
    if data.pga is not None:
        scores["pga"] = {"pga": data.pga, "category": pga_category(data.pga)}
    if data.facit_f is not None:
        responses = data.facit_f.model_dump(exclude_none=True)
        scores["facit_f"] = _scored("facit-f", {"responses": responses}, "facit_f")
    if data.sdi is not None:
        scores["sdi"] = _scored("sdi", {"items": data.sdi.model_dump(exclude_none=True)}, "sdi")
    kidney = egfr(patient, data.visit_date, labs)
    if kidney is not None:
        scores["egfr"] = kidney
    weight = data.vitals.weight_kg if data.vitals else None
    scores["prednisone_equivalent"] = visit_prednisone.on_date(
        session, patient.id, data.visit_date, weight
    )
    return scores


def recorded(visit: Visit) -> VisitIn:
    """The visit's stored findings as the input model (they were validated when recorded)."""
    assert visit.visit_date is not None  # noqa: S101 - only recorded visits are rescored
    return VisitIn.model_validate({**visit.findings, "visit_date": visit.visit_date})


def rescore(session: Session, patient: Patient, visit: Visit) -> None:
    """Recompute a recorded visit's scores from what is stored (e.g. after a medication)."""
    results = visit_labs.active(session, visit.id)
    measured = [found for found in map(measured_stored, results) if found is not None]
    visit.scores = derive(session, patient, recorded(visit), measured)
    visit.engine_version = __version__


def rescore_patient(session: Session, patient: Patient) -> None:
    """Recompute every recorded visit of the patient (their medications changed)."""
    query = select(Visit).where(Visit.patient_id == patient.id, Visit.visit_date.is_not(None))
    for visit in session.scalars(query):
        rescore(session, patient, visit)
    session.flush()
