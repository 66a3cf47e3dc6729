"""Patient, Condition (SLE) and Encounter (a recorded visit) from registry records (issue 8)."""

from __future__ import annotations

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period

from lupus_msc.clinical import codes
from lupus_msc.interop.fhir_common import STUDY_CODE_SYSTEM, concept, local, reference
from lupus_msc.store import models

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
VISIT_SYSTEM = "https://lupus-msc.org/fhir/CodeSystem/visits"


def patient(record: models.Patient) -> Patient:
    """The participant, identified by the study code (``STUDY_CODE_SYSTEM``)."""
    return Patient(
        id=str(record.id),
        identifier=[Identifier(system=STUDY_CODE_SYSTEM, value=record.study_code)],
        name=[HumanName(family=record.family_name, given=[record.given_name])],
        birthDate=record.date_of_birth,
        gender=record.sex.value,
    )


def sle_condition(record: models.Patient) -> Condition:
    """The patient's SLE (SNOMED CT 55464009, §15), with the diagnosis date when recorded.

    The Condition shares the patient's id: a patient has exactly one SLE diagnosis here.
    """
    return Condition(
        id=str(record.id),
        clinicalStatus=local(CONDITION_CLINICAL, "active", "Active"),
        verificationStatus=local(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
        code=concept(codes.SNOMED["sle"]),
        subject=reference("Patient", record.id),
        onsetDateTime=record.diagnosis_date,
    )


def encounter(visit: models.Visit) -> Encounter:
    """A protocol visit that took place (``visit_date`` set); its code is the schedule's."""
    if visit.visit_date is None:
        raise ValueError(f"visit {visit.code} has no visit date: only recorded visits are sent")
    return Encounter(
        id=str(visit.id),
        status="finished",
        class_fhir=Coding(system=ACT_CODE, code="AMB", display="ambulatory"),
        type=[local(VISIT_SYSTEM, visit.code, f"Protocol visit {visit.code}")],
        subject=reference("Patient", visit.patient_id),
        period=Period(start=visit.visit_date, end=visit.visit_date),
    )
