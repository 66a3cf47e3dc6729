"""The one door to manufactured lots (DESIGN.md pathway step 3): read a lot by id or by its
chain-of-identity code, show it, and move it through the lot state machine.

Other services (infusions, reports) call :func:`get_lot` and :func:`get_lot_by_code`; the use
cases of the cell-processing lab live beside this module: ``donors`` (donors and harvests),
``lots`` (manufacture, listing, allocation), ``release`` (release tests and the signed decision)
and ``custody`` (the append-only chain of custody).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.cells.identity import LotCodeError, parse_lot_code
from lupus_msc.cells.lot_state import IllegalTransition, LotState, transition
from lupus_msc.cells.release import ReleaseSpec
from lupus_msc.services.access import Action, Actor, fetch, require
from lupus_msc.services.errors import NotFound, invalid, refused
from lupus_msc.services.fields import NumberOut, Out
from lupus_msc.store.models import Donor, Harvest, Lot


class ReleaseSpecView(Out):
    """The release specification a lot is judged against (§14 [IMPL]), copied from its protocol."""

    viability_min_pct: NumberOut
    positive_marker_min_pct: NumberOut
    negative_marker_max_pct: NumberOut
    endotoxin_max_eu_per_kg: NumberOut


class LotOut(Out):
    id: uuid.UUID
    site_id: uuid.UUID
    harvest_id: uuid.UUID
    code: str
    passage: int
    total_cells: NumberOut
    viable_cells_per_ml: NumberOut
    viability_pct: NumberOut
    volume_ml: NumberOut
    cryopreserved_on: dt.date
    expires_on: dt.date
    storage_location: str
    state: LotState
    release_spec: ReleaseSpecView
    protocol_version_id: uuid.UUID
    allocated_patient_id: uuid.UUID | None
    thawed_at: dt.datetime | None
    created_at: dt.datetime


def view(lot: Lot) -> LotOut:
    return LotOut.model_validate(lot)


def spec_of(lot: Lot) -> ReleaseSpec:
    """The lot's stored release specification as the ``isct-release`` instrument takes it."""
    return ReleaseSpec.model_validate(lot.release_spec)


def get_lot(session: Session, actor: Actor, lot_id: uuid.UUID) -> Lot:
    """The lot if the actor may read products and sees its site (404 otherwise)."""
    require(actor, Action.READ_PRODUCTS)
    return fetch(session, actor, Lot, lot_id)


def canonical_code(code: str) -> str:
    """The lot code in upper case if it is well formed with a correct check character (§14).

    A mistyped code is refused (422) naming the field ``code`` and what is wrong with it.
    """
    try:
        return str(parse_lot_code(code.strip()))
    except LotCodeError as error:
        raise invalid("code", str(error)) from error


def get_lot_by_code(session: Session, actor: Actor, code: str) -> Lot:
    """The lot under the chain-of-identity ``code`` (case-insensitive), for this actor."""
    require(actor, Action.READ_PRODUCTS)
    wanted = canonical_code(code)
    lot = session.scalar(select(Lot).where(Lot.code == wanted))
    if lot is None or not actor.sees_site(lot.site_id):
        raise NotFound(f"no lot {wanted}")
    return lot


def writable_lot(session: Session, actor: Actor, lot_id: uuid.UUID) -> Lot:
    """The lot for a lab write: 403 without ``write-products``, 404 for another site's lot."""
    require(actor, Action.WRITE_PRODUCTS)
    return fetch(session, actor, Lot, lot_id)


def move(lot: Lot, target: LotState, *, field: str = "state") -> None:
    """Move ``lot`` to ``target`` through the lot state machine (``cells.lot_state``).

    An illegal move is refused (409) naming ``field`` and the states allowed next.
    """
    try:
        lot.state = transition(lot.state, target)
    except IllegalTransition as error:
        raise refused(field, str(error)) from error


def harvest_of(session: Session, lot: Lot) -> Harvest:
    harvest = session.get(Harvest, lot.harvest_id)
    assert harvest is not None  # noqa: S101 - a foreign key guarantees it
    return harvest


def donor_of(session: Session, lot: Lot) -> Donor:
    donor = session.get(Donor, harvest_of(session, lot).donor_id)
    assert donor is not None  # noqa: S101 - a foreign key guarantees it
    return donor
