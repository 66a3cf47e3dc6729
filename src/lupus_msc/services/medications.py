"""Medications: drug, dose, unit, frequency, route, start and stop, with the prednisone
equivalent derived for systemic glucocorticoids (DESIGN.md pathway step 6; §11, §16.11).

Rules:

* A medication is taken between the patient's birth and today; it stops on or after its start
  and not in the future.
* A glucocorticoid of the §11 table taken orally or intravenously gets its prednisone-equivalent
  mg/day from the ``prednisone-equivalent`` instrument: it is dosed in mg (§11 inputs), on a
  regular schedule (``monthly`` and ``as-needed`` have no daily average), at most 2000 mg a dose
  ([PROJECT]: above a 1 g methylprednisolone pulse with room to spare). Other drugs, and
  glucocorticoids by other routes (§11: depots are not convertible), have none.
* Stopping a running medication needs no reason; any other change is a correction and needs one
  (the old values stay in the audit trail). Nothing is deleted.
* Every write recomputes the patient's recorded visits, whose glucocorticoid dose on the visit
  date derives from the medications.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.clinical.common import Num
from lupus_msc.services import patients, visit_prednisone, visit_scores
from lupus_msc.services.access import Action, Actor, fetch_patient_record, require
from lupus_msc.services.errors import invalid
from lupus_msc.services.fields import Digits, In, NumberOut, Out, Reason, today
from lupus_msc.services.unit import give_reason
from lupus_msc.services.visit_labs import places
from lupus_msc.services.visit_prednisone import DoseUnit, Frequency, Route
from lupus_msc.store.models import Medication, Patient

MAX_GLUCOCORTICOID_MG = Decimal(2000)
DrugName = Annotated[str, Field(min_length=2, max_length=60, pattern=r"^\S(.*\S)?$")]
Dose = Annotated[Decimal, Num(gt=0, le=100_000), Digits, places(4)]
"""Any dose: above 0 with at most 4 decimals, at most 100 000 (of its unit; e.g. IU of heparin)
[PROJECT]."""


class MedicationIn(In):
    drug: DrugName
    dose: Dose
    unit: DoseUnit
    frequency: Frequency
    route: Route
    started_on: dt.date
    stopped_on: dt.date | None = None


class MedicationEdit(In):
    """A stop (``stopped_on`` alone, on a running medication) or a correction with a reason."""

    drug: DrugName | None = None
    dose: Dose | None = None
    unit: DoseUnit | None = None
    frequency: Frequency | None = None
    route: Route | None = None
    started_on: dt.date | None = None
    stopped_on: dt.date | None = None
    reason: Reason | None = None


class MedicationOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    drug: str
    dose: NumberOut
    unit: str
    frequency: str
    route: str
    started_on: dt.date
    stopped_on: dt.date | None
    prednisone_mg_day: NumberOut | None
    """Prednisone-equivalent mg/day (§11), derived; null unless a systemic glucocorticoid."""


FIELDS = ("drug", "dose", "unit", "frequency", "route", "started_on", "stopped_on")


def prednisone_mg_day(values: dict[str, Any]) -> Decimal | None:
    """The §11 prednisone equivalent of one medication, or None when it has none."""
    if not visit_prednisone.counted(values["drug"], values["route"]):
        return None
    if values["unit"] != "mg":
        raise invalid("unit", "a glucocorticoid is dosed in mg to derive its prednisone equivalent")
    if values["frequency"] not in visit_prednisone.REGIMENS:
        allowed = ", ".join(visit_prednisone.REGIMENS)
        raise invalid("frequency", f"a glucocorticoid needs a regular schedule: {allowed}")
    if values["dose"] > MAX_GLUCOCORTICOID_MG:
        raise invalid(
            "dose", f"is implausible for a glucocorticoid (at most {MAX_GLUCOCORTICOID_MG})"
        )
    return visit_prednisone.mg_day(values["drug"], values["dose"], values["frequency"])


def _check_dates(patient: Patient, started: dt.date, stopped: dt.date | None) -> None:
    if not patient.date_of_birth <= started <= today():
        raise invalid("started_on", "must be between the date of birth and today")
    if stopped is not None and not started <= stopped <= today():
        raise invalid("stopped_on", "must be between started_on and today")


def record(session: Session, actor: Actor, patient_id: uuid.UUID, data: MedicationIn) -> Medication:
    require(actor, Action.RECORD_MEDICATION)
    patient = patients.get(session, actor, patient_id)
    _check_dates(patient, data.started_on, data.stopped_on)
    values = data.model_dump()
    medication = Medication(
        patient_id=patient.id, **values, prednisone_mg_day=prednisone_mg_day(values)
    )
    session.add(medication)
    session.flush()
    visit_scores.rescore_patient(session, patient)
    return medication


def get(session: Session, actor: Actor, medication_id: uuid.UUID) -> Medication:
    require(actor, Action.READ_IDENTITY)
    return fetch_patient_record(session, actor, Medication, medication_id)


def _changes(medication: Medication, data: MedicationEdit) -> dict[str, Any]:
    given = data.model_dump(exclude={"reason"}, exclude_unset=True)
    for field, value in given.items():
        if value is None and field != "stopped_on":
            raise invalid(field, "cannot be emptied; give a value")
    return {field: value for field, value in given.items() if getattr(medication, field) != value}


def edit(
    session: Session, actor: Actor, medication_id: uuid.UUID, data: MedicationEdit
) -> Medication:
    """Stop a running medication, or correct one with a reason; changes nothing when refused."""
    require(actor, Action.RECORD_MEDICATION)
    medication = get(session, actor, medication_id)
    patient = patients.get(session, actor, medication.patient_id)
    changes = _changes(medication, data)
    if not changes:
        return medication
    stopping = set(changes) == {"stopped_on"} and medication.stopped_on is None
    if not stopping and data.reason is None:
        raise invalid("reason", "is required to correct a medication (stopping one needs none)")
    values = {field: getattr(medication, field) for field in FIELDS} | changes
    _check_dates(patient, values["started_on"], values["stopped_on"])
    derived = prednisone_mg_day(values)
    give_reason(session, data.reason)
    for field, value in changes.items():
        setattr(medication, field, value)
    medication.prednisone_mg_day = derived
    session.flush()
    visit_scores.rescore_patient(session, patient)
    return medication


def for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Medication]:
    require(actor, Action.READ_IDENTITY)
    patient = patients.get(session, actor, patient_id)
    query = select(Medication).where(Medication.patient_id == patient.id)
    return list(session.scalars(query.order_by(Medication.started_on, Medication.created_at)))
