"""Follow-up visits (DESIGN.md pathway steps 5–6): the schedule generated from the first
infusion date and the protocol, each visit's status, recording, and the investigator's signature.

Rules (issue 5):

* Visits are generated from the first infusion date and the protocol; each knows whether it is
  done, due, overdue or out of window (``status``).
* Editing a recorded value after the visit was signed requires a reason; the old value stays in
  the audit trail, and the signature no longer covers the changed record, so it is cleared and
  the visit is signed again. Labs are superseded (flagged), never deleted.
* [PROJECT] A visit is dated between the first infusion and today: a scheduled follow-up visit
  cannot precede the infusion it follows, and nothing is recorded ahead of time. A date outside
  the visit's window is accepted and shows as out of window.
* Recording the first follow-up visit (study day > 0) moves an infused patient to follow-up.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from lupus_msc import __version__
from lupus_msc.services import accounts, patients, protocols, visit_labs, visit_scores
from lupus_msc.services.access import Action, Actor, fetch_patient_record, require
from lupus_msc.services.errors import invalid, refused
from lupus_msc.services.fields import In, Out, now, today
from lupus_msc.services.unit import give_reason
from lupus_msc.services.visit_findings import VisitIn, findings_of
from lupus_msc.services.visit_labs import LabOut
from lupus_msc.store.models import AuditEvent, Patient, PatientState, Visit

Status = Literal["done", "due", "overdue", "upcoming", "out-of-window"]
SIGNATURE_MEANING = "electronic signature: the investigator attests this visit's record"


class SignatureIn(In):
    """The investigator's re-entered password (electronic signature: name, time, meaning)."""

    password: Annotated[str, Field(min_length=1, max_length=200)]


class VisitOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    code: str
    study_day: int
    target_date: dt.date
    window_start: dt.date
    window_end: dt.date
    visit_date: dt.date | None
    status: Status
    assessments: list[str]
    findings: dict[str, Any]
    labs: list[LabOut]
    scores: dict[str, Any]
    engine_version: str | None
    signed_by_id: uuid.UUID | None
    signed_at: dt.datetime | None


def status(visit: Visit, on: dt.date) -> Status:
    """Where the visit stands on ``on``: done (dated within its window) or out-of-window (dated
    outside it); otherwise upcoming before the window, due within it, overdue after it."""
    if visit.visit_date is not None:
        inside = visit.window_start <= visit.visit_date <= visit.window_end
        return "done" if inside else "out-of-window"
    if on < visit.window_start:
        return "upcoming"
    return "due" if on <= visit.window_end else "overdue"


def schedule(session: Session, patient: Patient, first_infusion_date: dt.date) -> list[Visit]:
    """One visit per protocol visit on or after day 0, target = first infusion + day, window =
    [target − window_before_days, target + window_after_days]. A patient who already has a
    schedule keeps it: a second call creates nothing and returns the existing visits."""
    existing = _scheduled(session, patient.id)
    if existing:
        return existing
    protocol = protocols.definition(protocols.get(session, patient.protocol_version_id))
    for planned in protocol.visits:
        if planned.day < 0:
            continue
        target = first_infusion_date + dt.timedelta(days=planned.day)
        session.add(
            Visit(
                patient_id=patient.id,
                code=planned.code,
                study_day=planned.day,
                target_date=target,
                window_start=target - dt.timedelta(days=planned.window_before_days),
                window_end=target + dt.timedelta(days=planned.window_after_days),
                visit_date=None,
                findings={},
                scores={},
            )
        )
    session.flush()
    return _scheduled(session, patient.id)


def _scheduled(session: Session, patient_id: uuid.UUID) -> list[Visit]:
    query = select(Visit).where(Visit.patient_id == patient_id).order_by(Visit.study_day)
    return list(session.scalars(query))


def get(session: Session, actor: Actor, visit_id: uuid.UUID) -> Visit:
    """The visit if the actor may read identified records of its site (404 for other sites)."""
    require(actor, Action.READ_IDENTITY)
    return fetch_patient_record(session, actor, Visit, visit_id)


def _for_writing(session: Session, actor: Actor, visit_id: uuid.UUID) -> Visit:
    """The visit, locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
    visit = get(session, actor, visit_id)
    session.refresh(visit, with_for_update=True)
    return visit


def for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Visit]:
    require(actor, Action.READ_IDENTITY)
    return _scheduled(session, patients.get(session, actor, patient_id).id)


def first_infusion_date(visit: Visit) -> dt.date:
    """Day 0 of the schedule the visit belongs to."""
    return visit.target_date - dt.timedelta(days=visit.study_day)


def _ever_signed(session: Session, visit: Visit) -> bool:
    """Signed now, or signed before and changed since (the audit trail keeps the signature)."""
    if visit.signed_at is not None:
        return True
    signed = exists().where(
        AuditEvent.entity == Visit.__tablename__,
        AuditEvent.entity_id == str(visit.id),
        AuditEvent.field == "signed_at",
    )
    return bool(session.scalar(select(signed)))


def was_signed(session: Session, visit: Visit) -> bool:
    """Whether a change to the visit needs a reason (signed now, or signed before)."""
    return _ever_signed(session, visit)


def check_date(visit: Visit, day: dt.date) -> None:
    """Refused unless ``day`` lies between the first infusion and today (see the module)."""
    _check_date(visit, day)


def _check_date(visit: Visit, day: dt.date) -> None:
    start = first_infusion_date(visit)
    if not start <= day <= today():
        raise invalid(
            "visit_date", f"must be between the first infusion ({start}) and today ({today()})"
        )


def record(session: Session, actor: Actor, visit_id: uuid.UUID, data: VisitIn) -> Visit:
    """Record (or re-record) a visit: findings and labs replace what was there, scores are
    derived again. Refused, changing nothing, if any value is bad or a signed visit is changed
    without a reason."""
    require(actor, Action.RECORD_VISIT)
    visit = _for_writing(session, actor, visit_id)
    patient = patients.get(session, actor, visit.patient_id)
    return write(session, visit, patient, data)


def write(session: Session, visit: Visit, patient: Patient, data: VisitIn) -> Visit:
    """``record`` once the caller is known to be allowed and holds the visit's lock: ``record``
    checks a user; the system's imports (``lab_import``, no one signed in) call it directly."""
    _check_date(visit, data.visit_date)
    visit_labs.check(data.labs)
    measured = [visit_scores.measured_in(lab) for lab in data.labs]
    scores = visit_scores.derive(session, patient, data, measured)
    findings = findings_of(data)
    changed = (
        visit.visit_date != data.visit_date
        or visit.findings != findings
        or visit_labs.changes(session, visit.id, data.labs)
    )
    if changed and data.reason is None and _ever_signed(session, visit):
        raise invalid("reason", "is required: this visit was signed; say why it is changed")
    give_reason(session, data.reason)
    visit.visit_date = data.visit_date
    visit.findings = findings
    visit_labs.replace(session, visit.id, data.labs)
    visit.scores = scores
    visit.engine_version = __version__
    if changed and visit.signed_at is not None:
        visit.signed_by_id, visit.signed_at = None, None
    if visit.study_day > 0 and patient.state is PatientState.INFUSED:
        patients.move(session, patient, PatientState.FOLLOW_UP)
    session.flush()
    return visit


def sign(session: Session, actor: Actor, visit_id: uuid.UUID, data: SignatureIn) -> Visit:
    """The investigator's electronic signature on a recorded visit (re-entered password)."""
    require(actor, Action.SIGN_VISIT)
    visit = _for_writing(session, actor, visit_id)
    if visit.visit_date is None:
        raise refused("visit_date", "the visit is not recorded yet; record it, then sign it")
    if visit.signed_at is not None:
        raise refused("signed_at", f"the visit was signed at {visit.signed_at.isoformat()}")
    accounts.sign(session, actor, data.password)
    give_reason(session, SIGNATURE_MEANING)
    visit.signed_by_id = actor.user_id
    visit.signed_at = now()
    session.flush()
    return visit


def plain(value: Any) -> Any:
    """Stored JSON with exact decimals as JSON numbers (integers stay integers)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def view(session: Session, visit: Visit, on: dt.date | None = None) -> VisitOut:
    """The visit with its status on ``on`` (default today), its labs and assessments due."""
    patient = session.get(Patient, visit.patient_id)
    assert patient is not None  # noqa: S101 - foreign key
    protocol = protocols.definition(protocols.get(session, patient.protocol_version_id))
    planned = {item.code: item.assessments for item in protocol.visits}
    return VisitOut(
        id=visit.id,
        patient_id=visit.patient_id,
        code=visit.code,
        study_day=visit.study_day,
        target_date=visit.target_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
        visit_date=visit.visit_date,
        status=status(visit, on or today()),
        assessments=list(planned.get(visit.code, [])),
        findings=plain(visit.findings),
        labs=[LabOut.model_validate(lab) for lab in visit_labs.every(session, visit.id)],
        scores=plain(visit.scores),
        engine_version=visit.engine_version,
        signed_by_id=visit.signed_by_id,
        signed_at=visit.signed_at,
    )
