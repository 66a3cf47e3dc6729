"""The follow-up schedule and each visit's status (issue 5: "Follow-up visits are generated from
the infusion date and the protocol; each visit knows whether it is done, due, overdue or out of
window"), on SQLite and PostgreSQL.

Also the helpers the other follow-up tests share: an infused patient inserted directly (the
infusion step is someone else's), personas as service actors, and the audit head.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from lupus_msc.services import protocols, visits
from lupus_msc.services.access import Actor
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.store.models import AuditHead, Patient, PatientState, Sex, User, Visit
from tests.registry_fixtures import Registry

FIRST_INFUSION = dt.date(2024, 1, 10)
BORN = dt.date(1990, 5, 17)
_codes = itertools.count(1)


def infused_patient(
    registry: Registry,
    *,
    site: str = "A01",
    first: dt.date = FIRST_INFUSION,
    state: PatientState = PatientState.INFUSED,
    sex: Sex = Sex.FEMALE,
) -> uuid.UUID:
    """A patient inserted in state ``state`` with the follow-up schedule from ``first``."""
    with unit_of_work(registry.database, None) as session:
        number = next(_codes)
        patient = Patient(
            site_id=registry.sites[site],
            protocol_version_id=protocols.newest(session).id,
            study_code=f"{site}-F{number:04d}-{uuid.uuid4().hex[:6]}",
            given_name="Grace",
            family_name="Hopper",
            date_of_birth=BORN,
            sex=sex,
            medical_record_number=f"FU-{uuid.uuid4().hex[:12]}",
            diagnosis_date=dt.date(2015, 3, 1),
            state=state,
        )
        session.add(patient)
        session.flush()
        visits.schedule(session, patient, first)
        return patient.id


def actor(registry: Registry, persona: str) -> Actor:
    with registry.database.sessions() as session:
        user = session.get(User, registry.users[persona])
        assert user is not None
        return Actor.of(user)


def audit_head(registry: Registry) -> tuple[int, str] | None:
    with registry.database.sessions() as session:
        head = session.get(AuditHead, 1)
        return None if head is None else (head.seq, head.row_hash)


def visit_of(registry: Registry, patient_id: uuid.UUID, code: str) -> Visit:
    with registry.database.sessions() as session:
        visit = session.scalar(
            select(Visit).where(Visit.patient_id == patient_id, Visit.code == code)
        )
        assert visit is not None
        return visit


def record(registry: Registry, persona: str, visit_id: uuid.UUID, **body: Any) -> Visit:
    who = actor(registry, persona)
    with unit_of_work(registry.database, who) as session:
        return visits.record(session, who, visit_id, VisitIn.model_validate(body))


def state_of(registry: Registry, patient_id: uuid.UUID) -> PatientState:
    with registry.database.sessions() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        return patient.state


# --- the schedule ------------------------------------------------------------------------------


def test_the_schedule_has_one_visit_per_protocol_visit_from_day_0(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    with registry.database.sessions() as session:
        found = list(
            session.scalars(
                select(Visit).where(Visit.patient_id == patient_id).order_by(Visit.study_day)
            )
        )
    codes = [visit.code for visit in found]
    # the default protocol: screening (day −14) is before the infusion and is not scheduled
    assert codes == [
        "day0",
        "day7",
        "month1",
        "month3",
        "month6",
        "month9",
        "month12",
        "month18",
        "month24",
    ]
    month1 = found[2]
    # day 30, window 7 days before and after: 2024-01-10 + 30 = 2024-02-09
    assert month1.target_date == dt.date(2024, 2, 9)
    assert (month1.window_start, month1.window_end) == (dt.date(2024, 2, 2), dt.date(2024, 2, 16))
    day0 = found[0]
    assert day0.target_date == day0.window_start == day0.window_end == FIRST_INFUSION
    month12 = found[6]  # day 360, ± 30 days
    assert month12.target_date == dt.date(2025, 1, 4)
    assert month12.window_start == dt.date(2024, 12, 5)
    assert month12.window_end == dt.date(2025, 2, 3)


def test_a_second_schedule_creates_nothing(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    before = audit_head(registry)
    with unit_of_work(registry.database, None) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        again = visits.schedule(session, patient, FIRST_INFUSION + dt.timedelta(days=3))
        count = session.scalar(select(func.count()).where(Visit.patient_id == patient_id))
    assert count == 9 and len(again) == 9
    assert again[0].target_date == FIRST_INFUSION
    assert audit_head(registry) == before


# --- status at each window edge (frozen clock) -------------------------------------------------

MONTH1_START = dt.date(2024, 2, 2)
MONTH1_END = dt.date(2024, 2, 16)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (MONTH1_START - dt.timedelta(days=1), "upcoming"),
        (MONTH1_START, "due"),
        (MONTH1_END, "due"),
        (MONTH1_END + dt.timedelta(days=1), "overdue"),
    ],
)
def test_an_unrecorded_visit_is_upcoming_due_or_overdue_by_today(
    registry: Registry, today: dt.date, expected: str
) -> None:
    patient_id = infused_patient(registry)
    visit = visit_of(registry, patient_id, "month1")
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False), registry.database.sessions() as session:
        assert visits.view(session, visit).status == expected
    assert visits.status(visit, today) == expected


def _visit_dated(visit_date: dt.date | None) -> Visit:
    return Visit(
        code="month1",
        study_day=30,
        target_date=dt.date(2024, 2, 9),
        window_start=MONTH1_START,
        window_end=MONTH1_END,
        visit_date=visit_date,
    )


@pytest.mark.parametrize(
    ("visit_date", "expected"),
    [
        (MONTH1_START - dt.timedelta(days=1), "out-of-window"),
        (MONTH1_START, "done"),
        (MONTH1_END, "done"),
        (MONTH1_END + dt.timedelta(days=1), "out-of-window"),
    ],
)
def test_a_recorded_visit_is_done_within_its_window_and_out_of_window_outside(
    visit_date: dt.date, expected: str
) -> None:
    # whatever today is: a recorded visit is judged by its own date
    for today in (MONTH1_START - dt.timedelta(days=30), MONTH1_END + dt.timedelta(days=300)):
        assert visits.status(_visit_dated(visit_date), today) == expected


def test_a_visit_recorded_outside_its_window_shows_as_out_of_window(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    visit = visit_of(registry, patient_id, "month1")
    record(registry, "coordinator", visit.id, visit_date="2024-02-17", pga=1)
    with registry.database.sessions() as session:
        stored = session.get(Visit, visit.id)
        assert stored is not None
        assert visits.view(session, stored).status == "out-of-window"


# --- the pathway --------------------------------------------------------------------------------


def test_the_first_follow_up_visit_moves_an_infused_patient_to_follow_up(
    registry: Registry,
) -> None:
    patient_id = infused_patient(registry)
    record(
        registry, "coordinator", visit_of(registry, patient_id, "day0").id, visit_date="2024-01-10"
    )
    assert state_of(registry, patient_id) is PatientState.INFUSED  # day 0 is no follow-up
    record(
        registry, "coordinator", visit_of(registry, patient_id, "day7").id, visit_date="2024-01-17"
    )
    assert state_of(registry, patient_id) is PatientState.FOLLOW_UP
    record(
        registry,
        "coordinator",
        visit_of(registry, patient_id, "month1").id,
        visit_date="2024-02-09",
    )
    assert state_of(registry, patient_id) is PatientState.FOLLOW_UP


def test_a_withdrawn_patients_visit_is_recorded_without_a_move(registry: Registry) -> None:
    patient_id = infused_patient(registry, state=PatientState.WITHDRAWN)
    record(
        registry, "coordinator", visit_of(registry, patient_id, "day7").id, visit_date="2024-01-17"
    )
    assert state_of(registry, patient_id) is PatientState.WITHDRAWN
