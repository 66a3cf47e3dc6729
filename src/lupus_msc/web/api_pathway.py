"""``/api/v1``: screening and its signed decision, consent, bedside check and infusion."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from lupus_msc.services import consent, infusions, screening
from lupus_msc.services.consent import ConsentIn, ConsentOut, WithdrawalIn
from lupus_msc.services.errors import Refused
from lupus_msc.services.infusions import BedsideCheckIn, BedsideCheckOut, InfusionIn, InfusionOut
from lupus_msc.services.screening import DecisionIn, ScreeningIn, ScreeningOut
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1", tags=["pathway"])


@router.post("/patients/{patient_id}/screenings", status_code=201, response_model=ScreeningOut)
def record_screening(
    patient_id: uuid.UUID, data: ScreeningIn, actor: ActorDep, registry: DatabaseDep
) -> ScreeningOut:
    """Record a screening; the protocol's eligibility rules are evaluated at once."""
    with unit_of_work(registry, actor) as session:
        return ScreeningOut.model_validate(screening.record(session, actor, patient_id, data))


@router.get("/patients/{patient_id}/screenings", response_model=list[ScreeningOut])
def list_screenings(
    patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> list[ScreeningOut]:
    """The patient's screenings, oldest first, with each rule's result."""
    with registry.reads() as session:
        found = screening.for_patient(session, actor, patient_id)
        return [ScreeningOut.model_validate(item) for item in found]


@router.post("/screenings/{screening_id}/decision", response_model=ScreeningOut)
def decide_eligibility(
    screening_id: uuid.UUID, data: DecisionIn, actor: ActorDep, registry: DatabaseDep
) -> ScreeningOut:
    """The physician's signed decision (password re-entered); a reason if it overrides the rules."""
    with unit_of_work(registry, actor) as session:
        return ScreeningOut.model_validate(screening.decide(session, actor, screening_id, data))


@router.post("/patients/{patient_id}/consents", status_code=201, response_model=ConsentOut)
def record_consent(
    patient_id: uuid.UUID, data: ConsentIn, actor: ActorDep, registry: DatabaseDep
) -> ConsentOut:
    """Record the consent of an eligible patient (the patient becomes consented)."""
    with unit_of_work(registry, actor) as session:
        return ConsentOut.model_validate(consent.record(session, actor, patient_id, data))


@router.get("/patients/{patient_id}/consents", response_model=list[ConsentOut])
def list_consents(
    patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> list[ConsentOut]:
    """The patient's consents, withdrawn ones included."""
    with registry.reads() as session:
        return [
            ConsentOut.model_validate(c) for c in consent.for_patient(session, actor, patient_id)
        ]


@router.post("/consents/{consent_id}/withdrawal", response_model=ConsentOut)
def withdraw_consent(
    consent_id: uuid.UUID, data: WithdrawalIn, actor: ActorDep, registry: DatabaseDep
) -> ConsentOut:
    """Withdraw consent: the patient leaves the pathway as withdrawn; nothing is deleted."""
    with unit_of_work(registry, actor) as session:
        return ConsentOut.model_validate(consent.withdraw(session, actor, consent_id, data))


@router.post(
    "/patients/{patient_id}/bedside-checks", status_code=201, response_model=BedsideCheckOut
)
def check_at_bedside(
    patient_id: uuid.UUID, data: BedsideCheckIn, actor: ActorDep, registry: DatabaseDep
) -> BedsideCheckOut:
    """Two-person identity check of patient and lot. A mismatch is kept on file, then refused."""
    with unit_of_work(registry, actor) as session:
        check = BedsideCheckOut.model_validate(
            infusions.check_at_bedside(session, actor, patient_id, data)
        )
    if not check.matched:
        problem = check.problem or "mismatch"
        raise Refused(f"identity mismatch: {problem}", [("scanned_lot_code", problem)])
    return check


@router.post("/patients/{patient_id}/infusions", status_code=201, response_model=InfusionOut)
def record_infusion(
    patient_id: uuid.UUID, data: InfusionIn, actor: ActorDep, registry: DatabaseDep
) -> InfusionOut:
    """Record an infusion; refused unless every gate of the pathway holds."""
    with unit_of_work(registry, actor) as session:
        return infusions.view(session, infusions.record(session, actor, patient_id, data))


@router.get("/patients/{patient_id}/infusions", response_model=list[InfusionOut])
def list_infusions(
    patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> list[InfusionOut]:
    """The patient's infusions with dose, lots and staff."""
    with registry.reads() as session:
        found = infusions.for_patient(session, actor, patient_id)
        return [infusions.view(session, infusion) for infusion in found]
