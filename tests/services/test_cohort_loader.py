"""``lupus-msc synth load`` (issue 5): a seeded synthetic cohort loaded through the services, on
SQLite and PostgreSQL — patients in the states the pathway allows, visits only in the past, every
infused lot released and in custody, every record in an intact audit trail, attributed to the
member of staff whose role does that step; and the same seed gives the same registry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lupus_msc.services import accounts, cohort_product, lots
from lupus_msc.services.accounts import TokenRequest
from lupus_msc.services.cohort_loader import LoadError, LoadResult, load
from lupus_msc.services.errors import Refused
from lupus_msc.services.fields import today
from lupus_msc.store import audit
from lupus_msc.store.base import Entity
from lupus_msc.store.database import Database
from lupus_msc.store.models import (
    AdverseEvent,
    AuditEvent,
    Consent,
    CustodyEvent,
    Infusion,
    InfusionLot,
    Lot,
    Medication,
    Patient,
    PatientState,
    ReleaseDecision,
    Role,
    Screening,
    User,
    Visit,
)
from lupus_msc.synth.registry_plan import RECENT_DAYS, plan_cohort
from lupus_msc.synth.visits import generate_cohort

SEED = 0
PATIENTS = {"sqlite": 8, "postgresql": 3}
"""Patients loaded per backend (PostgreSQL gets fewer: the signatures' Argon2 checks dominate)."""
ON_THE_PATHWAY = {
    PatientState.SCREEN_FAILED,
    PatientState.INFUSED,
    PatientState.FOLLOW_UP,
    PatientState.COMPLETED,
    PatientState.LOST_TO_FOLLOW_UP,
}
TREATED = ON_THE_PATHWAY - {PatientState.SCREEN_FAILED}


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[tuple[Database, LoadResult]]:
    database = Database(database_url)
    database.upgrade()
    wanted = PATIENTS["sqlite" if database_url.startswith("sqlite") else "postgresql"]
    yield database, load(database, wanted, seed=SEED)
    database.dispose()


def fresh_sqlite(tmp_path: Path, name: str) -> Database:
    database = Database(f"sqlite:///{tmp_path / name}")
    database.upgrade()
    return database


def patients_of(session: Session) -> list[Patient]:
    return list(session.scalars(select(Patient).order_by(Patient.study_code)))


def user_role(session: Session, user_id: uuid.UUID | None) -> Role:
    user = session.get(User, user_id)
    assert user is not None
    return user.role


# --- what is loaded --------------------------------------------------------------------------


def test_every_patient_is_loaded_in_a_state_of_the_pathway(
    loaded: tuple[Database, LoadResult], database_url: str
) -> None:
    database, result = loaded
    wanted = PATIENTS["sqlite" if database_url.startswith("sqlite") else "postgresql"]
    assert len(result.patients) + len(result.skipped) == wanted
    with database.sessions() as session:
        stored = {patient.study_code: patient.state for patient in patients_of(session)}
    assert stored == {patient.study_code: patient.state for patient in result.patients}
    assert set(stored.values()) <= ON_THE_PATHWAY
    assert any(state in TREATED for state in stored.values())


def test_a_screen_failure_stops_at_the_signed_decision(
    loaded: tuple[Database, LoadResult],
) -> None:
    database, _ = loaded
    with database.sessions() as session:
        for patient in patients_of(session):
            screening = session.scalars(
                select(Screening).where(Screening.patient_id == patient.id)
            ).one()
            assert user_role(session, screening.decided_by_id) is Role.PHYSICIAN
            consents = session.scalar(select(func.count()).where(Consent.patient_id == patient.id))
            given = session.scalar(select(func.count()).where(Infusion.patient_id == patient.id))
            if patient.state is PatientState.SCREEN_FAILED:
                assert screening.decision == "ineligible"
                assert screening.rules_eligible is not True
                assert (consents, given) == (0, 0)
            else:
                assert screening.decision == "eligible" and screening.rules_eligible is True
                assert (consents, given) == (1, 2)


def test_each_infusion_is_the_protocols_dose_of_the_baseline_weight(
    loaded: tuple[Database, LoadResult],
) -> None:
    """Default protocol (§14): 1 × 10⁶ cells/kg on days 0 and 7, checked by two nurses."""
    database, _ = loaded
    with database.sessions() as session:
        infusions = list(session.scalars(select(Infusion)))
        assert infusions
        for infusion in infusions:
            assert infusion.within_range and infusion.dose_deviation is None
            assert infusion.actual_cells == infusion.weight_kg * 1_000_000
            assert infusion.actual_dose_per_kg == 1_000_000
            assert user_role(session, infusion.administered_by_id) is Role.NURSE
            assert infusion.verified_by_id != infusion.administered_by_id
        by_patient: dict[uuid.UUID, list[Infusion]] = {}
        for infusion in infusions:
            by_patient.setdefault(infusion.patient_id, []).append(infusion)
        for given in by_patient.values():
            first, second = sorted(given, key=lambda infusion: infusion.number)
            assert second.started_at - first.started_at == dt.timedelta(days=7)


def test_visits_are_recorded_only_in_the_past_and_each_is_signed(
    loaded: tuple[Database, LoadResult],
) -> None:
    database, _ = loaded
    with database.sessions() as session:
        recorded = list(session.scalars(select(Visit).where(Visit.visit_date.is_not(None))))
        upcoming = session.scalar(
            select(func.count()).where(Visit.visit_date.is_(None), Visit.target_date > today())
        )
    assert recorded
    for visit in recorded:
        assert visit.visit_date is not None and visit.visit_date <= today()
        assert visit.signed_at is not None and visit.signed_by_id is not None
        assert "sledai2k" in visit.scores and "prednisone_equivalent" in visit.scores
    assert max(visit.visit_date for visit in recorded if visit.visit_date) > today() - dt.timedelta(
        days=RECENT_DAYS + 1
    )
    assert upcoming is not None and upcoming > 0, "the latest patients have visits to come"


def test_every_infused_lot_was_released_and_has_its_custody_chain(
    loaded: tuple[Database, LoadResult],
) -> None:
    database, _ = loaded
    with database.sessions() as session:
        used = list(session.scalars(select(InfusionLot)))
        assert used
        for link in used:
            lot = session.get(Lot, link.lot_id)
            assert lot is not None and lot.state == "infused"
            decision = session.scalars(
                select(ReleaseDecision).where(ReleaseDecision.lot_id == lot.id)
            ).one()
            assert decision.decision == "release" and decision.failures == []
            assert user_role(session, decision.signed_by_id) is Role.LAB
            chain = session.scalars(
                select(CustodyEvent.kind)
                .where(CustodyEvent.lot_id == lot.id)
                .order_by(CustodyEvent.at, CustodyEvent.created_at)
            )
            assert [kind.value for kind in chain] == [
                "stored",
                "shipped",
                "thawed",
                "bedside-verified",
                "infused",
            ]
            assert lot.expires_on >= today()


def test_glucocorticoids_and_adverse_events_belong_to_infused_patients(
    loaded: tuple[Database, LoadResult],
) -> None:
    database, _ = loaded
    with database.sessions() as session:
        treated = {p.id for p in patients_of(session) if p.state in TREATED}
        prescribed = set(session.scalars(select(Medication.patient_id)))
        for event in session.scalars(select(AdverseEvent)):
            assert event.patient_id in treated
            if event.infusion_id is not None:
                infusion = session.get(Infusion, event.infusion_id)
                assert infusion is not None and infusion.patient_id == event.patient_id
    assert prescribed <= treated


# --- the audit trail -------------------------------------------------------------------------


def test_the_audit_chain_is_intact(loaded: tuple[Database, LoadResult]) -> None:
    database, _ = loaded
    with database.sessions() as session:
        report = audit.verify(session)
    assert report.intact, report.problem


def test_every_record_has_its_creation_in_the_audit_trail(
    loaded: tuple[Database, LoadResult],
) -> None:
    database, _ = loaded
    with database.sessions() as session:
        created = {
            (entity, entity_id)
            for entity, entity_id in session.execute(
                select(AuditEvent.entity, AuditEvent.entity_id).where(AuditEvent.action == "create")
            )
        }
        for model in Entity.__subclasses__():
            for record_id in session.scalars(select(model.id)):
                assert (model.__tablename__, str(record_id)) in created


def test_each_step_is_attributed_to_the_role_that_does_it(
    loaded: tuple[Database, LoadResult],
) -> None:
    database, _ = loaded
    expected = {
        "patients": Role.COORDINATOR,
        "screenings": Role.COORDINATOR,
        "consents": Role.COORDINATOR,
        "lots": Role.LAB,
        "release_decisions": Role.LAB,
        "bedside_checks": Role.NURSE,
        "infusions": Role.NURSE,
        "medications": Role.PHYSICIAN,
    }
    with database.sessions() as session:
        rows = session.execute(
            select(AuditEvent.entity, User.role)
            .join(User, User.id == AuditEvent.user_id)
            .where(AuditEvent.action == "create", AuditEvent.entity.in_(expected))
            .distinct()
        )
        found: dict[str, set[Role]] = {}
        for entity, role in rows:
            found.setdefault(entity, set()).add(role)
        signed = session.execute(
            select(User.role)
            .join(AuditEvent, AuditEvent.user_id == User.id)
            .where(AuditEvent.entity == "visits", AuditEvent.field == "signed_at")
            .distinct()
        ).scalars()
        assert set(signed) == {Role.PHYSICIAN}
    assert found == {entity: {role} for entity, role in expected.items()}


# --- staff -----------------------------------------------------------------------------------


def test_the_staff_can_log_in_with_the_returned_passwords_which_repr_hides(
    loaded: tuple[Database, LoadResult],
) -> None:
    database, result = loaded
    assert {member.duty for member in result.staff} == {
        "physician",
        "coordinator",
        "lab",
        "nurse",
        "nurse2",
    }
    assert all(member.password not in repr(result) for member in result.staff)
    assert all(member.password not in repr(member) for member in result.staff)
    physician = next(member for member in result.staff if member.duty == "physician")
    with database.sessions() as session:
        user = accounts.login(
            session, TokenRequest(email=physician.email, password=physician.password)
        )
    assert user.role is Role.PHYSICIAN


# --- the plan --------------------------------------------------------------------------------


def test_the_plan_puts_the_latest_infusion_about_60_days_before_today() -> None:
    """Synthetic dates are historical; one offset moves them all (RECENT_DAYS = 60)."""
    on = dt.date(2031, 3, 15)
    plan = plan_cohort(
        generate_cohort(8, SEED),
        seed=SEED,
        today=on,
        shelf_life_days=lots.MAX_SHELF_LIFE.days,
        infusion_days=(0, 7),
    )
    latest = max(patient.infusions[0] for patient in plan.patients)
    assert latest == on - dt.timedelta(days=RECENT_DAYS)
    assert all(visit.on <= on for patient in plan.patients for visit in patient.visits)


def test_patients_whose_lots_could_not_be_in_date_today_are_skipped() -> None:
    """A cohort spanning ten years cannot have all its lots both made before their infusion
    and still unexpired today (lots.MAX_SHELF_LIFE): the oldest patients are left out."""
    on = dt.date(2031, 3, 15)
    plan = plan_cohort(
        generate_cohort(300, 1),
        seed=1,
        today=on,
        shelf_life_days=lots.MAX_SHELF_LIFE.days,
        infusion_days=(0, 7),
    )
    assert plan.skipped
    assert all(lot.expires_on >= on for patient in plan.patients for lot in patient.lots)
    assert len(plan.patients) + len(plan.skipped) == 300


# --- one transaction per patient, deterministic ----------------------------------------------


def test_a_refused_step_rolls_back_that_patient_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = fresh_sqlite(tmp_path, "refused.sqlite3")

    def refuse(*_: object, **__: object) -> None:
        raise Refused("lot: refused for the test")

    monkeypatch.setattr(cohort_product, "infuse", refuse)
    with pytest.raises(LoadError, match="refused for the test"):
        load(database, 1, seed=SEED)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
        assert session.scalar(select(func.count()).select_from(Lot)) == 0
        assert audit.verify(session).intact
    database.dispose()


def fingerprint(database: Database) -> list[tuple[object, ...]]:
    """What must not differ between two loads of the same seed (not ids, not creation times)."""
    with database.sessions() as session:
        rows: list[tuple[object, ...]] = []
        for patient in patients_of(session):
            rows.append((patient.study_code, patient.state, patient.given_name, patient.sex))
            found = session.scalars(
                select(Visit).where(Visit.patient_id == patient.id).order_by(Visit.study_day)
            )
            rows.extend(
                (
                    patient.study_code,
                    v.code,
                    v.visit_date,
                    v.scores.get("sledai2k", {}).get("total"),
                )
                for v in found
            )
        made = session.execute(select(Lot.code, Lot.total_cells).order_by(Lot.code))
        rows.extend((code, cells) for code, cells in made)
        return rows


def test_the_same_seed_gives_the_same_registry(tmp_path: Path) -> None:
    first, second = fresh_sqlite(tmp_path, "one.sqlite3"), fresh_sqlite(tmp_path, "two.sqlite3")
    load(first, 3, seed=11)
    load(second, 3, seed=11)
    assert fingerprint(first) == fingerprint(second)
    assert any(row[3] is not None for row in fingerprint(first) if len(row) == 4)
    first.dispose()
    second.dispose()


def test_a_second_load_adds_patients_and_a_new_staff(tmp_path: Path) -> None:
    database = fresh_sqlite(tmp_path, "twice.sqlite3")
    once = load(database, 1, seed=SEED)
    again = load(database, 1, seed=SEED)
    assert [p.study_code for p in (*once.patients, *again.patients)] == ["S01-0001", "S01-0002"]
    assert {m.email for m in once.staff}.isdisjoint(m.email for m in again.staff)
    with database.sessions() as session:
        numbers = sorted(session.scalars(select(Patient.medical_record_number)))
        assert numbers == ["SYN0000-000001", "SYN0000-000001-2"]
        assert audit.verify(session).intact
    database.dispose()
