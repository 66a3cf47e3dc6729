"""Patient, Condition (SLE) and Encounter (a recorded visit) from registry records (issue 8).

Each ``*_draft`` builds the resource's ``fhir_common.Draft`` (what the bulk export validates and
writes); the function without the suffix returns the validated R4B model.
"""

from __future__ import annotations

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient

from lupus_msc.clinical import codes
from lupus_msc.interop.fhir_common import (
    STUDY_CODE_SYSTEM,
    Draft,
    Part,
    built,
    concept,
    date,
    element,
    local,
    period,
    reference,
)
from lupus_msc.store import models

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
VISIT_SYSTEM = "https://lupus-msc.org/fhir/CodeSystem/visits"
AMBULATORY = Part(Coding(system=ACT_CODE, code="AMB", display="ambulatory"))
"""Encounter.class (a Coding): every protocol visit is an outpatient one."""


def patient_draft(record: models.Patient) -> Draft:
    """The participant, identified by the study code (``STUDY_CODE_SYSTEM``)."""
    return Draft(
        Patient,
        id=str(record.id),
        identifier=[element(system=STUDY_CODE_SYSTEM, value=record.study_code)],
        name=[element(family=record.family_name, given=[record.given_name])],
        gender=record.sex.value,
        birthDate=date(record.date_of_birth),
    )


def patient(record: models.Patient) -> Patient:
    return built(Patient, patient_draft(record))


def sle_condition_draft(record: models.Patient) -> Draft:
    """The patient's SLE (SNOMED CT 55464009, §15), with the diagnosis date when recorded.

    The Condition shares the patient's id: a patient has exactly one SLE diagnosis here.
    """
    return Draft(
        Condition,
        id=str(record.id),
        clinicalStatus=local(CONDITION_CLINICAL, "active", "Active"),
        verificationStatus=local(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
        code=concept(codes.SNOMED["sle"]),
        subject=reference("Patient", record.id),
        onsetDateTime=date(record.diagnosis_date),
    )


def sle_condition(record: models.Patient) -> Condition:
    return built(Condition, sle_condition_draft(record))


def encounter_draft(visit: models.Visit) -> Draft:
    """A protocol visit that took place (``visit_date`` set); its code is the schedule's."""
    if visit.visit_date is None:
        raise ValueError(f"visit {visit.code} has no visit date: only recorded visits are sent")
    day = date(visit.visit_date)
    return Draft(
        Encounter,
        id=str(visit.id),
        status="finished",
        **{"class": AMBULATORY},
        type=[local(VISIT_SYSTEM, visit.code, f"Protocol visit {visit.code}")],
        subject=reference("Patient", visit.patient_id),
        period=period(day, day),
    )


def encounter(visit: models.Visit) -> Encounter:
    return built(Encounter, encounter_draft(visit))
