"""The cell product: donors, harvests, lots, release tests and decisions, custody (step 3)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lupus_msc.cells.lot_state import LotState
from lupus_msc.store.base import Entity
from lupus_msc.store.models.people import enum_column


class DonorKind(StrEnum):
    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"


class TissueSource(StrEnum):
    BONE_MARROW = "bone-marrow"
    UMBILICAL_CORD = "umbilical-cord"
    ADIPOSE = "adipose"


class CustodyKind(StrEnum):
    """Every hand-over of a lot, in the chain-of-custody log (DESIGN.md pathway step 3)."""

    RECEIVED = "received"
    STORED = "stored"
    MOVED = "moved"
    SHIPPED = "shipped"
    THAWED = "thawed"
    BEDSIDE_VERIFIED = "bedside-verified"
    INFUSED = "infused"
    DISCARDED = "discarded"


class Donor(Entity):
    __tablename__ = "donors"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[DonorKind] = mapped_column(enum_column(DonorKind))
    tissue_source: Mapped[TissueSource] = mapped_column(enum_column(TissueSource))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"))
    eligibility_tests: Mapped[dict[str, Any]]
    """Donor eligibility screening, test name → "negative"/"positive" (e.g. HIV, HBV, HCV)."""
    eligible: Mapped[bool | None]


class Harvest(Entity):
    __tablename__ = "harvests"

    donor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("donors.id"))
    collected_on: Mapped[dt.date]
    tissue_source: Mapped[TissueSource] = mapped_column(enum_column(TissueSource))
    amount: Mapped[Decimal]
    amount_unit: Mapped[str] = mapped_column(String(10))
    collected_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class Lot(Entity):
    """A manufactured lot under its chain-of-identity code (``cells.identity``)."""

    __tablename__ = "lots"
    __table_args__ = (
        Index("ix_lots_allocated_patient_id", "allocated_patient_id"),
        Index("ix_lots_site_id_state_expires_on", "site_id", "state", "expires_on"),
    )

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    harvest_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("harvests.id"))
    code: Mapped[str] = mapped_column(String(24), unique=True)
    passage: Mapped[int]
    total_cells: Mapped[Decimal]
    viable_cells_per_ml: Mapped[Decimal]
    viability_pct: Mapped[Decimal]
    volume_ml: Mapped[Decimal]
    cryopreserved_on: Mapped[dt.date]
    expires_on: Mapped[dt.date]
    storage_location: Mapped[str] = mapped_column(String(100))
    state: Mapped[LotState] = mapped_column(enum_column(LotState))
    release_spec: Mapped[dict[str, Any]]
    """The specification the lot is judged against, copied from its protocol version."""
    protocol_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protocol_versions.id"))
    allocated_patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"))
    thawed_at: Mapped[dt.datetime | None]


class ReleaseTest(Entity):
    """One release test result; ``name`` is an ``isct-release`` input field (§16.14)."""

    __tablename__ = "release_tests"
    __table_args__ = (Index("ix_release_tests_lot_id", "lot_id"),)

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    name: Mapped[str] = mapped_column(String(40))
    result: Mapped[dict[str, Any]]
    """``{"value": ...}`` exactly as entered (a number, true/false or negative/positive)."""
    specification: Mapped[str] = mapped_column(String(100))
    within_spec: Mapped[bool | None]
    tested_on: Mapped[dt.date]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    superseded: Mapped[bool] = mapped_column(default=False)


class ReleaseDecision(Entity):
    """Release or rejection, electronically signed (name, time, meaning) by a qualified person."""

    __tablename__ = "release_decisions"
    __table_args__ = (Index("ix_release_decisions_lot_id", "lot_id"),)

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    decision: Mapped[str] = mapped_column(String(10))
    deviation: Mapped[str | None] = mapped_column(String(2000))
    failures: Mapped[list[Any]]
    signed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime]
    meaning: Mapped[str] = mapped_column(String(200))


class CustodyEvent(Entity):
    """An append-only hand-over: what happened to the lot, who did it, where and when."""

    __tablename__ = "custody_events"
    __table_args__ = (Index("ix_custody_events_lot_id", "lot_id"),)

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    kind: Mapped[CustodyKind] = mapped_column(enum_column(CustodyKind))
    at: Mapped[dt.datetime]
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    location: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(1000))
