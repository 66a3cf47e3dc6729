"""``lupus-msc synth load``: fill a registry with a seeded synthetic cohort through the services,
so that every record has its audit trail (issue 5; DESIGN.md: synth/ writes only through
services/).

The cohort is ``synth.visits.generate_cohort`` (recorded visit items) and the rest of each
patient's record is planned by ``synth.registry_plan``; here each step of the pathway is done by
the member of the site's synthetic staff whose role does it (``cohort_staff``): the coordinator
registers and screens, the physician signs the eligibility decision, consent is taken and the
patient enrolled; the lab makes, tests, releases (signed) and allocates the lots and keeps their
custody; two nurses check each lot at the bedside and infuse it (``cohort_product``); the
coordinator records the visits that lie in the past and the physician signs them; glucocorticoid
prescriptions and a few adverse events complete the record (``cohort_forms``). A patient the rules
find ineligible (or undecided) is recorded as screen-failed and stops there.

Each patient is one transaction. The same ``patients`` and ``seed`` give the same records on the
same day (only ids, creation times and the staff's passwords differ).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.protocol import Protocol, default_protocol_text
from lupus_msc.protocol import Visit as ProtocolVisit
from lupus_msc.services import (
    adverse_events,
    cohort_forms,
    cohort_product,
    consent,
    lots,
    medications,
    patients,
    protocols,
    screening,
    visits,
)
from lupus_msc.services.cohort_staff import Crew, Member, act, create_crew, site_code
from lupus_msc.services.consent import ConsentIn
from lupus_msc.services.errors import Refused, ServiceError
from lupus_msc.services.fields import today
from lupus_msc.services.patients import PatientIn, TransitionIn
from lupus_msc.services.screening import Decision, DecisionIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visits import SignatureIn
from lupus_msc.store.database import Database
from lupus_msc.store.models import Infusion, Patient, PatientState, Screening, Sex, Visit
from lupus_msc.synth.registry_plan import CohortPlan, PatientPlan, plan_cohort
from lupus_msc.synth.visits import generate_cohort

QUALIFIED_YEARS_AHEAD = 2
"""Staff qualifications stay valid two years after the load."""


class LoadError(Exception):
    """A service (or an input model) refused a step of a synthetic patient: that patient's
    transaction is rolled back and the load stops (the patients before it stay loaded)."""

    def __init__(self, synth_id: str, problem: str) -> None:
        super().__init__(f"synthetic patient {synth_id}: {problem}")
        self.synth_id = synth_id
        self.problem = problem


@dataclass(frozen=True)
class LoadedPatient:
    study_code: str
    synth_id: str
    state: PatientState


@dataclass(frozen=True)
class LoadResult:
    """What a load wrote. ``staff`` carries the synthetic logins (passwords included, never in
    ``repr``): give them to whoever must log in; never print them."""

    patients: tuple[LoadedPatient, ...]
    staff: tuple[Member, ...] = field(repr=False)
    skipped: tuple[str, ...]
    """Synthetic patients left out (``synth.registry_plan.CohortPlan.skipped``)."""
    seconds: float

    def states(self) -> Counter[PatientState]:
        return Counter(patient.state for patient in self.patients)


@dataclass
class _Run:
    """What one load keeps between patients."""

    crews: dict[int, Crew]
    protocol: Protocol
    harvests: dict[tuple[int, int], uuid.UUID] = field(default_factory=dict)


def _protocol(session: Session) -> Protocol:
    """The newest protocol (new patients run under it); the default one if none is loaded."""
    try:
        version = protocols.newest(session)
    except Refused:
        version = protocols.add(session, None, default_protocol_text())
    return protocols.definition(version)


def _crews(database: Database, plan: CohortPlan, on: dt.date) -> dict[int, Crew]:
    """The sites and their synthetic staff (one system transaction, as ``lupus-msc init``)."""
    until = on.replace(year=on.year + QUALIFIED_YEARS_AHEAD, day=min(on.day, 28))
    sites = sorted({patient.site for patient in plan.patients})
    with unit_of_work(database, None) as session:
        return {
            site: create_crew(session, site_code(site), (plan.qualified_from, until))
            for site in sites
        }


def _free_record_number(session: Session, site_id: uuid.UUID, wanted: str) -> str:
    """``wanted``, or ``wanted-2`` … when an earlier load registered it at this site."""
    number, candidate = 1, wanted
    while session.scalar(
        select(Patient.id).where(
            Patient.site_id == site_id, Patient.medical_record_number == candidate
        )
    ):
        number += 1
        candidate = f"{wanted}-{number}"
    return candidate


def _register(session: Session, crew: Crew, plan: PatientPlan) -> Patient:
    coordinator = act(session, crew.coordinator)
    who = plan.identity
    patient = patients.register(
        session,
        coordinator,
        PatientIn(
            site_id=crew.site_id,
            given_name=who.given_name,
            family_name=who.family_name,
            date_of_birth=who.date_of_birth,
            sex=Sex(who.sex),
            medical_record_number=_free_record_number(
                session, crew.site_id, who.medical_record_number
            ),
            diagnosis_date=who.diagnosis_date,
        ),
    )
    to_screening = TransitionIn(to=PatientState.SCREENING, reason="referred for MSC screening")
    patients.transition(session, coordinator, patient.id, to_screening)
    return patient


def _decision(recorded: Screening, password: str) -> DecisionIn:
    """The physician follows the rules; undecided rules are a screen failure, with the reason."""
    if recorded.rules_eligible is None:
        results = recorded.rule_results.items()
        undecided = ", ".join(rule for rule, result in results if result is None)
        reason = f"the eligibility rules are undecided ({undecided})"
        return DecisionIn(decision=Decision.INELIGIBLE, password=password, reason=reason)
    chosen = Decision.ELIGIBLE if recorded.rules_eligible else Decision.INELIGIBLE
    return DecisionIn(decision=chosen, password=password)


def _screen(session: Session, crew: Crew, patient: Patient, plan: PatientPlan) -> bool:
    """Record the screening and the physician's signed decision; True when eligible."""
    coordinator = act(session, crew.coordinator)
    recorded = screening.record(session, coordinator, patient.id, cohort_forms.screening(plan))
    physician = act(session, crew.physician)
    decision = _decision(recorded, crew.physician.password)
    screening.decide(session, physician, recorded.id, decision)
    return decision.decision is Decision.ELIGIBLE


def _enrol(session: Session, crew: Crew, patient: Patient, plan: PatientPlan) -> None:
    coordinator = act(session, crew.coordinator)
    form = f"{_protocol_label(session, patient)} consent"
    signed = ConsentIn(
        form_version=form[:40],
        signed_on=plan.consented_on,
        signer_name=f"{plan.identity.given_name} {plan.identity.family_name}",
    )
    consent.record(session, coordinator, patient.id, signed)
    enrol = TransitionIn(to=PatientState.ENROLLED, reason="enrolled after consent")
    patients.transition(session, coordinator, patient.id, enrol)


def _protocol_label(session: Session, patient: Patient) -> str:
    version = protocols.get(session, patient.protocol_version_id)
    return f"{version.protocol_code} {version.version}"


def _prescribe(session: Session, crew: Crew, patient: Patient, plan: PatientPlan) -> None:
    """Glucocorticoids first, so that each visit's prednisone equivalent is derived once."""
    physician = act(session, crew.physician)
    for prescription in cohort_forms.medications(plan):
        medications.record(session, physician, patient.id, prescription)


def _infuse(
    session: Session, run: _Run, crew: Crew, patient: Patient, plan: PatientPlan
) -> list[Infusion]:
    harvest = run.harvests.get(plan.donor.key)
    if harvest is None:
        harvest = run.harvests[plan.donor.key] = cohort_product.harvest(session, crew, plan.donor)
    made = cohort_product.lots_for(session, crew, patient, harvest, plan)
    return [
        cohort_product.infuse(
            session, crew, patient, lot, day=day, number=number, plan=plan, protocol=run.protocol
        )
        for number, (lot, day) in enumerate(zip(made, plan.infusions, strict=True), start=1)
    ]


def _protocol_visit(day: int, protocol: Protocol) -> ProtocolVisit:
    """The protocol visit nearest to a synthetic visit's day (the schedules are the same)."""
    scheduled = [visit for visit in protocol.visits if visit.day >= 0]
    return min(scheduled, key=lambda visit: (abs(visit.day - day), visit.day))


def _follow_up(
    session: Session, run: _Run, crew: Crew, patient: Patient, plan: PatientPlan
) -> list[Visit]:
    """Record the visits in the past (one per protocol visit) and sign each of them; a visit on
    an infusion day is dated that day (the infusion is one of its assessments)."""
    coordinator = act(session, crew.coordinator)
    scheduled = {
        visit.code: visit for visit in visits.for_patient(session, coordinator, patient.id)
    }
    infusion_days = run.protocol.dosing.infusion_days()
    recorded: dict[str, Visit] = {}
    for planned in plan.visits:
        due = _protocol_visit(planned.day, run.protocol)
        if due.code in recorded:
            continue
        on = plan.infusions[0] + dt.timedelta(days=due.day)
        visit_in = cohort_forms.visit(planned, on if due.day in infusion_days else planned.on)
        recorded[due.code] = visits.record(session, coordinator, scheduled[due.code].id, visit_in)
    physician = act(session, crew.physician)
    signature = SignatureIn(password=crew.physician.password)
    for visit in recorded.values():
        visits.sign(session, physician, visit.id, signature)
    return list(scheduled.values())


def _report_events(
    session: Session, crew: Crew, patient: Patient, plan: PatientPlan, given: list[Infusion]
) -> None:
    """Infusion reactions are reported by the nurse who infused, other events by the physician."""
    for event in plan.events:
        reporter = act(session, crew.nurse if event.infusion else crew.physician)
        data = cohort_forms.adverse_event(event, [infusion.id for infusion in given])
        adverse_events.record(session, reporter, patient.id, data)


def _close(session: Session, crew: Crew, patient: Patient, schedule: list[Visit]) -> None:
    """Completed when the last protocol visit is recorded; lost to follow-up when its window
    has passed without it; otherwise still in follow-up."""
    final = max(schedule, key=lambda visit: visit.study_day)
    physician = act(session, crew.physician)
    if final.visit_date is not None:
        ending = TransitionIn(to=PatientState.COMPLETED, reason="completed the protocol's visits")
    elif final.window_end < today():
        reason = f"no visit in the window of the last protocol visit ({final.code})"
        ending = TransitionIn(to=PatientState.LOST_TO_FOLLOW_UP, reason=reason)
    else:
        return
    patients.transition(session, physician, patient.id, ending)


def _load_patient(session: Session, run: _Run, plan: PatientPlan) -> LoadedPatient:
    """One synthetic patient, from referral to the last visit in the past (one transaction)."""
    crew = run.crews[plan.site]
    patient = _register(session, crew, plan)
    if _screen(session, crew, patient, plan):
        _enrol(session, crew, patient, plan)
        _prescribe(session, crew, patient, plan)
        given = _infuse(session, run, crew, patient, plan)
        schedule = _follow_up(session, run, crew, patient, plan)
        _report_events(session, crew, patient, plan, given)
        _close(session, crew, patient, schedule)
    session.flush()
    return LoadedPatient(patient.study_code, plan.synth_id, patient.state)


def load(
    database: Database,
    patients_wanted: int,
    *,
    seed: int = 0,
    progress: Callable[[LoadedPatient], None] | None = None,
) -> LoadResult:
    """Load a seeded synthetic cohort of ``patients_wanted`` into ``database`` (module
    docstring); ``progress`` is called after each patient's transaction commits."""
    started = time.perf_counter()
    on = today()
    cohort = generate_cohort(patients_wanted, seed)
    with unit_of_work(database, None) as session:
        protocol = _protocol(session)
    plan = plan_cohort(
        cohort,
        seed=seed,
        today=on,
        shelf_life_days=lots.MAX_SHELF_LIFE.days,
        infusion_days=protocol.dosing.infusion_days(),
    )
    run = _Run(_crews(database, plan, on), protocol)
    loaded = []
    for patient_plan in plan.patients:
        first = run.crews[patient_plan.site].coordinator.actor
        try:
            with unit_of_work(database, first) as session:
                done = _load_patient(session, run, patient_plan)
        except ServiceError as error:
            raise LoadError(patient_plan.synth_id, error.message) from error
        except ValidationError as error:
            raise LoadError(patient_plan.synth_id, str(error)) from error
        loaded.append(done)
        if progress is not None:
            progress(done)
    staff = tuple(member for crew in run.crews.values() for member in crew.members)
    return LoadResult(tuple(loaded), staff, plan.skipped, time.perf_counter() - started)
