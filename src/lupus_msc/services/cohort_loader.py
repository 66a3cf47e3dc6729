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

For the demo (``lupus-msc demo``), ``load(..., sites=2, demo=True)`` folds the cohort into two
sites and stops some patients early on the pathway (``synth.demo_plan``): referred, in
screening, eligible, consented, enrolled, infused before any follow-up visit; some withdraw
their consent or die (a fatal serious adverse event) after part of their follow-up, and a few
patients in follow-up have an open serious adverse event.
"""

from __future__ import annotations

import dataclasses
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
from lupus_msc.services.adverse_events import AdverseEventIn
from lupus_msc.services.cohort_staff import Crew, Member, act, create_crew, site_code
from lupus_msc.services.consent import ConsentIn, WithdrawalIn
from lupus_msc.services.errors import Refused, ServiceError
from lupus_msc.services.fields import today
from lupus_msc.services.patients import PatientIn, TransitionIn
from lupus_msc.services.screening import Decision, DecisionIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visits import SignatureIn
from lupus_msc.store.database import Database
from lupus_msc.store.models import Consent, Infusion, Patient, PatientState, Screening, Sex, Visit
from lupus_msc.synth.demo_plan import (
    PART_WAY,
    SeriousEvent,
    Stop,
    demo_stops,
    open_serious_events,
)
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
    stops: dict[str, Stop] = field(default_factory=dict)
    serious: dict[str, SeriousEvent] = field(default_factory=dict)


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


def _register(session: Session, crew: Crew, plan: PatientPlan, *, refer: bool = True) -> Patient:
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
    if refer:
        reason = "referred for MSC screening"
        to_screening = TransitionIn(to=PatientState.SCREENING, reason=reason)
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


def _screen(
    session: Session, crew: Crew, patient: Patient, plan: PatientPlan, *, decide: bool = True
) -> bool:
    """Record the screening and the physician's signed decision; True when eligible."""
    coordinator = act(session, crew.coordinator)
    recorded = screening.record(session, coordinator, patient.id, cohort_forms.screening(plan))
    if not decide:
        return False
    physician = act(session, crew.physician)
    decision = _decision(recorded, crew.physician.password)
    screening.decide(session, physician, recorded.id, decision)
    return decision.decision is Decision.ELIGIBLE


def _consent(session: Session, crew: Crew, patient: Patient, plan: PatientPlan) -> Consent:
    coordinator = act(session, crew.coordinator)
    form = f"{_protocol_label(session, patient)} consent"
    signed = ConsentIn(
        form_version=form[:40],
        signed_on=plan.consented_on,
        signer_name=f"{plan.identity.given_name} {plan.identity.family_name}",
    )
    return consent.record(session, coordinator, patient.id, signed)


def _enrol(session: Session, crew: Crew, patient: Patient) -> None:
    coordinator = act(session, crew.coordinator)
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
    session: Session,
    run: _Run,
    crew: Crew,
    patient: Patient,
    plan: PatientPlan,
    last_day: int | None = None,
) -> list[Visit]:
    """Record the visits in the past (one per protocol visit, up to the protocol day
    ``last_day`` if given) and sign each of them; a visit on an infusion day is dated that day
    (the infusion is one of its assessments)."""
    coordinator = act(session, crew.coordinator)
    scheduled = {
        visit.code: visit for visit in visits.for_patient(session, coordinator, patient.id)
    }
    infusion_days = run.protocol.dosing.infusion_days()
    recorded: dict[str, Visit] = {}
    for planned in plan.visits:
        due = _protocol_visit(planned.day, run.protocol)
        if due.code in recorded or (last_day is not None and due.day > last_day):
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
    session: Session,
    crew: Crew,
    patient: Patient,
    plan: PatientPlan,
    given: list[Infusion],
    until: dt.date | None = None,
) -> None:
    """Infusion reactions are reported by the nurse who infused, other events by the physician
    (those starting after ``until``, when given, are left out)."""
    for event in plan.events:
        if until is not None and event.onset_on > until:
            continue
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


def _serious_event(session: Session, crew: Crew, patient: Patient, event: SeriousEvent) -> None:
    physician = act(session, crew.physician)
    data = AdverseEventIn(
        term=event.term,
        onset_on=event.onset_on,
        resolved_on=event.resolved_on,
        grade=event.grade,
        serious_criteria=list(event.serious_criteria),
        relatedness=event.relatedness,
        expected=False,
        action="not-applicable",
        outcome=event.outcome,
    )
    adverse_events.record(session, physician, patient.id, data)


def _last_recorded(schedule: list[Visit], fallback: dt.date) -> dt.date:
    dates = [visit.visit_date for visit in schedule if visit.visit_date is not None]
    return max(dates, default=fallback)


def _leave(session: Session, crew: Crew, patient: Patient, stop: Stop, last: dt.date) -> None:
    """After the last recorded visit (``last``): still in follow-up (a first follow-up visit is
    needed for that state), lost to follow-up, withdrawal of consent, or death (a fatal serious
    adverse event)."""
    day = min(last + dt.timedelta(days=30), today())
    if patient.state is PatientState.INFUSED or stop is Stop.FOLLOW_UP:
        return
    if stop is Stop.LOST_TO_FOLLOW_UP:
        physician = act(session, crew.physician)
        reason = f"no contact since the visit of {last.isoformat()}; letters unanswered"
        lost = TransitionIn(to=PatientState.LOST_TO_FOLLOW_UP, reason=reason)
        patients.transition(session, physician, patient.id, lost)
        return
    if stop is Stop.WITHDRAWN:
        coordinator = act(session, crew.coordinator)
        signed = consent.active(session, patient)
        assert signed is not None  # noqa: S101 - an infused patient has consented
        reason = "the patient withdrew consent to further study visits"
        withdrawal = WithdrawalIn(withdrawn_on=day, reason=reason)
        consent.withdraw(session, coordinator, signed.id, withdrawal)
        return
    fatal = SeriousEvent("Sepsis", 5, day, day, ("death",), "unlikely", "fatal")
    _serious_event(session, crew, patient, fatal)
    physician = act(session, crew.physician)
    reason = f"died on {day.isoformat()} (sepsis; see the serious adverse event)"
    patients.transition(
        session, physician, patient.id, TransitionIn(to=PatientState.DECEASED, reason=reason)
    )


NEEDS_ELIGIBLE = frozenset(Stop) - {Stop.REFERRED, Stop.SCREENING}
"""Stops a patient reaches only if found eligible at screening."""


def _carry_over(run: _Run, plan: PatientPlan, carried: list[Stop]) -> None:
    """A stop its patient could not reach (found ineligible) goes to the next patient that has
    none, so that every stop of the demo occurs."""
    if carried and plan.synth_id not in run.stops and plan.synth_id not in run.serious:
        run.stops[plan.synth_id] = carried.pop(0)


def _folded(plan: CohortPlan, sites: int) -> CohortPlan:
    """The plan with its patients' sites folded into ``sites`` sites (1 … sites)."""
    folded = tuple(
        dataclasses.replace(patient, site=(patient.site - 1) % sites + 1)
        for patient in plan.patients
    )
    return dataclasses.replace(plan, patients=folded)


def _load_patient(session: Session, run: _Run, plan: PatientPlan) -> LoadedPatient:
    """One synthetic patient, from referral to the last visit in the past, or to its demo stop
    (module docstring; one transaction)."""
    crew = run.crews[plan.site]
    stop = run.stops.get(plan.synth_id)
    patient = _register(session, crew, plan, refer=stop is not Stop.REFERRED)
    if stop is Stop.REFERRED:
        session.flush()
        return LoadedPatient(patient.study_code, plan.synth_id, patient.state)
    if _screen(session, crew, patient, plan, decide=stop is not Stop.SCREENING):
        _walk_eligible(session, run, crew, patient, plan, stop)
    session.flush()
    return LoadedPatient(patient.study_code, plan.synth_id, patient.state)


def _walk_eligible(
    session: Session, run: _Run, crew: Crew, patient: Patient, plan: PatientPlan, stop: Stop | None
) -> None:
    """From eligible to the stop, or to the last visit in the past."""
    if stop is Stop.ELIGIBLE:
        return
    _consent(session, crew, patient, plan)
    if stop is Stop.CONSENTED:
        return
    _enrol(session, crew, patient)
    if stop is Stop.ENROLLED:
        return
    _prescribe(session, crew, patient, plan)
    given = _infuse(session, run, crew, patient, plan)
    if stop is Stop.INFUSED:
        _follow_up(session, run, crew, patient, plan, last_day=0)
        _report_events(session, crew, patient, plan, given, until=plan.infusions[-1])
        return
    last_day = None
    if stop in PART_WAY:
        last_day = plan.visits[len(plan.visits) // 2].day
    schedule = _follow_up(session, run, crew, patient, plan, last_day)
    last = _last_recorded(schedule, plan.infusions[-1])
    _report_events(session, crew, patient, plan, given, until=last if stop in PART_WAY else None)
    if stop in PART_WAY:
        _leave(session, crew, patient, stop, last)
        return
    serious = run.serious.get(plan.synth_id)
    if serious is not None:
        _serious_event(session, crew, patient, serious)
    _close(session, crew, patient, schedule)


def load(
    database: Database,
    patients_wanted: int,
    *,
    seed: int = 0,
    progress: Callable[[LoadedPatient], None] | None = None,
    sites: int | None = None,
    demo: bool = False,
) -> LoadResult:
    """Load a seeded synthetic cohort of ``patients_wanted`` into ``database`` (module
    docstring); ``progress`` is called after each patient's transaction commits. ``sites``
    folds the cohort's sites into that many (S01…); ``demo`` stops some patients early on the
    pathway (``synth.demo_plan``)."""
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
    if sites is not None:
        plan = _folded(plan, sites)
    run = _Run(_crews(database, plan, on), protocol)
    if demo:
        run.stops = demo_stops(plan.patients, seed)
        run.serious = open_serious_events(plan.patients, run.stops, seed, on)
    loaded = []
    carried: list[Stop] = []
    for patient_plan in plan.patients:
        _carry_over(run, patient_plan, carried)
        first = run.crews[patient_plan.site].coordinator.actor
        try:
            with unit_of_work(database, first) as session:
                done = _load_patient(session, run, patient_plan)
        except ServiceError as error:
            raise LoadError(patient_plan.synth_id, error.message) from error
        except ValidationError as error:
            raise LoadError(patient_plan.synth_id, str(error)) from error
        loaded.append(done)
        stop = run.stops.get(patient_plan.synth_id)
        if stop in NEEDS_ELIGIBLE and done.state is PatientState.SCREEN_FAILED:
            carried.append(stop)
        if progress is not None:
            progress(done)
    staff = tuple(member for crew in run.crews.values() for member in crew.members)
    return LoadResult(tuple(loaded), staff, plan.skipped, time.perf_counter() - started)
