"""The chain of custody of a lot: append-only hand-overs with who, where and when (§14; DESIGN.md
"One model from product to patient").

The lab records receipt, storage, moves, shipping, thawing and disposal here. Kinds that change
the lot's state go through the lot state machine (``cells.lot_state``): *shipped* → shipped,
*thawed* → thawed (and the thaw time is kept on the lot for the infusion's time limit),
*discarded* → discarded (with a reason). *Bedside-verified* and *infused* are written only by the
infusion service, together with the bedside check and the infusion they belong to.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.cells.lot_state import LotState
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import invalid, refused
from lupus_msc.services.fields import In, Out, Reason, ShortText, now
from lupus_msc.services.products import get_lot, move, writable_lot
from lupus_msc.services.unit import give_reason
from lupus_msc.store.models import CustodyEvent, CustodyKind, Lot, User

STATE_AFTER: dict[CustodyKind, LotState] = {
    CustodyKind.SHIPPED: LotState.SHIPPED,
    CustodyKind.THAWED: LotState.THAWED,
    CustodyKind.DISCARDED: LotState.DISCARDED,
}
"""Custody kinds that move the lot along its life cycle."""
BY_INFUSION = frozenset({CustodyKind.BEDSIDE_VERIFIED, CustodyKind.INFUSED})
"""Kinds written by the infusion service only."""
RECORDED_HERE = tuple(kind for kind in CustodyKind if kind not in BY_INFUSION)
"""Kinds the lab records through :func:`record`, in life-cycle order."""
GONE = frozenset({LotState.INFUSED, LotState.DISCARDED})
"""After these nothing more happens to the lot's cells."""


class CustodyIn(In):
    kind: CustodyKind
    at: AwareDatetime = Field(description="When (with its time zone): not in the future.")
    location: ShortText
    note: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    reason: Reason | None = Field(default=None, description="Required to discard a lot.")


class CustodyOut(Out):
    id: uuid.UUID
    lot_id: uuid.UUID
    kind: CustodyKind
    at: dt.datetime
    by_id: uuid.UUID
    location: str
    note: str | None
    created_at: dt.datetime


def chain(session: Session, actor: Actor, lot_id: uuid.UUID) -> list[CustodyEvent]:
    """The lot's custody events in the order they happened."""
    lot = get_lot(session, actor, lot_id)
    return _events(session, lot)


def _events(session: Session, lot: Lot) -> list[CustodyEvent]:
    query = select(CustodyEvent).where(CustodyEvent.lot_id == lot.id)
    return list(session.scalars(query.order_by(CustodyEvent.at, CustodyEvent.created_at)))


def _check_time(session: Session, lot: Lot, data: CustodyIn) -> None:
    if data.at > now():
        raise invalid("at", "must not be in the future")
    if data.at.date() < lot.cryopreserved_on:
        raise invalid("at", f"is before the lot was cryopreserved ({lot.cryopreserved_on})")
    if data.kind in STATE_AFTER:
        moves = [event for event in _events(session, lot) if event.kind in STATE_AFTER]
        if moves and data.at < moves[-1].at:
            last = moves[-1]
            raise invalid("at", f"is before the lot was {last.kind.value} ({last.at.isoformat()})")


def _check_kind(lot: Lot, data: CustodyIn) -> None:
    if data.kind in BY_INFUSION:
        raise invalid(
            "kind",
            f"{data.kind.value} is recorded by the infusion service with the bedside check and "
            "the infusion, not here",
        )
    if data.kind is CustodyKind.DISCARDED and data.reason is None:
        raise invalid("reason", "is required to discard a lot")
    if data.kind not in STATE_AFTER and lot.state in GONE:
        raise refused("kind", f"the lot is {lot.state.value}; nothing more happens to it")


def record(session: Session, actor: Actor, lot_id: uuid.UUID, data: CustodyIn) -> CustodyEvent:
    """Append a hand-over; shipped, thawed and discarded move the lot (illegal moves refused)."""
    lot = writable_lot(session, actor, lot_id)
    _check_kind(lot, data)
    _check_time(session, lot, data)
    give_reason(session, data.reason)
    target = STATE_AFTER.get(data.kind)
    if target is not None:
        move(lot, target, field="kind")
    if data.kind is CustodyKind.THAWED:
        lot.thawed_at = data.at
    if data.kind in (CustodyKind.STORED, CustodyKind.MOVED):
        lot.storage_location = data.location
    event = CustodyEvent(
        lot_id=lot.id,
        kind=data.kind,
        at=data.at,
        by_id=actor.user_id,
        location=data.location,
        note=data.note,
    )
    session.add(event)
    session.flush()
    return event


def names(session: Session, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The full names of the staff who recorded events or results (who did it, for the log)."""
    if not user_ids:
        return {}
    query = select(User.id, User.full_name).where(User.id.in_(user_ids))
    return {user_id: name for user_id, name in session.execute(query)}
