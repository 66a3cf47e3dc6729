"""The bedside identity check and the infusion itself (DESIGN.md pathway step 4).

Every gate of issue 5's infusion rule is checked here, each with its own refusal: active consent,
eligibility signed by a physician, a released, unexpired lot allocated to this patient and thawed
within the protocol's limit, a matched bedside check by two different qualified people, and a dose
within the protocol's range (§14, §16.15) unless a deviation is documented.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lupus_msc.cells import dose
from lupus_msc.cells.lot_state import LotState, transition
from lupus_msc.clinical.common import Num
from lupus_msc.protocol import Dosing, Protocol
from lupus_msc.services import accounts, consent, patients, protocols, visits
from lupus_msc.services.access import Action, Actor, fetch, fetch_patient_record, require
from lupus_msc.services.errors import NotFound, Refused, invalid, refused
from lupus_msc.services.fields import Digits, In, LongText, NumberOut, Out, ShortText, Text, now
from lupus_msc.store.models import (
    BedsideCheck,
    CustodyEvent,
    CustodyKind,
    Infusion,
    InfusionLot,
    Lot,
    Patient,
    PatientState,
    QualificationKind,
    ReleaseDecision,
    Role,
    Screening,
    User,
)

WeightKg = Annotated[Decimal, Num(ge=25, le=300), Digits]
"""Adult body weight, kg: below 25 or above 300 is refused as implausible [PROJECT range]."""
Cells = Annotated[Decimal, Num(gt=0, le="1e11"), Digits]
VolumeMl = Annotated[Decimal, Num(gt=0, le=1000), Digits]


class Vitals(In):
    """Vital signs; the ranges refuse values no living adult patient has [PROJECT ranges]."""

    systolic_mmhg: Annotated[int, Field(ge=50, le=260)]
    diastolic_mmhg: Annotated[int, Field(ge=20, le=160)]
    heart_rate_bpm: Annotated[int, Field(ge=20, le=250)]
    temperature_c: Annotated[Decimal, Num(ge=30, le=43), Digits]
    spo2_pct: Annotated[int, Field(ge=50, le=100)] | None = None
    respiratory_rate: Annotated[int, Field(ge=4, le=60)] | None = None


class BedsideCheckIn(In):
    """What the first checker scanned; the second checker confirms with their own password."""

    scanned_patient_code: Annotated[str, Field(min_length=1, max_length=20)]
    scanned_lot_code: Annotated[str, Field(min_length=1, max_length=24)]
    second_checker_email: Annotated[str, Field(min_length=3, max_length=254)]
    second_checker_password: Annotated[str, Field(min_length=1, max_length=200)]
    checked_at: dt.datetime | None = None
    """When the check was made (default: now); given when a paper record is entered later."""


class BedsideCheckOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    lot_id: uuid.UUID | None
    scanned_patient_code: str
    scanned_lot_code: str
    first_checker_id: uuid.UUID
    second_checker_id: uuid.UUID
    checked_at: dt.datetime
    matched: bool
    problem: str | None


class InfusionIn(In):
    bedside_check_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=4)]
    """One matched bedside check per lot infused."""
    weight_kg: WeightKg
    actual_cells: Cells
    actual_volume_ml: VolumeMl
    injection_site: ShortText | None = None
    premedication: Annotated[list[Text], Field(max_length=10)] = Field(default_factory=list)
    vitals_before: Vitals
    vitals_after: Vitals | None = None
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    dose_deviation: LongText | None = None
    """Why a dose outside the protocol's range was given (required in that case)."""

    @model_validator(mode="after")
    def _times(self) -> InfusionIn:
        if self.started_at.tzinfo is None:
            raise ValueError("started_at must carry a time zone")
        if self.ended_at is not None and self.ended_at.tzinfo is None:
            raise ValueError("ended_at must carry a time zone")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        return self


class InfusionOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    number: int
    route: str
    injection_site: str | None
    weight_kg: NumberOut
    target_dose_per_kg: NumberOut
    computed_cells: NumberOut
    computed_volume_ml: NumberOut
    actual_cells: NumberOut
    actual_volume_ml: NumberOut
    actual_dose_per_kg: NumberOut
    within_range: bool
    dose_deviation: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    administered_by_id: uuid.UUID
    verified_by_id: uuid.UUID
    lot_ids: list[uuid.UUID]


def _lot_by_code(session: Session, code: str) -> Lot | None:
    return session.scalar(select(Lot).where(Lot.code == code.strip().upper()))


def _mismatch(patient: Patient, lot: Lot | None, data: BedsideCheckIn) -> str | None:
    if data.scanned_patient_code.strip().upper() != patient.study_code:
        return f"the wristband says {data.scanned_patient_code}, the record {patient.study_code}"
    if lot is None:
        return f"no lot {data.scanned_lot_code} exists"
    if lot.allocated_patient_id != patient.id:
        return f"lot {lot.code} is not allocated to {patient.study_code}"
    return None


def _second_checker(session: Session, actor: Actor, data: BedsideCheckIn) -> User:
    user = session.scalar(select(User).where(User.email == data.second_checker_email.lower()))
    if user is None or not accounts.password_matches(user, data.second_checker_password):
        raise invalid("second_checker_password", "the second checker's email or password is wrong")
    if user.id == actor.user_id:
        raise refused("second_checker_email", "the two checkers must be different people")
    return user


def _require_qualified(user: User, field: str, day: dt.date) -> None:
    if not any(
        q.kind is QualificationKind.INFUSION and q.valid_on(day) for q in user.qualifications
    ):
        raise refused(field, f"{user.full_name} has no valid infusion qualification")


def check_at_bedside(
    session: Session, actor: Actor, patient_id: uuid.UUID, data: BedsideCheckIn
) -> BedsideCheck:
    """Record the two-person identity check. A mismatch is recorded too (``matched`` false),
    so the caller commits it and then refuses: the log keeps every blocked attempt."""
    require(actor, Action.CHECK_AT_BEDSIDE)
    patient = patients.get(session, actor, patient_id)
    second = _second_checker(session, actor, data)
    today = (data.checked_at or now()).date()
    first = session.get(User, actor.user_id)
    assert first is not None  # noqa: S101 - the actor exists
    _require_qualified(first, "first_checker", today)
    _require_qualified(second, "second_checker_email", today)
    if patient.site_id not in second.site_ids:
        raise refused("second_checker_email", "the second checker is not a member of this site")
    checked_at = data.checked_at or now()
    if checked_at.tzinfo is None or checked_at > now():
        raise invalid("checked_at", "must carry a time zone and not be in the future")
    lot = _lot_by_code(session, data.scanned_lot_code)
    problem = _mismatch(patient, lot, data)
    check = BedsideCheck(
        patient_id=patient.id,
        lot_id=lot.id if lot is not None else None,
        scanned_patient_code=data.scanned_patient_code,
        scanned_lot_code=data.scanned_lot_code,
        first_checker_id=actor.user_id,
        second_checker_id=second.id,
        checked_at=checked_at,
        matched=problem is None,
        problem=problem,
    )
    session.add(check)
    if problem is None and lot is not None:
        session.add(_custody(lot, CustodyKind.BEDSIDE_VERIFIED, actor, check.checked_at))
    session.flush()
    return check


def _custody(lot: Lot, kind: CustodyKind, actor: Actor, at: dt.datetime) -> CustodyEvent:
    return CustodyEvent(lot_id=lot.id, kind=kind, at=at, by_id=actor.user_id, location="bedside")


def _require_consent_and_eligibility(session: Session, patient: Patient) -> None:
    require_consent(session, patient)
    require_eligibility(session, patient)


def require_consent(session: Session, patient: Patient) -> None:
    """Refused unless the patient has an active (not withdrawn) consent."""
    if consent.active(session, patient) is None:
        raise refused("consent", "the patient has no active consent")


def require_eligibility(session: Session, patient: Patient) -> None:
    """Refused unless the latest screening was decided eligible and signed by a physician."""
    query = select(Screening).where(Screening.patient_id == patient.id)
    latest = session.scalars(query.order_by(Screening.created_at.desc())).first()
    if latest is None or latest.decision != "eligible":
        raise refused("eligibility", "no signed decision that the patient is eligible")
    signer = session.get(User, latest.decided_by_id) if latest.decided_by_id else None
    if signer is None or signer.role is not Role.PHYSICIAN:
        raise refused("eligibility", "eligibility must be signed by a physician")


def _require_usable_lot(
    session: Session, patient: Patient, check: BedsideCheck, protocol: Protocol, start: dt.datetime
) -> Lot:
    lot = session.get(Lot, check.lot_id) if check.lot_id else None
    if not check.matched or lot is None or check.patient_id != patient.id:
        raise refused("bedside_check_ids", "the bedside identity check did not match this patient")
    require_lot_ready(session, patient, lot, protocol, start)
    if not lot.thawed_at or not lot.thawed_at <= check.checked_at <= start:
        raise refused(
            "bedside_check_ids", "the bedside check must come after thawing and before the start"
        )
    return lot


def require_lot_ready(
    session: Session, patient: Patient, lot: Lot, protocol: Protocol, start: dt.datetime
) -> None:
    """Refused unless ``lot`` is allocated to ``patient``, released by a qualified person,
    unexpired on the day of ``start`` and thawed no more than the protocol's limit before it."""
    if lot.allocated_patient_id != patient.id:
        raise refused("bedside_check_ids", f"lot {lot.code} is not allocated to this patient")
    released = session.scalar(
        select(ReleaseDecision).where(
            ReleaseDecision.lot_id == lot.id, ReleaseDecision.decision == "release"
        )
    )
    if released is None:
        raise refused("lot", f"lot {lot.code} was never released by a qualified person")
    if lot.expires_on < start.date():
        raise refused("lot", f"lot {lot.code} expired on {lot.expires_on.isoformat()}")
    if lot.state is not LotState.THAWED or lot.thawed_at is None:
        raise refused("lot", f"lot {lot.code} is {lot.state.value}, not thawed")
    waited = start - lot.thawed_at
    limit = protocol.dosing.thaw_to_infusion_max_minutes
    if waited > dt.timedelta(minutes=limit) or waited < dt.timedelta(0):
        raise refused(
            "started_at", f"lot {lot.code} was thawed {waited} before; the limit is {limit} min"
        )


def _dose(protocol: Protocol, lots: list[Lot], data: InfusionIn) -> dose.MscDoseResult:
    """Target cells and volume for this weight (§14: cells = dose/kg × actual weight, §16.15)."""
    return dose_for(
        protocol.dosing,
        viable_cells_per_ml=lots[0].viable_cells_per_ml,
        weight_kg=data.weight_kg,
        actual_cells=data.actual_cells,
    )


def dose_for(
    dosing: Dosing,
    *,
    viable_cells_per_ml: Decimal,
    weight_kg: Decimal,
    actual_cells: Decimal | None,
) -> dose.MscDoseResult:
    """The protocol's dose for this weight and lot concentration, and the range check of the
    cells actually given (§14: cells = dose/kg × actual weight; volume = cells ÷ viable/mL;
    §16.15), by the ``msc-dose`` instrument."""
    return dose.score(
        dose.MscDoseInput(
            weight_kg=weight_kg,
            dose_per_kg=dosing.dose_per_kg,
            viable_cells_per_ml=viable_cells_per_ml,
            dose_min_per_kg=dosing.dose_min_per_kg,
            dose_max_per_kg=dosing.dose_max_per_kg,
            actual_cells=actual_cells,
        )
    )


def record(session: Session, actor: Actor, patient_id: uuid.UUID, data: InfusionIn) -> Infusion:
    """Record an infusion once every gate holds; the lot(s) become infused."""
    require(actor, Action.RECORD_INFUSION)
    patient = patients.get(session, actor, patient_id)
    if not actor.qualified(QualificationKind.INFUSION, data.started_at.date()):
        raise refused("administered_by", "you have no valid qualification to administer infusions")
    if data.started_at > now():
        raise invalid("started_at", "must not be in the future")
    _require_consent_and_eligibility(session, patient)
    if patient.state not in {PatientState.ENROLLED, PatientState.INFUSED, PatientState.FOLLOW_UP}:
        raise refused("state", f"a patient who is {patient.state.value} is not infused")
    protocol = protocols.definition(protocols.get(session, patient.protocol_version_id))
    done = session.scalar(select(func.count()).where(Infusion.patient_id == patient.id)) or 0
    if done >= protocol.dosing.infusions:
        raise refused("number", f"the protocol gives {protocol.dosing.infusions} infusion(s)")
    checks = [
        _check(session, actor, check_id) for check_id in dict.fromkeys(data.bedside_check_ids)
    ]
    lots = [_require_usable_lot(session, patient, c, protocol, data.started_at) for c in checks]
    if protocol.dosing.route == "local-injection" and data.injection_site is None:
        raise invalid("injection_site", "is required for a local injection")
    result = _dose(protocol, lots, data)
    if result.within_range is False and data.dose_deviation is None:
        raise refused(
            "actual_cells",
            f"{result.actual_per_kg} cells/kg is outside the protocol's range; "
            "document a dose_deviation to proceed",
        )
    infusion = _infusion(patient, actor, checks[0], protocol, result, data, number=done + 1)
    session.add(infusion)
    session.flush()
    for check, lot in zip(checks, lots, strict=True):
        lot.state = transition(lot.state, LotState.INFUSED)
        session.add(InfusionLot(infusion_id=infusion.id, lot_id=lot.id, bedside_check_id=check.id))
        session.add(_custody(lot, CustodyKind.INFUSED, actor, data.started_at))
    if patient.state is PatientState.ENROLLED:
        patients.move(session, patient, PatientState.INFUSED)
        visits.schedule(session, patient, data.started_at.date())
    session.flush()
    return infusion


def _check(session: Session, actor: Actor, check_id: uuid.UUID) -> BedsideCheck:
    try:
        return fetch_patient_record(session, actor, BedsideCheck, check_id)
    except NotFound as error:
        raise invalid("bedside_check_ids", f"no bedside check {check_id}") from error


def _infusion(
    patient: Patient,
    actor: Actor,
    check: BedsideCheck,
    protocol: Protocol,
    result: dose.MscDoseResult,
    data: InfusionIn,
    *,
    number: int,
) -> Infusion:
    assert result.actual_per_kg is not None and result.within_range is not None  # noqa: S101
    return Infusion(
        patient_id=patient.id,
        number=number,
        route=protocol.dosing.route,
        injection_site=data.injection_site,
        weight_kg=data.weight_kg,
        target_dose_per_kg=protocol.dosing.dose_per_kg,
        computed_cells=result.target_cells,
        computed_volume_ml=result.volume_ml.quantize(Decimal("0.01")),
        actual_cells=data.actual_cells,
        actual_volume_ml=data.actual_volume_ml,
        actual_dose_per_kg=result.actual_per_kg.quantize(Decimal(1)),
        within_range=result.within_range,
        dose_deviation=data.dose_deviation,
        premedication=list(data.premedication),
        vitals_before=data.vitals_before.model_dump(mode="json"),
        vitals_after=data.vitals_after.model_dump(mode="json") if data.vitals_after else None,
        started_at=data.started_at,
        ended_at=data.ended_at,
        administered_by_id=actor.user_id,
        verified_by_id=check.second_checker_id,
    )


def _schedule_follow_up(session: Session, patient: Patient, first_day: dt.date) -> None:
    from lupus_msc.services import (
        visits,
    )  # written alongside; imported late to keep this module small

    visits.schedule(session, patient, first_day)


def view(session: Session, infusion: Infusion) -> InfusionOut:
    lot_ids = session.scalars(
        select(InfusionLot.lot_id).where(InfusionLot.infusion_id == infusion.id)
    )
    return InfusionOut.model_validate({**_columns(infusion), "lot_ids": list(lot_ids)})


def _columns(infusion: Infusion) -> dict[str, object]:
    return {column.key: getattr(infusion, column.key) for column in Infusion.__table__.columns}


def get(session: Session, actor: Actor, infusion_id: uuid.UUID) -> Infusion:
    """The infusion if the actor may read patients of its patient's site (404 otherwise)."""
    require(actor, Action.READ_PATIENTS)
    return fetch(session, actor, Infusion, infusion_id, site=lambda i: _patient_site(session, i))


def _patient_site(session: Session, infusion: Infusion) -> uuid.UUID:
    patient = session.get(Patient, infusion.patient_id)
    assert patient is not None  # noqa: S101 - foreign key
    return patient.site_id


def for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Infusion]:
    patient = patients.get(session, actor, patient_id)
    query = select(Infusion).where(Infusion.patient_id == patient.id).order_by(Infusion.number)
    return list(session.scalars(query))


__all__ = [
    "Refused",
    "check_at_bedside",
    "dose_for",
    "for_patient",
    "get",
    "record",
    "require_consent",
    "require_eligibility",
    "require_lot_ready",
    "view",
]
