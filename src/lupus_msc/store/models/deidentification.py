"""The per-patient secret of de-identified exports (issue 8; ``interop.deidentify``)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lupus_msc.store.base import Entity


class DeidentificationKey(Entity):
    """A patient's pseudonym and date offset: random (never derived from the patient's data),
    created on first need and never changed, so every export gives the patient the same ones.

    It is the re-identification code of 45 CFR 164.514(c): it stays in the database and never
    leaves it in an export.
    """

    __tablename__ = "deidentification_keys"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), unique=True)
    pseudonym: Mapped[str] = mapped_column(String(20), unique=True)
    date_offset_days: Mapped[int]
