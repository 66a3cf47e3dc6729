"""Read the audit trail (admins all of it, monitors a patient's) and verify its hash chain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.services import patients
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import Forbidden
from lupus_msc.services.fields import In, Out
from lupus_msc.store import audit
from lupus_msc.store.models import (
    AdverseEvent,
    AuditEvent,
    BedsideCheck,
    Consent,
    Infusion,
    Medication,
    Screening,
    Visit,
)

_PATIENT_TABLES: tuple[Any, ...] = (
    Consent,
    Screening,
    BedsideCheck,
    Infusion,
    Visit,
    Medication,
    AdverseEvent,
)


class AuditEventOut(Out):
    seq: int
    at: dt.datetime
    user_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: str
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    prev_hash: str
    row_hash: str


class ChainOut(Out):
    intact: bool
    rows: int
    head_hash: str
    broken_seq: int | None
    problem: str | None


def page(session: Session, actor: Actor, *, after: int, limit: int) -> list[AuditEvent]:
    """The whole trail, in order, a page at a time (admins: it spans every site)."""
    require(actor, Action.READ_AUDIT)
    if not actor.all_sites:
        raise Forbidden("the whole audit trail is for admins; read a patient's trail instead")
    query = select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
    return list(session.scalars(query))


def for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[AuditEvent]:
    """Every audit event about the patient's record and what hangs from it."""
    require(actor, Action.READ_AUDIT)
    patient = patients.get(session, actor, patient_id)
    ids = {str(patient.id)}
    for table in _PATIENT_TABLES:
        ids.update(
            str(i) for i in session.scalars(select(table.id).where(table.patient_id == patient.id))
        )
    query = select(AuditEvent).where(AuditEvent.entity_id.in_(ids)).order_by(AuditEvent.seq)
    return list(session.scalars(query))


def verify(session: Session, actor: Actor) -> ChainOut:
    require(actor, Action.READ_AUDIT)
    report = audit.verify(session)
    return ChainOut(
        intact=report.intact,
        rows=report.rows,
        head_hash=report.head_hash,
        broken_seq=report.broken_seq,
        problem=report.problem,
    )


class AuditFilter(In):
    """What the audit browser narrows the trail to (every part optional)."""

    user_id: uuid.UUID | None = None
    entity: Annotated[str, Field(max_length=40)] | None = None
    entity_id: Annotated[str, Field(max_length=40)] | None = None
    field: Annotated[str, Field(max_length=60)] | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    """Inclusive calendar days (UTC)."""


def _conditions(chosen: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if chosen.user_id is not None:
        conditions.append(AuditEvent.user_id == chosen.user_id)
    if chosen.entity:
        conditions.append(AuditEvent.entity == chosen.entity)
    if chosen.entity_id:
        conditions.append(AuditEvent.entity_id == chosen.entity_id.strip().lower())
    if chosen.field:
        conditions.append(AuditEvent.field == chosen.field)
    if chosen.since is not None:
        start = dt.datetime.combine(chosen.since, dt.time(), tzinfo=dt.UTC)
        conditions.append(AuditEvent.at >= start)
    if chosen.until is not None:
        end = dt.datetime.combine(chosen.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        conditions.append(AuditEvent.at < end)
    return conditions


def browse(
    session: Session, actor: Actor, chosen: AuditFilter, *, before: int | None, limit: int
) -> list[AuditEvent]:
    """The trail newest first, filtered, a page at a time by keyset on ``seq`` (the rows with
    ``seq`` below ``before``): no OFFSET, so the thousandth page costs what the first does.
    Admins only, like ``page`` (the trail spans every site)."""
    require(actor, Action.READ_AUDIT)
    if not actor.all_sites:
        raise Forbidden("the whole audit trail is for admins; read a patient's trail instead")
    query = select(AuditEvent).where(*_conditions(chosen))
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    return list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)))
