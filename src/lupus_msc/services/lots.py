"""Manufactured lots: made from a harvest under a chain-of-identity code, listed, and allocated to
a patient once released (DESIGN.md pathway step 3; §14).

Ranges refused as implausible [PROJECT choices, from the doses and products of §14]: passage 1–10;
total cells 1 × 10⁶ – 1 × 10¹¹ (a 1 × 10⁶/kg dose for 100 kg is 1 × 10⁸); viable cells
1 × 10⁵ – 1 × 10⁸ per mL; viability 0–100 %; volume more than 0 and at most 1000 mL; cryopreserved
on or after the harvest and not in the future; expiry after cryopreservation and at most 10 years
later.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.cells.identity import make_lot_code
from lupus_msc.cells.lot_state import TERMINAL as LOT_TERMINAL
from lupus_msc.cells.lot_state import LotState
from lupus_msc.clinical.common import Num
from lupus_msc.services import donors, protocols
from lupus_msc.services.access import Action, Actor, fetch, require
from lupus_msc.services.errors import invalid, refused
from lupus_msc.services.fields import Digits, In, ShortText, today
from lupus_msc.services.products import donor_of, move, writable_lot
from lupus_msc.store.models import Donor, Harvest, Lot, Patient, PatientState, Site

MAX_SHELF_LIFE = dt.timedelta(days=3653)
"""Expiry at most 10 years after cryopreservation [PROJECT choice]: catches a mistyped year."""
ALLOCATABLE = frozenset(
    {PatientState.CONSENTED, PatientState.ENROLLED, PatientState.INFUSED, PatientState.FOLLOW_UP}
)
"""A lot is allocated only to a patient who has at least consented and is still on the pathway."""


class LotIn(In):
    harvest_id: uuid.UUID
    passage: Annotated[int, Field(ge=1, le=10, description="Culture passage, 1–10.")]
    total_cells: Annotated[Decimal, Num(ge=1_000_000, le=100_000_000_000), Digits]
    """Cells in the whole lot, 1 × 10⁶ – 1 × 10¹¹."""
    viable_cells_per_ml: Annotated[Decimal, Num(ge=100_000, le=100_000_000), Digits]
    """Viable-cell concentration, 1 × 10⁵ – 1 × 10⁸ per mL."""
    viability_pct: Annotated[Decimal, Num(ge=0, le=100), Digits]
    volume_ml: Annotated[Decimal, Num(gt=0, le=1000), Digits]
    """Volume of the lot, more than 0 and at most 1000 mL."""
    cryopreserved_on: dt.date = Field(description="On or after the harvest, not in the future.")
    expires_on: dt.date = Field(description="After cryopreservation, at most 10 years later.")
    storage_location: ShortText
    protocol_version_id: uuid.UUID | None = Field(
        default=None, description="Whose release specification applies (default: the newest)."
    )


class AllocationIn(In):
    patient_id: uuid.UUID


def _check_dates(data: LotIn, harvest: Harvest) -> None:
    if not harvest.collected_on <= data.cryopreserved_on <= today():
        raise invalid(
            "cryopreserved_on",
            f"must be between the harvest ({harvest.collected_on.isoformat()}) and today",
        )
    if not data.cryopreserved_on < data.expires_on <= data.cryopreserved_on + MAX_SHELF_LIFE:
        raise invalid(
            "expires_on", "must be after the cryopreservation date and at most 10 years later"
        )


def _next_serial(session: Session, site: Site, year: int) -> int:
    """One more than the highest serial issued at ``site`` in ``year`` (serials start at 1)."""
    prefix = f"{site.code}-{year:04d}-"
    codes = session.scalars(select(Lot.code).where(Lot.code.startswith(prefix)))
    return max((int(code.split("-")[2]) for code in codes), default=0) + 1


def _harvest_for_write(session: Session, actor: Actor, harvest_id: uuid.UUID) -> Harvest:
    require(actor, Action.WRITE_PRODUCTS)
    harvest = donors.get_harvest(session, actor, harvest_id)
    return harvest


def create_lot(session: Session, actor: Actor, data: LotIn) -> Lot:
    """A lot in quarantine under a new chain-of-identity code (``cells.identity``, §14).

    The code is ``SITE-YEAR-SERIAL-CHECK`` with the donor's site, the year of cryopreservation
    and the next serial of that site and year; the release specification is copied from the
    protocol version so that later protocol versions do not change how this lot is judged.
    """
    harvest = _harvest_for_write(session, actor, data.harvest_id)
    donor = session.get(Donor, harvest.donor_id)
    assert donor is not None  # noqa: S101 - a foreign key guarantees it
    site = session.get(Site, donor.site_id)
    assert site is not None  # noqa: S101 - a foreign key guarantees it
    _check_dates(data, harvest)
    version = (
        protocols.get(session, data.protocol_version_id)
        if data.protocol_version_id
        else protocols.newest(session)
    )
    year = data.cryopreserved_on.year
    lot = Lot(
        **data.model_dump(exclude={"harvest_id", "protocol_version_id"}),
        harvest_id=harvest.id,
        site_id=site.id,
        code=make_lot_code(site=site.code, year=year, serial=_next_serial(session, site, year)),
        state=LotState.QUARANTINE,
        release_spec=protocols.definition(version).release_spec.model_dump(),
        protocol_version_id=version.id,
    )
    session.add(lot)
    session.flush()
    return lot


def list_lots(
    session: Session,
    actor: Actor,
    *,
    state: LotState | None,
    site_id: uuid.UUID | None,
    limit: int,
    offset: int,
    expiring_by: dt.date | None = None,
    expired: bool = False,
) -> list[Lot]:
    """Lots of the actor's sites by code, optionally in one state, or (``expiring_by``) only
    those not yet expired whose expiry date is on or before that day, or (``expired``) only
    those past their expiry date; both leave out lots whose life has ended (rejected, infused,
    discarded), as the dashboard's figures do."""
    require(actor, Action.READ_PRODUCTS)
    query = select(Lot).order_by(Lot.code).limit(limit).offset(offset)
    if not actor.all_sites:
        query = query.where(Lot.site_id.in_(actor.site_ids))
    if site_id is not None:
        query = query.where(Lot.site_id == site_id)
    if state is not None:
        query = query.where(Lot.state == state)
    if expiring_by is not None:
        query = query.where(
            Lot.state.not_in(LOT_TERMINAL), Lot.expires_on >= today(), Lot.expires_on <= expiring_by
        )
    if expired:
        query = query.where(Lot.state.not_in(LOT_TERMINAL), Lot.expires_on < today())
    return list(session.scalars(query))


def _check_recipient(session: Session, lot: Lot, patient: Patient) -> None:
    if patient.site_id != lot.site_id:
        raise refused("patient_id", "the patient is registered at another site than the lot")
    if patient.state not in ALLOCATABLE:
        raise refused(
            "patient_id",
            f"the patient is {patient.state.value}; a lot is allocated only to a consented, "
            "enrolled, infused or followed-up patient",
        )
    donor = donor_of(session, lot)
    if donor.patient_id is not None and donor.patient_id != patient.id:
        raise refused("patient_id", "this autologous lot is made of another patient's cells")


def allocate(session: Session, actor: Actor, lot_id: uuid.UUID, data: AllocationIn) -> Lot:
    """Reserve a released, unexpired lot for a consented patient of the same site.

    A lot may be used through its expiry date (``expires_on`` is the last day of use).
    """
    lot = writable_lot(session, actor, lot_id)
    if lot.state is not LotState.RELEASED:
        raise refused("state", f"the lot is {lot.state.value}; only a released lot is allocated")
    if lot.expires_on < today():
        raise refused("expires_on", f"the lot expired on {lot.expires_on.isoformat()}")
    patient = fetch(session, actor, Patient, data.patient_id)
    _check_recipient(session, lot, patient)
    move(lot, LotState.ALLOCATED)
    lot.allocated_patient_id = patient.id
    session.flush()
    return lot
