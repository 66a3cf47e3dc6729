"""``/api/v1`` follow-up: the visit schedule and its records with their signature, medications
and adverse events (DESIGN.md pathway steps 5–7)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from lupus_msc.services import adverse_events, medications, visits
from lupus_msc.services.adverse_events import AdverseEventEdit, AdverseEventIn, AdverseEventOut
from lupus_msc.services.medications import MedicationEdit, MedicationIn, MedicationOut
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.services.visits import SignatureIn, VisitOut
from lupus_msc.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1", tags=["follow-up"])


@router.get("/patients/{patient_id}/visits", response_model=list[VisitOut])
def list_visits(patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> list[VisitOut]:
    """The patient's follow-up schedule, each visit with its status today (done, due, overdue,
    upcoming, out-of-window)."""
    with registry.reads() as session:
        found = visits.for_patient(session, actor, patient_id)
        return [visits.view(session, visit) for visit in found]


@router.get("/visits/{visit_id}", response_model=VisitOut)
def read_visit(visit_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> VisitOut:
    with registry.reads() as session:
        return visits.view(session, visits.get(session, actor, visit_id))


@router.put("/visits/{visit_id}", response_model=VisitOut)
def record_visit(
    visit_id: uuid.UUID, data: VisitIn, actor: ActorDep, registry: DatabaseDep
) -> VisitOut:
    """Record the visit (the whole record: findings and labs); scores are derived again. A
    signed visit changes only with a ``reason``, and then needs signing again."""
    with unit_of_work(registry, actor) as session:
        return visits.view(session, visits.record(session, actor, visit_id, data))


@router.post("/visits/{visit_id}/sign", response_model=VisitOut)
def sign_visit(
    visit_id: uuid.UUID, data: SignatureIn, actor: ActorDep, registry: DatabaseDep
) -> VisitOut:
    """The investigator's electronic signature (password re-entered)."""
    with unit_of_work(registry, actor) as session:
        return visits.view(session, visits.sign(session, actor, visit_id, data))


@router.get("/patients/{patient_id}/medications", response_model=list[MedicationOut])
def list_medications(
    patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> list[MedicationOut]:
    with registry.reads() as session:
        found = medications.for_patient(session, actor, patient_id)
        return [MedicationOut.model_validate(item) for item in found]


@router.post(
    "/patients/{patient_id}/medications",
    status_code=201,
    response_model=MedicationOut,
)
def record_medication(
    patient_id: uuid.UUID, data: MedicationIn, actor: ActorDep, registry: DatabaseDep
) -> MedicationOut:
    """A medication; systemic glucocorticoids get their prednisone equivalent (§11)."""
    with unit_of_work(registry, actor) as session:
        return MedicationOut.model_validate(medications.record(session, actor, patient_id, data))


@router.get("/medications/{medication_id}", response_model=MedicationOut)
def read_medication(
    medication_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> MedicationOut:
    with registry.reads() as session:
        return MedicationOut.model_validate(medications.get(session, actor, medication_id))


@router.patch("/medications/{medication_id}", response_model=MedicationOut)
def edit_medication(
    medication_id: uuid.UUID, data: MedicationEdit, actor: ActorDep, registry: DatabaseDep
) -> MedicationOut:
    """Stop a running medication (``stopped_on`` alone), or correct one with a ``reason``."""
    with unit_of_work(registry, actor) as session:
        edited = medications.edit(session, actor, medication_id, data)
        return MedicationOut.model_validate(edited)


@router.get("/patients/{patient_id}/adverse-events", response_model=list[AdverseEventOut])
def list_adverse_events(
    patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> list[AdverseEventOut]:
    with registry.reads() as session:
        found = adverse_events.for_patient(session, actor, patient_id)
        return [adverse_events.view(event) for event in found]


@router.post(
    "/patients/{patient_id}/adverse-events",
    status_code=201,
    response_model=AdverseEventOut,
)
def record_adverse_event(
    patient_id: uuid.UUID, data: AdverseEventIn, actor: ActorDep, registry: DatabaseDep
) -> AdverseEventOut:
    """An adverse event; CTCAE lab terms are graded from the lab value (§12)."""
    with unit_of_work(registry, actor) as session:
        return adverse_events.view(adverse_events.record(session, actor, patient_id, data))


@router.get("/adverse-events/{event_id}", response_model=AdverseEventOut)
def read_adverse_event(
    event_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> AdverseEventOut:
    with registry.reads() as session:
        return adverse_events.view(adverse_events.get(session, actor, event_id))


@router.patch("/adverse-events/{event_id}", response_model=AdverseEventOut)
def edit_adverse_event(
    event_id: uuid.UUID, data: AdverseEventEdit, actor: ActorDep, registry: DatabaseDep
) -> AdverseEventOut:
    """Correct an event with a ``reason``, or record the resolution of an unresolved one."""
    with unit_of_work(registry, actor) as session:
        return adverse_events.view(adverse_events.edit(session, actor, event_id, data))
