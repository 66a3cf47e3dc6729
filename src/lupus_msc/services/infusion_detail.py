"""A recorded infusion as its page shows it: patient, lots, both checkers, dose, vitals and the
reactions recorded as adverse events (DESIGN.md pathway step 4)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.services import adverse_events, infusions, patients
from lupus_msc.services.access import Action, Actor
from lupus_msc.services.infusion_plan import CheckRecord, checks_for, names_of
from lupus_msc.services.patients import PatientOut
from lupus_msc.store.models import Infusion, InfusionLot, Lot


@dataclass(frozen=True)
class Reaction:
    id: uuid.UUID
    term: str
    grade: int
    onset_on: dt.date
    outcome: str


@dataclass(frozen=True)
class InfusionDetail:
    """A recorded infusion with its patient, lots, both checkers and linked reactions."""

    infusion: infusions.InfusionOut
    patient: PatientOut
    administered_by: str
    verified_by: str
    premedication: list[str]
    vitals_before: dict[str, Any]
    vitals_after: dict[str, Any] | None
    lots: list[tuple[str, CheckRecord | None]]
    """Each lot's code with the bedside check that cleared it."""
    reactions: list[Reaction] | None
    """Adverse events linked to the infusion; None when the role may not read them."""


def _reactions(session: Session, actor: Actor, infusion: Infusion) -> list[Reaction] | None:
    if not actor.may(Action.READ_IDENTITY):
        return None
    events = adverse_events.for_patient(session, actor, infusion.patient_id)
    return [
        Reaction(e.id, e.term, e.grade, e.onset_on, e.outcome)
        for e in events
        if e.infusion_id == infusion.id
    ]


def detail(session: Session, actor: Actor, infusion_id: uuid.UUID) -> InfusionDetail:
    """The infusion for this actor (404 for another site's), with what the page shows."""
    infusion = infusions.get(session, actor, infusion_id)
    patient = patients.get(session, actor, infusion.patient_id)
    checks = {check.id: check for check in checks_for(session, patient)}
    rows = session.execute(
        select(Lot.code, InfusionLot.bedside_check_id)
        .join(InfusionLot, InfusionLot.lot_id == Lot.id)
        .where(InfusionLot.infusion_id == infusion.id)
        .order_by(Lot.code)
    )
    names = names_of(session, {infusion.administered_by_id, infusion.verified_by_id})
    return InfusionDetail(
        infusion=infusions.view(session, infusion),
        patient=patients.view(actor, patient),
        administered_by=names.get(infusion.administered_by_id, "?"),
        verified_by=names.get(infusion.verified_by_id, "?"),
        premedication=[str(drug) for drug in infusion.premedication],
        vitals_before=dict(infusion.vitals_before),
        vitals_after=dict(infusion.vitals_after) if infusion.vitals_after else None,
        lots=[(row.code, checks.get(row.bedside_check_id)) for row in rows],
        reactions=_reactions(session, actor, infusion),
    )
