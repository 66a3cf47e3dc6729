"""Register patients, read them (identified or de-identified), correct them, move them along the
pathway (DESIGN.md pathway step 1)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from lupus_msc.services import dashboard, pathway, protocols
from lupus_msc.services.access import Action, Actor, fetch, require, require_site
from lupus_msc.services.errors import NotFound, invalid, refused
from lupus_msc.services.fields import In, Out, Reason, ShortText, today
from lupus_msc.services.unit import give_reason
from lupus_msc.store.models import Patient, PatientState, Sex, Site

EARLIEST_BIRTH = dt.date(1900, 1, 1)
RecordNumber = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9/._-]+$")]


class PatientIn(In):
    site_id: uuid.UUID
    given_name: ShortText
    family_name: ShortText
    date_of_birth: dt.date
    sex: Sex
    medical_record_number: RecordNumber
    diagnosis_date: dt.date | None = None
    protocol_version_id: uuid.UUID | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth(cls, born: dt.date) -> dt.date:
        if not EARLIEST_BIRTH <= born <= today():
            raise ValueError("must be between 1900-01-01 and today")
        return born

    @field_validator("diagnosis_date")
    @classmethod
    def _plausible_diagnosis(
        cls, diagnosed: dt.date | None, info: ValidationInfo
    ) -> dt.date | None:
        born = info.data.get("date_of_birth")
        if diagnosed is not None and born is not None and not born <= diagnosed <= today():
            raise ValueError("must be between the date of birth and today")
        return diagnosed


def check_dates(born: dt.date, diagnosed: dt.date | None) -> None:
    """A birth date after 1900 and not in the future; a diagnosis between birth and today."""
    if not EARLIEST_BIRTH <= born <= today():
        raise invalid("date_of_birth", "must be between 1900-01-01 and today")
    if diagnosed is not None and not born <= diagnosed <= today():
        raise invalid("diagnosis_date", "must be between the date of birth and today")


class PatientEdit(In):
    """A correction of the patient's record; ``reason`` is kept in the audit trail."""

    given_name: ShortText | None = None
    family_name: ShortText | None = None
    date_of_birth: dt.date | None = None
    sex: Sex | None = None
    medical_record_number: RecordNumber | None = None
    diagnosis_date: dt.date | None = None
    reason: Reason


class TransitionIn(In):
    to: PatientState
    reason: Reason


class PatientOut(Out):
    """A patient as the actor may see them: without READ_IDENTITY, identity fields are null."""

    id: uuid.UUID
    site_id: uuid.UUID
    study_code: str
    protocol_version_id: uuid.UUID
    state: PatientState
    sex: Sex
    birth_year: int
    diagnosis_year: int | None
    deidentified: bool
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: dt.date | None = None
    medical_record_number: str | None = None
    diagnosis_date: dt.date | None = None


def view(actor: Actor, patient: Patient) -> PatientOut:
    """The patient for this actor; statisticians and lab staff get no direct identifiers."""
    identified = actor.may(Action.READ_IDENTITY)
    out = PatientOut(
        id=patient.id,
        site_id=patient.site_id,
        study_code=patient.study_code,
        protocol_version_id=patient.protocol_version_id,
        state=patient.state,
        sex=patient.sex,
        birth_year=patient.date_of_birth.year,
        diagnosis_year=patient.diagnosis_date.year if patient.diagnosis_date else None,
        deidentified=not identified,
    )
    if identified:
        out.given_name = patient.given_name
        out.family_name = patient.family_name
        out.date_of_birth = patient.date_of_birth
        out.medical_record_number = patient.medical_record_number
        out.diagnosis_date = patient.diagnosis_date
    return out


def get(session: Session, actor: Actor, patient_id: uuid.UUID) -> Patient:
    """The patient if the actor may read patients of their site (404 otherwise)."""
    require(actor, Action.READ_PATIENTS)
    return fetch(session, actor, Patient, patient_id)


def sites_for(session: Session, actor: Actor) -> list[Site]:
    """The sites the actor works at (every site for admins), by code: the list's site filter
    and the sites a patient may be registered at."""
    query = select(Site).order_by(Site.code)
    if not actor.all_sites:
        query = query.where(Site.id.in_(actor.site_ids))
    return list(session.scalars(query))


def listing(
    session: Session,
    actor: Actor,
    *,
    site_id: uuid.UUID | None,
    limit: int,
    offset: int,
    search: str | None = None,
    state: PatientState | None = None,
    protocol_version_id: uuid.UUID | None = None,
    reached: PatientState | None = None,
    visits: str | None = None,
) -> list[Patient]:
    """Patients of the actor's sites by study code, a page at a time (LIMIT/OFFSET).

    ``search`` matches the start of the study code (case-insensitive) and, for roles that may
    read identity only, the start of the given or family name or the whole medical record
    number. Filters: site, pathway state, protocol, the funnel stage a patient ``reached``
    (eligible or infused) and ``visits`` (``due`` this week or ``overdue``), the last two with the
    dashboard's own definitions (``services.dashboard``), so a figure and its list agree.

    Speed on 100,000 patients: a page walks the unique study-code index in order and stops after
    ``limit`` rows. On SQLite (no planner statistics) the site index would win instead and every
    patient of the site would be sorted for each page, so there a site's patients are also asked
    for as their study-code range (a site's codes are its code and a dash, ``A01-0001``, see
    ``register``) and the site condition, which still decides, is wrapped in COALESCE so that it
    is not taken as the index to use. SQLite compares text by code point, so the ranges are exact.
    """
    require(actor, Action.READ_PATIENTS)
    sqlite = session.get_bind().dialect.name == "sqlite"
    query = select(Patient).order_by(Patient.study_code).limit(limit).offset(offset)
    site_column = func.coalesce(Patient.site_id, Patient.site_id) if sqlite else Patient.site_id
    if not actor.all_sites:
        query = query.where(site_column.in_(actor.site_ids))
    if site_id is not None:
        query = query.where(site_column == site_id)
    one_site = site_id if site_id is not None else _only(actor)
    if sqlite and one_site is not None:
        code = session.scalar(select(Site.code).where(Site.id == one_site))
        if code is None:
            return []
        query = query.where(_code_prefix(f"{code}-", sqlite=True))
    if state is not None:
        query = query.where(Patient.state == state)
    if protocol_version_id is not None:
        query = query.where(Patient.protocol_version_id == protocol_version_id)
    if reached is not None:
        query = query.where(dashboard.reached(reached))
    if visits is not None:
        query = query.where(dashboard.pending_visits(visits, today()))
    text = (search or "").strip()
    if text:
        query = query.where(_matching(session, actor, text, sqlite=sqlite))
    return list(session.scalars(query))


def _only(actor: Actor) -> uuid.UUID | None:
    """The actor's site when they see exactly one."""
    return next(iter(actor.site_ids)) if not actor.all_sites and len(actor.site_ids) == 1 else None


def _code_prefix(prefix: str, *, sqlite: bool) -> ColumnElement[bool]:
    """Study codes starting with ``prefix``: an index range on SQLite (binary collation), a
    LIKE elsewhere (a range is not exact under a database's linguistic collation)."""
    if sqlite:
        return and_(Patient.study_code >= prefix, Patient.study_code < prefix + "\uffff")
    return Patient.study_code.startswith(prefix, autoescape=True)


def _matching(session: Session, actor: Actor, text: str, *, sqlite: bool) -> ColumnElement[bool]:
    """The search condition: a study-code prefix, and for roles that may read identity also a
    name prefix or the record number. A text that starts with a site code and a dash
    (``A01-00``) is a study code only, which the study-code index answers without a scan."""
    code = text.upper()
    by_code = _code_prefix(code, sqlite=sqlite)
    site_codes = frozenset(session.scalars(select(Site.code)))
    if "-" in code and code.split("-", 1)[0] in site_codes:
        return by_code
    found: list[ColumnElement[bool]] = [by_code]
    if actor.may(Action.READ_IDENTITY):
        prefix = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found += [
            func.lower(Patient.family_name).like(prefix + "%", escape="\\"),
            func.lower(Patient.given_name).like(prefix + "%", escape="\\"),
            Patient.medical_record_number == text,
        ]
    return or_(*found)


def _study_code(session: Session, site: Site) -> str:
    count = session.scalar(select(func.count()).where(Patient.site_id == site.id)) or 0
    return f"{site.code}-{count + 1:04d}"


def _refuse_duplicate(session: Session, site_id: uuid.UUID, record_number: str) -> None:
    """A medical record number names one patient per site (409 naming the other one)."""
    duplicate = session.scalar(
        select(Patient.study_code).where(
            Patient.site_id == site_id,
            Patient.medical_record_number == record_number,
        )
    )
    if duplicate is not None:
        raise refused("medical_record_number", f"already registered as {duplicate}")


def register(session: Session, actor: Actor, data: PatientIn) -> Patient:
    """A referred patient with a site-prefixed study code (``A01-0001``)."""
    require_site(actor, data.site_id, Action.REGISTER_PATIENT)
    site = session.get(Site, data.site_id)
    if site is None:
        raise NotFound(f"no site {data.site_id}")
    _refuse_duplicate(session, site.id, data.medical_record_number)
    version = (
        protocols.get(session, data.protocol_version_id)
        if data.protocol_version_id
        else protocols.newest(session)
    )
    patient = Patient(
        **data.model_dump(exclude={"protocol_version_id"}),
        protocol_version_id=version.id,
        study_code=_study_code(session, site),
        state=PatientState.REFERRED,
    )
    session.add(patient)
    session.flush()
    return patient


def edit(session: Session, actor: Actor, patient_id: uuid.UUID, data: PatientEdit) -> Patient:
    """Correct identity fields; the reason and every old value stay in the audit trail."""
    require(actor, Action.EDIT_PATIENT)
    patient = get(session, actor, patient_id)
    changes = data.model_dump(exclude={"reason"}, exclude_none=True)
    born = changes.get("date_of_birth", patient.date_of_birth)
    check_dates(born, changes.get("diagnosis_date", patient.diagnosis_date))
    number = changes.get("medical_record_number", patient.medical_record_number)
    if number != patient.medical_record_number:
        _refuse_duplicate(session, patient.site_id, number)
    give_reason(session, data.reason)
    for field, value in changes.items():
        setattr(patient, field, value)
    session.flush()
    return patient


def move(session: Session, patient: Patient, target: PatientState) -> None:
    """Move ``patient`` to ``target`` if the pathway allows it (steps call this themselves)."""
    problem = pathway.move_error(patient.state, target)
    if problem is not None:
        raise refused("state", problem)
    patient.state = target


def transition(
    session: Session, actor: Actor, patient_id: uuid.UUID, data: TransitionIn
) -> Patient:
    """A state change asked for directly (start screening, enrol, complete, withdraw …)."""
    require(actor, Action.EDIT_PATIENT)
    patient = get(session, actor, patient_id)
    if data.to in pathway.SET_BY_STEP:
        raise refused("to", f"{data.to.value} is set by {pathway.SET_BY_STEP[data.to]}")
    give_reason(session, data.reason)
    move(session, patient, data.to)
    session.flush()
    return patient
