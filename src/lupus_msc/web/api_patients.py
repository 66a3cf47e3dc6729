"""``/api/v1/patients``: register, read, correct and move patients along the pathway."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from lupus_msc.services import patients
from lupus_msc.services.patients import PatientEdit, PatientIn, PatientOut, TransitionIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("", response_model=list[PatientOut])
def list_patients(
    actor: ActorDep,
    registry: DatabaseDep,
    site_id: uuid.UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[PatientOut]:
    """Patients of the actor's sites, by study code, a page at a time."""
    with registry.reads() as session:
        found = patients.listing(session, actor, site_id=site_id, limit=limit, offset=offset)
        return [patients.view(actor, patient) for patient in found]


@router.post("", status_code=201, response_model=PatientOut)
def register_patient(data: PatientIn, actor: ActorDep, registry: DatabaseDep) -> PatientOut:
    """Register a referred patient under a site-prefixed study code."""
    with unit_of_work(registry, actor) as session:
        return patients.view(actor, patients.register(session, actor, data))


@router.get("/{patient_id}", response_model=PatientOut)
def read_patient(patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> PatientOut:
    """One patient (de-identified for roles without access to identity)."""
    with registry.reads() as session:
        return patients.view(actor, patients.get(session, actor, patient_id))


@router.patch("/{patient_id}", response_model=PatientOut)
def correct_patient(
    patient_id: uuid.UUID, data: PatientEdit, actor: ActorDep, registry: DatabaseDep
) -> PatientOut:
    """Correct the patient's record; ``reason`` is required and kept with the old values."""
    with unit_of_work(registry, actor) as session:
        return patients.view(actor, patients.edit(session, actor, patient_id, data))


@router.post("/{patient_id}/transitions", response_model=PatientOut)
def move_patient(
    patient_id: uuid.UUID, data: TransitionIn, actor: ActorDep, registry: DatabaseDep
) -> PatientOut:
    """Move the patient along the pathway (illegal moves are refused with the allowed ones)."""
    with unit_of_work(registry, actor) as session:
        return patients.view(actor, patients.transition(session, actor, patient_id, data))
