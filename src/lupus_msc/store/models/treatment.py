"""The infusion or injection and the bedside identity check before it (pathway step 4)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lupus_msc.store.base import Entity


class BedsideCheck(Entity):
    """Two qualified people confirm, at the bedside, that this lot is for this patient.

    A mismatch is recorded too (``matched`` false): it blocks the infusion and stays on file.
    """

    __tablename__ = "bedside_checks"
    __table_args__ = (Index("ix_bedside_checks_patient_id", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"))
    scanned_patient_code: Mapped[str] = mapped_column(String(20))
    scanned_lot_code: Mapped[str] = mapped_column(String(24))
    first_checker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    second_checker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[dt.datetime]
    matched: Mapped[bool]
    problem: Mapped[str | None] = mapped_column(String(500))


class Infusion(Entity):
    __tablename__ = "infusions"
    __table_args__ = (Index("ix_infusions_patient_id", "patient_id"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    number: Mapped[int]
    route: Mapped[str] = mapped_column(String(40))
    injection_site: Mapped[str | None] = mapped_column(String(100))
    weight_kg: Mapped[Decimal]
    target_dose_per_kg: Mapped[Decimal]
    computed_cells: Mapped[Decimal]
    computed_volume_ml: Mapped[Decimal]
    actual_cells: Mapped[Decimal]
    actual_volume_ml: Mapped[Decimal]
    actual_dose_per_kg: Mapped[Decimal]
    within_range: Mapped[bool]
    dose_deviation: Mapped[str | None] = mapped_column(String(1000))
    premedication: Mapped[list[Any]]
    vitals_before: Mapped[dict[str, Any]]
    vitals_after: Mapped[dict[str, Any] | None]
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    administered_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    verified_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class InfusionLot(Entity):
    """Which lot(s) an infusion used, each through its own bedside check."""

    __tablename__ = "infusion_lots"
    __table_args__ = (Index("ix_infusion_lots_infusion_id", "infusion_id"),)

    infusion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("infusions.id"))
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), unique=True)
    bedside_check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bedside_checks.id"))
