"""Medications: the prednisone equivalent derived for systemic glucocorticoids (§11, §16.11),
dates, stops and corrections (with a reason, old values in the audit trail). SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from lupus_msc.services import medications
from lupus_msc.services.errors import Invalid, NotFound
from lupus_msc.services.medications import MedicationEdit, MedicationIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import AuditEvent, Medication
from tests.registry_fixtures import Registry
from tests.services.test_visits import actor, audit_head, infused_patient

PREDNISONE: dict[str, Any] = {
    "drug": "prednisone",
    "dose": 10,
    "unit": "mg",
    "frequency": "once-daily",
    "route": "oral",
    "started_on": "2023-06-01",
}


def add(
    registry: Registry, patient_id: uuid.UUID, persona: str = "coordinator", **body: Any
) -> Medication:
    who = actor(registry, persona)
    with unit_of_work(registry.database, who) as session:
        return medications.record(session, who, patient_id, MedicationIn.model_validate(body))


def edit(registry: Registry, medication_id: uuid.UUID, **body: Any) -> Medication:
    who = actor(registry, "coordinator")
    with unit_of_work(registry.database, who) as session:
        return medications.edit(session, who, medication_id, MedicationEdit.model_validate(body))


def count(registry: Registry) -> int:
    with registry.database.sessions() as session:
        return session.scalar(select(func.count()).select_from(Medication)) or 0


def refused(registry: Registry, call: Any, *args: Any, **body: Any) -> Invalid:
    """``call`` is refused as invalid, and neither the table nor the audit trail changes."""
    before = (count(registry), audit_head(registry))
    with pytest.raises(Invalid) as caught:
        call(registry, *args, **body)
    assert (count(registry), audit_head(registry)) == before
    return caught.value


@pytest.mark.parametrize(
    ("drug", "dose", "frequency", "expected"),
    [
        ("methylprednisolone", 16, "once-daily", Decimal(20)),  # §11 worked example
        ("Dexamethasone", Decimal("1.5"), "once-daily", Decimal(10)),  # §11 worked example
        ("prednisolone", 5, "twice-daily", Decimal(10)),
        ("prednisone", 20, "every-other-day", Decimal(10)),  # §11 [IMPL]: 48-h average
        ("hydrocortisone", 10, "three-times-daily", Decimal("7.5")),  # 30 mg × 0.25
    ],
)
def test_a_systemic_glucocorticoid_gets_its_prednisone_equivalent(
    registry: Registry, drug: str, dose: Any, frequency: str, expected: Decimal
) -> None:
    patient_id = infused_patient(registry)
    given = {**PREDNISONE, "drug": drug, "dose": dose, "frequency": frequency}
    assert add(registry, patient_id, **given).prednisone_mg_day == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"drug": "hydroxychloroquine", "dose": 200},
        {"drug": "triamcinolone", "route": "intra-articular", "dose": 40},  # §11: not convertible
        {
            "drug": "belimumab",
            "unit": "mg/kg",
            "frequency": "every-4-weeks",
            "route": "intravenous",
        },
    ],
)
def test_other_drugs_and_routes_have_no_prednisone_equivalent(
    registry: Registry, changes: dict[str, Any]
) -> None:
    patient_id = infused_patient(registry)
    assert add(registry, patient_id, **{**PREDNISONE, **changes}).prednisone_mg_day is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": "g"}, "unit"),
        ({"frequency": "as-needed"}, "frequency"),
        ({"frequency": "monthly"}, "frequency"),
        ({"dose": 5000}, "dose"),
        ({"started_on": "2099-01-01"}, "started_on"),
        ({"started_on": "1980-01-01"}, "started_on"),  # before the patient was born
        ({"stopped_on": "2023-05-31"}, "stopped_on"),  # before the start
    ],
)
def test_a_bad_medication_is_refused_and_changes_nothing(
    registry: Registry, changes: dict[str, Any], field: str
) -> None:
    patient_id = infused_patient(registry)
    error = refused(registry, add, patient_id, **{**PREDNISONE, **changes})
    assert error.fields[0][0] == field


def test_another_sites_patient_is_not_found(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    with pytest.raises(NotFound):
        add(registry, patient_id, "coordinator_b", **PREDNISONE)


def test_stopping_needs_no_reason_but_must_not_precede_the_start(registry: Registry) -> None:
    medication = add(registry, infused_patient(registry), **PREDNISONE)
    error = refused(registry, edit, medication.id, stopped_on="2023-05-01")
    assert error.fields[0][0] == "stopped_on"
    stopped = edit(registry, medication.id, stopped_on="2024-03-01")
    assert stopped.stopped_on == dt.date(2024, 3, 1)


def test_a_correction_needs_a_reason_and_keeps_the_old_value(registry: Registry) -> None:
    medication = add(registry, infused_patient(registry), **PREDNISONE)
    error = refused(registry, edit, medication.id, dose=15)
    assert error.fields[0][0] == "reason"
    corrected = edit(registry, medication.id, dose=15, reason="dose misread from the chart")
    assert corrected.prednisone_mg_day == 15
    with registry.database.sessions() as session:
        entry = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "medications",
                AuditEvent.entity_id == str(medication.id),
                AuditEvent.field == "dose",
            )
        ).one()
    assert (entry.old_value, entry.new_value) == ("10", "15")
    assert entry.reason == "dose misread from the chart"


def test_changing_a_stop_date_is_a_correction(registry: Registry) -> None:
    medication = add(registry, infused_patient(registry), **PREDNISONE, stopped_on="2024-01-01")
    error = refused(registry, edit, medication.id, stopped_on="2024-02-01")
    assert error.fields[0][0] == "reason"


def test_a_required_field_cannot_be_emptied(registry: Registry) -> None:
    medication = add(registry, infused_patient(registry), **PREDNISONE)
    error = refused(registry, edit, medication.id, dose=None, reason="clearing the dose")
    assert error.fields[0][0] == "dose"


def test_a_correction_to_a_glucocorticoid_derives_the_equivalent_again(registry: Registry) -> None:
    medication = add(registry, infused_patient(registry), **PREDNISONE)
    error = refused(registry, edit, medication.id, unit="tablet", reason="entered per tablet")
    assert error.fields[0][0] == "unit"
    changed = edit(registry, medication.id, drug="hydroxychloroquine", reason="wrong drug picked")
    assert changed.prednisone_mg_day is None
