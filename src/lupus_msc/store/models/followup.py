"""Follow-up: scheduled visits with their findings, labs, medications and adverse events."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from lupus_msc.store.base import Entity


class Visit(Entity):
    """A protocol visit, generated from the first infusion date and the protocol's schedule.

    ``findings`` holds what was recorded (SLEDAI-2K descriptors and any clinician override, PGA,
    vitals and weight, cardiac findings, FACIT-F answers, SDI items); ``scores`` is derived from
    it and the labs on every write, with ``engine_version``.
    """

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("patient_id", "code"),
        Index(
            "ix_visits_open_window",
            "window_start",
            "window_end",
            "patient_id",
            sqlite_where=text("visit_date IS NULL"),
            postgresql_where=text("visit_date IS NULL"),
        ),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    code: Mapped[str] = mapped_column(String(64))
    study_day: Mapped[int]
    target_date: Mapped[dt.date]
    window_start: Mapped[dt.date]
    window_end: Mapped[dt.date]
    visit_date: Mapped[dt.date | None]
    findings: Mapped[dict[str, Any]]
    scores: Mapped[dict[str, Any]]
    engine_version: Mapped[str | None] = mapped_column(String(20))
    signed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[dt.datetime | None]


class LabResult(Entity):
    __tablename__ = "lab_results"
    __table_args__ = (Index("ix_lab_results_visit_id", "visit_id"),)

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"))
    analyte: Mapped[str] = mapped_column(String(40))
    loinc: Mapped[str | None] = mapped_column(String(10))
    value: Mapped[Decimal | None]
    text_value: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(20))
    reference_low: Mapped[Decimal | None]
    reference_high: Mapped[Decimal | None]
    superseded: Mapped[bool] = mapped_column(default=False)


class Medication(Entity):
    __tablename__ = "medications"
    __table_args__ = (Index("ix_medications_patient_id", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    drug: Mapped[str] = mapped_column(String(60))
    dose: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(10))
    frequency: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20))
    started_on: Mapped[dt.date]
    stopped_on: Mapped[dt.date | None]
    prednisone_mg_day: Mapped[Decimal | None]
    """Prednisone-equivalent mg/day (§11), derived; null for drugs that are not glucocorticoids."""


class AdverseEvent(Entity):
    __tablename__ = "adverse_events"
    __table_args__ = (Index("ix_adverse_events_patient_id", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    infusion_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("infusions.id"))
    term: Mapped[str] = mapped_column(String(200))
    ctcae_term: Mapped[str | None] = mapped_column(String(40))
    lab_value: Mapped[Decimal | None]
    lab_unit: Mapped[str | None] = mapped_column(String(20))
    lab_reference: Mapped[dict[str, Any] | None]
    """The other §16.12 inputs the grade was derived from (``lab_lln``, ``lab_uln``,
    ``lab_baseline``, ``hours_above_40``), so that it can be derived again."""
    grade: Mapped[int]
    grade_derived: Mapped[bool]
    onset_on: Mapped[dt.date]
    resolved_on: Mapped[dt.date | None]
    serious_criteria: Mapped[list[Any]]
    relatedness: Mapped[str] = mapped_column(String(20))
    expected: Mapped[bool]
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(40))
    reported_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
