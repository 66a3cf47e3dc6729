"""Consent: the version signed, when and by whom, and its withdrawal (pathway step 2)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.services import patients
from lupus_msc.services.access import Action, Actor, fetch_patient_record, require
from lupus_msc.services.errors import invalid, refused
from lupus_msc.services.fields import In, Out, Text, today
from lupus_msc.services.pathway import TERMINAL
from lupus_msc.store.models import Consent, Patient, PatientState

FormVersion = Annotated[str, Field(min_length=1, max_length=40)]


class ConsentIn(In):
    form_version: FormVersion
    signed_on: dt.date
    signer_name: Text
    """The patient, or their legal representative."""


class WithdrawalIn(In):
    withdrawn_on: dt.date
    reason: Annotated[str, Field(min_length=3, max_length=500)]
    """Kept with the consent in 500 characters (and in the audit trail)."""


class ConsentOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    form_version: str
    signed_on: dt.date
    signer_name: str
    recorded_by_id: uuid.UUID
    withdrawn_on: dt.date | None
    withdrawal_reason: str | None


def record(session: Session, actor: Actor, patient_id: uuid.UUID, data: ConsentIn) -> Consent:
    """Consent of an eligible patient; the patient becomes consented."""
    require(actor, Action.RECORD_CONSENT)
    patient = patients.get(session, actor, patient_id)
    if patient.state is not PatientState.ELIGIBLE:
        raise refused(
            "state", f"consent is taken from eligible patients; this one is {patient.state.value}"
        )
    if not patient.date_of_birth <= data.signed_on <= today():
        raise invalid("signed_on", "must be between the date of birth and today")
    consent = Consent(patient_id=patient.id, recorded_by_id=actor.user_id, **data.model_dump())
    session.add(consent)
    patients.move(session, patient, PatientState.CONSENTED)
    session.flush()
    return consent


def for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Consent]:
    require(actor, Action.READ_IDENTITY)
    patient = patients.get(session, actor, patient_id)
    query = select(Consent).where(Consent.patient_id == patient.id).order_by(Consent.created_at)
    return list(session.scalars(query))


def active(session: Session, patient: Patient) -> Consent | None:
    """The patient's latest consent if it has not been withdrawn."""
    query = (
        select(Consent).where(Consent.patient_id == patient.id).order_by(Consent.created_at.desc())
    )
    latest = session.scalars(query).first()
    return latest if latest is not None and latest.withdrawn_on is None else None


def withdraw(session: Session, actor: Actor, consent_id: uuid.UUID, data: WithdrawalIn) -> Consent:
    """Withdrawal of consent: the patient leaves the pathway as withdrawn; nothing is deleted."""
    require(actor, Action.RECORD_CONSENT)
    consent = fetch_patient_record(session, actor, Consent, consent_id)
    patient = patients.get(session, actor, consent.patient_id)
    if consent.withdrawn_on is not None:
        raise refused("withdrawn_on", "this consent is already withdrawn")
    if not consent.signed_on <= data.withdrawn_on <= today():
        raise invalid("withdrawn_on", "must be between the signing date and today")
    consent.withdrawn_on = data.withdrawn_on
    consent.withdrawal_reason = data.reason
    if patient.state not in TERMINAL:
        patients.move(session, patient, PatientState.WITHDRAWN)
    session.flush()
    return consent
