"""Protocol versions, patients, consent and screening (DESIGN.md pathway steps 1 and 2)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lupus_msc.store.base import Entity
from lupus_msc.store.models.people import enum_column


class PatientState(StrEnum):
    """Where a patient is on the pathway (the moves allowed are in ``services.pathway``)."""

    REFERRED = "referred"
    SCREENING = "screening"
    ELIGIBLE = "eligible"
    SCREEN_FAILED = "screen-failed"
    CONSENTED = "consented"
    ENROLLED = "enrolled"
    INFUSED = "infused"
    FOLLOW_UP = "follow-up"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    LOST_TO_FOLLOW_UP = "lost-to-follow-up"
    DECEASED = "deceased"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class ProtocolVersion(Entity):
    """A programme definition as loaded: its YAML text is kept verbatim with its SHA-256."""

    __tablename__ = "protocol_versions"
    __table_args__ = (UniqueConstraint("protocol_code", "version"),)

    protocol_code: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    source_yaml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class Patient(Entity):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("site_id", "medical_record_number"),
        Index("ix_patients_site_id_state", "site_id", "state"),
    )

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    protocol_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protocol_versions.id"))
    study_code: Mapped[str] = mapped_column(String(20), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date]
    sex: Mapped[Sex] = mapped_column(enum_column(Sex))
    medical_record_number: Mapped[str] = mapped_column(String(40))
    diagnosis_date: Mapped[dt.date | None]
    state: Mapped[PatientState] = mapped_column(enum_column(PatientState))


class Consent(Entity):
    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_patient_id", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    form_version: Mapped[str] = mapped_column(String(40))
    signed_on: Mapped[dt.date]
    signer_name: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    withdrawn_on: Mapped[dt.date | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))


class Screening(Entity):
    """The medical evaluation, the rules' automatic results and the physician's signed decision.

    ``data`` holds what was recorded (the EULAR/ACR 2019 items, the baseline SLEDAI-2K items,
    organ involvement, prior and failed treatments, exclusion findings); the scores and rule
    results beside it are derived from ``data`` on every write, with the engine version.
    """

    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_patient_id", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    protocol_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protocol_versions.id"))
    screened_on: Mapped[dt.date]
    data: Mapped[dict[str, Any]]
    eular_acr_score: Mapped[int | None]
    eular_acr_classified: Mapped[bool | None]
    sledai2k_total: Mapped[int | None]
    rule_results: Mapped[dict[str, Any]]
    rules_eligible: Mapped[bool | None]
    engine_version: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    age_years: Mapped[int | None]
