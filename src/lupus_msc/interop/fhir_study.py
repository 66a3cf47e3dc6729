"""ResearchStudy (a protocol version), ResearchSubject (a patient in it) and Consent (issue 8).

A patient's pathway state (``PatientState``) becomes the ResearchSubject status of FHIR R4's
value set ``research-subject-status`` (``SUBJECT_STATUS``); the consent the patient signed is
a research Consent, active until withdrawn. The signer's name stays out of the resource: FHIR
needs no name to say a consent was given, and every export would have to strip it again.
"""

from __future__ import annotations

from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.researchstudy import ResearchStudy
from fhir.resources.R4B.researchsubject import ResearchSubject

from lupus_msc.clinical import codes
from lupus_msc.interop.fhir_common import (
    BASE,
    Draft,
    built,
    concept,
    date,
    element,
    local,
    period,
    reference,
)
from lupus_msc.store import models
from lupus_msc.store.models import PatientState

PROTOCOL_SYSTEM = f"{BASE}/sid/protocol"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

SUBJECT_STATUS: dict[PatientState, str] = {
    PatientState.REFERRED: "candidate",
    PatientState.SCREENING: "screening",
    PatientState.ELIGIBLE: "eligible",
    PatientState.SCREEN_FAILED: "ineligible",
    PatientState.CONSENTED: "pending-on-study",
    PatientState.ENROLLED: "on-study",
    PatientState.INFUSED: "on-study-intervention",
    PatientState.FOLLOW_UP: "follow-up",
    PatientState.COMPLETED: "off-study",
    PatientState.WITHDRAWN: "withdrawn",
    PatientState.LOST_TO_FOLLOW_UP: "off-study",
    PatientState.DECEASED: "off-study",
}
"""Pathway state → ResearchSubject.status. "off-study" covers the three ends of follow-up that
R4 does not tell apart (completed, lost, died); the Patient and AdverseEvent say which."""


def research_study(version: models.ProtocolVersion) -> ResearchStudy:
    """The protocol version patients are enrolled under, identified by code and version."""
    draft = Draft(
        ResearchStudy,
        id=str(version.id),
        identifier=[
            element(system=PROTOCOL_SYSTEM, value=f"{version.protocol_code}/{version.version}")
        ],
        title=version.title,
        status="active",
        condition=[concept(codes.SNOMED["sle"])],
    )
    return built(ResearchStudy, draft)


def research_subject_draft(record: models.Patient, consent: models.Consent | None = None) -> Draft:
    """The patient's place in the study; shares the patient's id (one study per patient)."""
    return Draft(
        ResearchSubject,
        id=str(record.id),
        status=SUBJECT_STATUS[record.state],
        study=reference("ResearchStudy", record.protocol_version_id),
        individual=reference("Patient", record.id),
        consent=None if consent is None else reference("Consent", consent.id),
    )


def research_subject(
    record: models.Patient, consent: models.Consent | None = None
) -> ResearchSubject:
    return built(ResearchSubject, research_subject_draft(record, consent))


def research_consent_draft(record: models.Consent) -> Draft:
    """The signed research consent (form version as the policy), inactive once withdrawn."""
    withdrawn = record.withdrawn_on is not None
    signed = date(record.signed_on)
    return Draft(
        Consent,
        id=str(record.id),
        identifier=[element(system=f"{BASE}/sid/consent-form", value=record.form_version)],
        status="inactive" if withdrawn else "active",
        scope=local(CONSENT_SCOPE, "research", "Research"),
        category=[local(CONSENT_CATEGORY, "research", "Research Information Access")],
        patient=reference("Patient", record.patient_id),
        dateTime=signed,
        policyRule=local(ACT_CODE, "OPTIN", "opt-in"),
        provision=element(type="permit", period=period(signed, date(record.withdrawn_on))),
    )


def research_consent(record: models.Consent) -> Consent:
    return built(Consent, research_consent_draft(record))
