"""The dashboard's figures (issue 6) on SQLite and PostgreSQL: each count against a small
registry counted by hand, for an admin (every site), site-A and site-B staff, and the roles
that may not read a figure (403).

The day is fixed (Wednesday 2026-11-25; its week ends on Sunday 2026-11-29), so visit windows
and expiry dates are exact. The default protocol's windows: day0 [0, 0], day7 [7, 9],
month1 [23, 37], month3 [76, 104] (study days from the first infusion).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import dashboard, protocols
from lupus_msc.services.errors import Forbidden
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import (
    AdverseEvent,
    Donor,
    DonorKind,
    Harvest,
    Infusion,
    Lot,
    Patient,
    PatientState,
    Screening,
    Sex,
    TissueSource,
    Visit,
)
from tests.registry_fixtures import Registry
from tests.services.test_visits import actor, infused_patient

TODAY = dt.date(2026, 11, 25)
S = PatientState
_numbers = itertools.count(1)


def days(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def plain_patient(registry: Registry, site: str, state: PatientState) -> uuid.UUID:
    with unit_of_work(registry.database, None) as session:
        number = next(_numbers)
        patient = Patient(
            site_id=registry.sites[site],
            protocol_version_id=protocols.newest(session).id,
            study_code=f"{site}-D{number:04d}",
            given_name="Mary",
            family_name="Somerville",
            date_of_birth=dt.date(1985, 2, 3),
            sex=Sex.FEMALE,
            medical_record_number=f"DB-{uuid.uuid4().hex[:10]}",
            diagnosis_date=None,
            state=state,
        )
        session.add(patient)
        session.flush()
        return patient.id


def screening(registry: Registry, patient_id: uuid.UUID, decision: str | None) -> None:
    with unit_of_work(registry.database, None) as session:
        session.add(
            Screening(
                patient_id=patient_id,
                protocol_version_id=protocols.newest(session).id,
                screened_on=days(-200),
                data={},
                rule_results={},
                engine_version="test",
                decision=decision,
            )
        )


def infusion(registry: Registry, patient_id: uuid.UUID, number: int = 1) -> None:
    nurse = registry.users["nurse"]
    with unit_of_work(registry.database, None) as session:
        session.add(
            Infusion(
                patient_id=patient_id,
                number=number,
                route="intravenous",
                weight_kg=Decimal(60),
                target_dose_per_kg=Decimal(1_000_000),
                computed_cells=Decimal(60_000_000),
                computed_volume_ml=Decimal(12),
                actual_cells=Decimal(60_000_000),
                actual_volume_ml=Decimal(12),
                actual_dose_per_kg=Decimal(1_000_000),
                within_range=True,
                premedication=[],
                vitals_before={},
                started_at=dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC),
                administered_by_id=nurse,
                verified_by_id=registry.users["nurse2"],
            )
        )


def event(registry: Registry, patient_id: uuid.UUID, *, open_: bool, serious: list[str]) -> None:
    with unit_of_work(registry.database, None) as session:
        session.add(
            AdverseEvent(
                patient_id=patient_id,
                term="Headache",
                grade=5 if "death" in serious else 2,
                grade_derived=False,
                onset_on=days(-20),
                resolved_on=None if open_ else days(-10),
                serious_criteria=serious,
                relatedness="possible",
                expected=False,
                action="none",
                outcome="recovering" if open_ else "recovered",
                reported_by_id=registry.users["physician"],
            )
        )


def lot(registry: Registry, site: str, state: LotState, expires_in: int) -> None:
    with unit_of_work(registry.database, None) as session:
        number = next(_numbers)
        donor = Donor(
            site_id=registry.sites[site],
            code=f"DN-{site}-{number}-{uuid.uuid4().hex[:6]}",
            kind=DonorKind.ALLOGENEIC,
            tissue_source=TissueSource.UMBILICAL_CORD,
            eligibility_tests={},
            eligible=True,
        )
        session.add(donor)
        session.flush()
        harvest = Harvest(
            donor_id=donor.id,
            collected_on=days(-300),
            tissue_source=TissueSource.UMBILICAL_CORD,
            amount=Decimal(30),
            amount_unit="g",
            collected_by_id=registry.users["lab"],
        )
        session.add(harvest)
        session.flush()
        session.add(
            Lot(
                site_id=registry.sites[site],
                harvest_id=harvest.id,
                code=f"T{number:05d}{uuid.uuid4().hex[:8]}",
                passage=3,
                total_cells=Decimal(100_000_000),
                viable_cells_per_ml=Decimal(5_000_000),
                viability_pct=Decimal(92),
                volume_ml=Decimal(20),
                cryopreserved_on=days(-280),
                expires_on=days(expires_in),
                storage_location="tank 1",
                state=state,
                release_spec={},
                protocol_version_id=protocols.newest(session).id,
            )
        )


def record_visit(registry: Registry, patient_id: uuid.UUID, code: str) -> None:
    with unit_of_work(registry.database, None) as session:
        found = session.scalar(
            select(Visit).where(Visit.patient_id == patient_id, Visit.code == code)
        )
        assert found is not None
        found.visit_date = found.target_date


@pytest.fixture(scope="module")
def world(registry: Registry) -> Registry:
    """Site A01: p1 infused 35 days ago (day0, day7 overdue; month1 due), p2 in follow-up
    80 days ago with month1 recorded (day0, day7 overdue; month3 due), p3 completed (its
    visits are not chased), two referred, one screen-failed, one withdrawn after an eligible
    decision, one deceased after an eligible decision and an infusion. Site B01: p4 infused
    35 days ago."""
    p1 = infused_patient(registry, first=days(-35))
    p2 = infused_patient(registry, first=days(-80), state=S.FOLLOW_UP)
    record_visit(registry, p2, "month1")
    p3 = infused_patient(registry, first=days(-35), state=S.COMPLETED)
    p4 = infused_patient(registry, site="B01", first=days(-35))
    p5 = plain_patient(registry, "A01", S.REFERRED)
    plain_patient(registry, "A01", S.REFERRED)
    p7 = plain_patient(registry, "A01", S.SCREEN_FAILED)
    p8 = plain_patient(registry, "A01", S.WITHDRAWN)
    p9 = plain_patient(registry, "A01", S.DECEASED)
    for eligible in (p1, p2, p3, p4, p8, p9):
        screening(registry, eligible, "eligible")
    screening(registry, p7, "ineligible")
    screening(registry, p5, None)
    for infused in (p1, p2, p3, p4, p9):
        infusion(registry, infused)
    infusion(registry, p2, number=2)
    event(registry, p1, open_=True, serious=[])
    event(registry, p1, open_=True, serious=["hospitalisation"])
    event(registry, p2, open_=False, serious=["death"])
    event(registry, p2, open_=False, serious=[])
    event(registry, p4, open_=True, serious=["life-threatening", "hospitalisation"])
    for state, expires_in in (
        (LotState.QUARANTINE, 100),
        (LotState.RELEASED, 10),
        (LotState.ALLOCATED, 30),
        (LotState.RELEASED, 31),
        (LotState.INFUSED, 5),
        (LotState.RELEASED, -1),
        (LotState.DISCARDED, -10),
        (LotState.QUARANTINE, 20),
    ):
        lot(registry, "A01", state, expires_in)
    lot(registry, "B01", LotState.QUARANTINE, 5)
    return registry


def figures(registry: Registry, persona: str) -> dict[str, Any]:
    who = actor(registry, persona)
    with registry.database.sessions() as session:
        states = dashboard.patients_by_state(session, who)
        return {
            "states": {state.value: count for state, count in states.items() if count},
            "funnel": dashboard.funnel(session, who, states),
            "visits": dashboard.visits_due(session, who, TODAY),
            "events": dashboard.adverse_events(session, who),
            "lots": dashboard.lots(session, who, TODAY),
        }


def test_site_a_staff_count_site_a_only(world: Registry) -> None:
    found = figures(world, "coordinator")
    assert found["states"] == {
        "infused": 1,
        "follow-up": 1,
        "completed": 1,
        "referred": 2,
        "screen-failed": 1,
        "withdrawn": 1,
        "deceased": 1,
    }
    assert found["funnel"] == dashboard.Funnel(referred=8, eligible=5, infused=4)
    visits = found["visits"]
    assert (visits.due_this_week, visits.overdue) == (2, 4)
    assert (visits.week_start, visits.week_end) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert found["events"] == dashboard.EventCounts(open=2, serious=2, open_serious=1)
    lots = found["lots"]
    assert (lots.quarantine, lots.expiring, lots.expired_not_discarded) == (2, 3, 1)
    assert lots.horizon == dt.date(2026, 12, 25)


def test_site_b_staff_do_not_count_site_a(world: Registry) -> None:
    found = figures(world, "physician_b")
    assert found["states"] == {"infused": 1}
    assert found["funnel"] == dashboard.Funnel(referred=1, eligible=1, infused=1)
    assert (found["visits"].due_this_week, found["visits"].overdue) == (1, 2)
    assert found["events"] == dashboard.EventCounts(open=1, serious=1, open_serious=1)
    lots = found["lots"]
    assert (lots.quarantine, lots.expiring, lots.expired_not_discarded) == (1, 1, 0)


def test_an_admin_counts_every_site(world: Registry) -> None:
    found = figures(world, "admin")
    assert sum(found["states"].values()) == 9
    assert found["funnel"] == dashboard.Funnel(referred=9, eligible=6, infused=5)
    assert (found["visits"].due_this_week, found["visits"].overdue) == (3, 6)
    assert found["events"] == dashboard.EventCounts(open=3, serious=3, open_serious=2)
    lots = found["lots"]
    assert (lots.quarantine, lots.expiring, lots.expired_not_discarded) == (3, 4, 1)


@pytest.mark.parametrize("persona", ["lab", "statistician"])
def test_roles_without_identified_records_get_no_visit_or_event_counts(
    world: Registry, persona: str
) -> None:
    who = actor(world, persona)
    with world.database.sessions() as session:
        assert dashboard.lots(session, who, TODAY).quarantine == 2
        with pytest.raises(Forbidden):
            dashboard.visits_due(session, who, TODAY)
        with pytest.raises(Forbidden):
            dashboard.adverse_events(session, who)


def test_the_monitor_counts_lots_and_the_lab_counts_patients(
    world: Registry,
) -> None:
    assert figures(world, "monitor")["lots"].quarantine == 2
    who = actor(world, "lab")
    with world.database.sessions() as session:
        assert sum(dashboard.patients_by_state(session, who).values()) == 8


def test_the_list_conditions_select_the_patients_the_figures_count(world: Registry) -> None:
    """What /patients?reached=... and ?visits=... would show (site A01 as its coordinator)."""
    site_a = world.sites["A01"]

    def patients_where(condition: Any) -> int:
        with world.database.sessions() as session:
            query = select(Patient.id).where(Patient.site_id == site_a, condition)
            return len(list(session.scalars(query)))

    assert patients_where(dashboard.reached(S.ELIGIBLE)) == 5
    assert patients_where(dashboard.reached(S.INFUSED)) == 4
    assert patients_where(dashboard.pending_visits("due", TODAY)) == 2  # p1 and p2
    assert patients_where(dashboard.pending_visits("overdue", TODAY)) == 2
    with pytest.raises(ValueError, match="no stage"):
        dashboard.reached(S.REFERRED)
