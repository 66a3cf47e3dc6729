"""Adverse events: CTCAE v5.0 grades derived from the lab value where the term allows (§12,
§16.12), seriousness, outcome and dates, the link to an infusion, and corrections with a reason.
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from lupus_msc.services import adverse_events
from lupus_msc.services.adverse_events import AdverseEventEdit, AdverseEventIn
from lupus_msc.services.errors import Invalid
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import AdverseEvent, AuditEvent, Infusion
from tests.registry_fixtures import Registry
from tests.services.test_visits import actor, audit_head, infused_patient

BASE: dict[str, Any] = {
    "onset_on": "2024-01-20",
    "relatedness": "possible",
    "expected": False,
    "action": "none",
    "outcome": "recovering",
}


def add(registry: Registry, patient_id: uuid.UUID, **body: Any) -> AdverseEvent:
    who = actor(registry, "nurse")
    with unit_of_work(registry.database, who) as session:
        data = AdverseEventIn.model_validate({**BASE, **body})
        return adverse_events.record(session, who, patient_id, data)


def edit(registry: Registry, event_id: uuid.UUID, **body: Any) -> AdverseEvent:
    who = actor(registry, "physician")
    with unit_of_work(registry.database, who) as session:
        data = AdverseEventEdit.model_validate(body)
        return adverse_events.edit(session, who, event_id, data)


def count(registry: Registry) -> int:
    with registry.database.sessions() as session:
        return session.scalar(select(func.count()).select_from(AdverseEvent)) or 0


def refused(registry: Registry, call: Any, *args: Any, **body: Any) -> Invalid:
    before = (count(registry), audit_head(registry))
    with pytest.raises(Invalid) as caught:
        call(registry, *args, **body)
    assert (count(registry), audit_head(registry)) == before
    return caught.value


# --- grades derived from the lab value (§12) ---------------------------------------------------


@pytest.mark.parametrize(
    ("term", "lab", "grade"),
    [
        # §12: platelets "< 50.0 – 25.0" grade 3; a cut-off belongs to the milder grade
        ("Platelet count decreased", {"lab_value": 40, "lab_unit": "10*9/L"}, 3),
        ("platelet count decreased", {"lab_value": 50, "lab_unit": "10*9/L"}, 2),
        ("Platelet count decreased", {"lab_value": 24999, "lab_unit": "/mm3"}, 4),
        # grade 1 needs the LLN: 120 < LLN 150, and ≥ 75
        ("Platelet count decreased", {"lab_value": 120, "lab_unit": "10*9/L", "lab_lln": 150}, 1),
        ("Anaemia", {"lab_value": 85, "lab_unit": "g/L"}, 2),
        ("Fever", {"lab_value": Decimal("38.0"), "lab_unit": "Cel"}, 1),
        ("Fever", {"lab_value": Decimal("40.5"), "lab_unit": "Cel", "hours_above_40": 30}, 4),
        (
            "Alanine aminotransferase increased",
            {"lab_value": 130, "lab_unit": "U/L", "lab_uln": 40},
            2,  # 130 / 40 = 3.25 × ULN: "> 3.0 – 5.0 × ULN" is grade 2
        ),
    ],
)
def test_a_lab_terms_grade_is_derived_from_its_value(
    registry: Registry, term: str, lab: dict[str, Any], grade: int
) -> None:
    event = add(registry, infused_patient(registry), term=term, **lab)
    assert (event.grade, event.grade_derived) == (grade, True)
    assert event.ctcae_term is not None and event.lab_value == Decimal(str(lab["lab_value"]))


def test_a_grade_that_disagrees_with_the_value_is_refused(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    lab = {"lab_value": 40, "lab_unit": "10*9/L"}
    error = refused(registry, add, patient_id, term="Platelet count decreased", grade=2, **lab)
    assert error.fields[0][0] == "grade"
    assert "as 3" in error.message
    agreed = add(registry, patient_id, term="Platelet count decreased", grade=3, **lab)
    assert agreed.grade == 3


@pytest.mark.parametrize(
    ("lab", "field"),
    [
        ({}, "lab_value"),
        ({"lab_value": 40}, "lab_unit"),
        ({"lab_value": 40, "lab_unit": "g/dL"}, "lab_unit"),
        ({"lab_value": 5000, "lab_unit": "10*9/L"}, "lab_value"),  # §16.0: platelets 0–2000
        ({"lab_value": 120, "lab_unit": "10*9/L"}, "lab_lln"),  # grade 1 needs the LLN
        ({"lab_value": 200, "lab_unit": "10*9/L", "lab_lln": 150}, "lab_value"),  # grade 0
    ],
)
def test_an_ungradable_lab_term_is_refused(
    registry: Registry, lab: dict[str, Any], field: str
) -> None:
    error = refused(
        registry, add, infused_patient(registry), term="Platelet count decreased", **lab
    )
    assert error.fields[0][0] == field


def test_clinical_anaemia_grades_stand_beside_the_worst_derived_grade(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    lab = {"lab_value": 7, "lab_unit": "g/dL"}  # §12: < 8.0 g/dL is grade 3
    life_threatening = add(registry, patient_id, term="Anemia", grade=4, **lab)
    assert (life_threatening.grade, life_threatening.grade_derived) == (4, False)
    milder = {"lab_value": 9, "lab_unit": "g/dL"}  # grade 2: 4 is not a judgement beside it
    error = refused(registry, add, patient_id, term="Anemia", grade=4, **milder)
    assert error.fields[0][0] == "grade"


def test_other_terms_take_the_clinicians_grade(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    error = refused(registry, add, patient_id, term="Infusion related reaction")
    assert error.fields[0][0] == "grade"
    error = refused(
        registry, add, patient_id, term="Headache", grade=1, lab_value=3, lab_unit="10*9/L"
    )
    assert error.fields[0][0] == "lab_value"
    event = add(registry, patient_id, term="Infusion related reaction", grade=2)
    assert (event.grade, event.grade_derived, event.ctcae_term) == (2, False, None)


# --- seriousness, outcome, dates ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grade": 5}, "outcome"),
        ({"grade": 5, "outcome": "fatal", "resolved_on": "2024-01-21"}, "serious_criteria"),
        ({"grade": 3, "serious_criteria": ["death"]}, "serious_criteria"),
        (
            {"grade": 2, "serious_criteria": ["hospitalisation", "hospitalisation"]},
            "serious_criteria",
        ),
        ({"grade": 2, "outcome": "recovered"}, "resolved_on"),
        ({"grade": 2, "resolved_on": "2024-01-22"}, "resolved_on"),  # still recovering
        ({"grade": 2, "outcome": "recovered", "resolved_on": "2024-01-19"}, "resolved_on"),
        ({"grade": 2, "onset_on": "2099-01-01"}, "onset_on"),
        ({"grade": 2, "onset_on": "1980-01-01"}, "onset_on"),
    ],
)
def test_an_inconsistent_event_is_refused_and_changes_nothing(
    registry: Registry, body: dict[str, Any], field: str
) -> None:
    error = refused(registry, add, infused_patient(registry), term="Pneumonia", **body)
    assert error.fields[0][0] == field


def test_a_fatal_event_is_grade_5_with_death_as_criterion(registry: Registry) -> None:
    event = add(
        registry,
        infused_patient(registry),
        term="Sepsis",
        grade=5,
        outcome="fatal",
        resolved_on="2024-01-25",
        serious_criteria=["death", "hospitalisation"],
        relatedness="unlikely",
    )
    assert event.grade == 5 and event.serious_criteria == ["death", "hospitalisation"]


# --- the infusion it followed ----------------------------------------------------------------


def infusion_for(registry: Registry, patient_id: uuid.UUID) -> uuid.UUID:
    """An infusion inserted directly (the infusion step is tested elsewhere)."""
    with unit_of_work(registry.database, None) as session:
        infusion = Infusion(
            patient_id=patient_id,
            number=1,
            route="intravenous",
            weight_kg=Decimal(64),
            target_dose_per_kg=Decimal(1000000),
            computed_cells=Decimal(64000000),
            computed_volume_ml=Decimal(64),
            actual_cells=Decimal(64000000),
            actual_volume_ml=Decimal(64),
            actual_dose_per_kg=Decimal(1000000),
            within_range=True,
            premedication=[],
            vitals_before={},
            started_at=dt.datetime(2024, 1, 10, 9, tzinfo=dt.UTC),
            administered_by_id=registry.users["nurse"],
            verified_by_id=registry.users["nurse2"],
        )
        session.add(infusion)
        session.flush()
        return infusion.id


def test_an_infusion_reaction_links_to_the_patients_own_infusion(registry: Registry) -> None:
    patient_id, other_id = infused_patient(registry), infused_patient(registry)
    infusion_id = infusion_for(registry, patient_id)
    reaction = {"term": "Infusion related reaction", "grade": 1, "infusion_id": str(infusion_id)}
    error = refused(registry, add, other_id, **reaction)
    assert error.fields[0][0] == "infusion_id"
    error = refused(registry, add, patient_id, **{**reaction, "onset_on": "2024-01-08"})
    assert error.fields[0][0] == "onset_on"
    event = add(registry, patient_id, **{**reaction, "onset_on": "2024-01-10"})
    assert event.infusion_id == infusion_id


# --- corrections and resolution ---------------------------------------------------------------


def test_recording_the_resolution_needs_no_reason(registry: Registry) -> None:
    event = add(registry, infused_patient(registry), term="Headache", grade=1)
    error = refused(registry, edit, event.id, outcome="recovered")
    assert error.fields[0][0] == "resolved_on"
    resolved = edit(registry, event.id, outcome="recovered", resolved_on="2024-01-22")
    assert resolved.resolved_on == dt.date(2024, 1, 22)


def test_a_correction_needs_a_reason_and_keeps_the_old_value(registry: Registry) -> None:
    event = add(registry, infused_patient(registry), term="Headache", grade=1)
    error = refused(registry, edit, event.id, grade=2)
    assert error.fields[0][0] == "reason"
    corrected = edit(registry, event.id, grade=2, reason="severity misjudged at first report")
    assert corrected.grade == 2
    with registry.database.sessions() as session:
        entry = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "adverse_events",
                AuditEvent.entity_id == str(event.id),
                AuditEvent.field == "grade",
            )
        ).one()
    assert (entry.old_value, entry.new_value, entry.reason) == (
        "1",
        "2",
        "severity misjudged at first report",
    )


def test_a_corrected_lab_value_is_graded_again(registry: Registry) -> None:
    lab = {"lab_value": 40, "lab_unit": "10*9/L"}
    event = add(registry, infused_patient(registry), term="Platelet count decreased", **lab)
    error = refused(registry, edit, event.id, grade=4, reason="worse than entered")
    assert error.fields[0][0] == "grade"
    regraded = edit(registry, event.id, lab_value=20, reason="the nadir, not the first count")
    assert (regraded.grade, regraded.lab_value) == (4, Decimal(20))


def test_a_correction_is_graded_with_the_stored_reference_limits(registry: Registry) -> None:
    """Platelets 120 × 10⁹/L with an LLN of 150 is grade 1 (§12: < LLN – 75.0); corrected to
    140 it stays grade 1 without the LLN sent again, because the LLN was kept with the event."""
    lab = {"lab_value": 120, "lab_unit": "10*9/L", "lab_lln": 150}
    event = add(registry, infused_patient(registry), term="Platelet count decreased", **lab)
    assert (event.grade, event.lab_reference) == (1, {"lab_lln": Decimal(150)})
    corrected = edit(registry, event.id, lab_value=140, reason="repeat count on the same day")
    assert (corrected.grade, corrected.lab_reference) == (1, {"lab_lln": Decimal(150)})
