"""One patient's whole course as a read model: header, timeline, visit schedule, measurements over
time and per-visit outcome states (DESIGN.md pathway steps 1–6), for the patient page.

Everything is read with a handful of queries, each by the patient's id (or the primary key of the
patient's own site and protocol version): the patient, site, protocol version, screenings,
consents, infusions, visits, the visits' lab results and adverse events. Nothing is computed
here that the registry did not already store, except the outcome states, which the clinical
engine computes from the stored scores (``services.course_outcomes``).

Access follows the services: the patient needs READ_PATIENTS and a shared site (404 otherwise);
the course itself (dates, visits, events) is identified data and needs READ_IDENTITY, as
``visits.for_patient`` and the other per-patient reads do. Without it only the de-identified
header is returned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.services import course_outcomes, pathway, patients, visit_labs, visits
from lupus_msc.services.access import Action, Actor
from lupus_msc.services.course_outcomes import OutcomeRow, VisitFacts
from lupus_msc.services.fields import today
from lupus_msc.services.patients import PatientOut
from lupus_msc.store.models import (
    AdverseEvent,
    AuditEvent,
    Consent,
    Infusion,
    LabResult,
    Patient,
    PatientState,
    ProtocolVersion,
    Screening,
    Site,
    Visit,
)

MILLION = Decimal(1_000_000)
BASELINE_DAY = 0
"""The baseline visit is the protocol's day-0 visit (the longitudinal instruments' baseline)."""


@dataclass(frozen=True)
class TimelineEntry:
    """One dated thing that happened (or is scheduled) in the patient's course."""

    day: dt.date
    kind: str
    """registered, screening, decision, consent, withdrawal, infusion, visit, adverse-event."""
    title: str
    detail: str = ""
    status: str | None = None
    record_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ScheduledVisit:
    id: uuid.UUID
    code: str
    study_day: int
    target_date: dt.date
    window_start: dt.date
    window_end: dt.date
    visit_date: dt.date | None
    status: visits.Status
    signed: bool


@dataclass(frozen=True)
class Measurement:
    """The charted numbers of one recorded visit (None where not recorded)."""

    day: dt.date
    code: str
    sledai2k: int | None
    prednisone_mg_day: Decimal | None
    upcr_g_g: Decimal | None
    egfr: Decimal | None
    c3_g_l: Decimal | None
    c4_g_l: Decimal | None
    anti_dsdna_iu_ml: Decimal | None
    facit_f: Decimal | None


@dataclass
class Course:
    patient: PatientOut
    site_code: str
    site_name: str
    protocol: str
    allowed_moves: list[PatientState]
    identified: bool
    renal: bool = False
    timeline: list[TimelineEntry] = field(default_factory=list)
    schedule: list[ScheduledVisit] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    infusion_dates: list[dt.date] = field(default_factory=list)
    outcomes: list[OutcomeRow] = field(default_factory=list)


def moves_from(state: PatientState) -> list[PatientState]:
    """The states a bare transition may reach from ``state`` (``pathway.allowed`` without the
    states that only their own step sets)."""
    return sorted(
        (target for target in pathway.allowed(state) if target not in pathway.SET_BY_STEP),
        key=lambda target: list(PatientState).index(target),
    )


def load(
    session: Session, actor: Actor, patient_id: uuid.UUID, on: dt.date | None = None
) -> Course:
    """The course of one patient as ``actor`` may see it (404 for another site's patient)."""
    patient = patients.get(session, actor, patient_id)
    site = session.get(Site, patient.site_id)
    version = session.get(ProtocolVersion, patient.protocol_version_id)
    assert site is not None and version is not None  # noqa: S101 - foreign keys
    course = Course(
        patient=patients.view(actor, patient),
        site_code=site.code,
        site_name=site.name,
        protocol=f"{version.protocol_code} v{version.version}",
        allowed_moves=moves_from(patient.state),
        identified=actor.may(Action.READ_IDENTITY),
    )
    if not course.identified:
        return course
    day = on or today()
    course.timeline.append(_registration(session, patient))
    _screenings(session, course, patient.id)
    _consents(session, course, patient.id)
    _infusions(session, course, patient.id)
    _visits(session, course, patient.id, day)
    _adverse_events(session, course, patient.id)
    course.timeline.sort(key=lambda entry: entry.day)
    return course


IMPORTED = "imported from "
"""How an import's audit reason begins (``interop.redcap_import``: "imported from REDCap (…)")."""


def _registration(session: Session, patient: Patient) -> TimelineEntry:
    """When the patient entered this registry: registered (referred), or imported with their
    history from another system, which the audit trail's reason for the record says; an
    imported patient's visits come before that day."""
    reason = session.scalar(
        select(AuditEvent.reason)
        .where(
            AuditEvent.entity == Patient.__tablename__,
            AuditEvent.entity_id == str(patient.id),
            AuditEvent.action == "create",
        )
        .limit(1)
    )
    if reason is not None and reason.startswith(IMPORTED):
        source = reason.removeprefix(IMPORTED)
        return TimelineEntry(patient.created_at.date(), "registered", f"Imported from {source}")
    return TimelineEntry(patient.created_at.date(), "registered", "Registered (referred)")


def _screenings(session: Session, course: Course, patient_id: uuid.UUID) -> None:
    query = select(Screening).where(Screening.patient_id == patient_id)
    found = sorted(session.scalars(query), key=lambda item: (item.screened_on, item.created_at))
    for screening in found:
        score = screening.eular_acr_score
        detail = f"EULAR/ACR 2019 {score if score is not None else '—'} points; "
        detail += (
            f"SLEDAI-2K {screening.sledai2k_total if screening.sledai2k_total is not None else '—'}"
        )
        rules = {True: "rules met", False: "rules not met", None: "rules undecided"}
        course.timeline.append(
            TimelineEntry(
                screening.screened_on,
                "screening",
                "Screening",
                f"{detail}; {rules[screening.rules_eligible]}",
                record_id=screening.id,
            )
        )
        if screening.decision is not None and screening.decided_at is not None:
            course.timeline.append(
                TimelineEntry(
                    screening.decided_at.date(),
                    "decision",
                    f"Eligibility decision: {screening.decision}",
                    screening.decision_reason or "signed by the physician",
                    status=screening.decision,
                    record_id=screening.id,
                )
            )
    if found:
        involved = found[-1].data.get("organ_involvement") or []
        course.renal = "kidneys" in involved


def _consents(session: Session, course: Course, patient_id: uuid.UUID) -> None:
    for consent in session.scalars(select(Consent).where(Consent.patient_id == patient_id)):
        course.timeline.append(
            TimelineEntry(
                consent.signed_on,
                "consent",
                "Consent signed",
                f"form version {consent.form_version}",
                record_id=consent.id,
            )
        )
        if consent.withdrawn_on is not None:
            course.timeline.append(
                TimelineEntry(
                    consent.withdrawn_on,
                    "withdrawal",
                    "Consent withdrawn",
                    consent.withdrawal_reason or "",
                    status="withdrawn",
                    record_id=consent.id,
                )
            )


def _infusions(session: Session, course: Course, patient_id: uuid.UUID) -> None:
    query = select(Infusion).where(Infusion.patient_id == patient_id).order_by(Infusion.number)
    for infusion in session.scalars(query):
        started = infusion.started_at.astimezone(dt.UTC).date()
        course.infusion_dates.append(started)
        millions = (infusion.actual_dose_per_kg / MILLION).normalize()
        course.timeline.append(
            TimelineEntry(
                started,
                "infusion",
                f"Infusion {infusion.number}",
                f"{infusion.route}, {format(millions, 'f')} × 10⁶ cells/kg"
                + ("" if infusion.within_range else " (outside the protocol's dose range)"),
                status="done" if infusion.within_range else "deviation",
                record_id=infusion.id,
            )
        )


def _labs_by_visit(session: Session, patient_id: uuid.UUID) -> dict[uuid.UUID, dict[str, Decimal]]:
    """The active lab results of every visit of the patient, canonical units (one query)."""
    query = (
        select(LabResult)
        .join(Visit, Visit.id == LabResult.visit_id)
        .where(Visit.patient_id == patient_id, LabResult.superseded.is_(False))
        .order_by(LabResult.created_at)
    )
    found: dict[uuid.UUID, dict[str, Decimal]] = defaultdict(dict)
    for result in session.scalars(query):
        value = visit_labs.canonical(result)
        if value is not None:
            found[result.visit_id][result.analyte] = value
    return found


def _visits(session: Session, course: Course, patient_id: uuid.UUID, on: dt.date) -> None:
    query = select(Visit).where(Visit.patient_id == patient_id).order_by(Visit.study_day)
    scheduled = list(session.scalars(query))
    labs = _labs_by_visit(session, patient_id) if scheduled else {}
    facts: list[VisitFacts] = []
    for visit in scheduled:
        state = visits.status(visit, on)
        course.schedule.append(
            ScheduledVisit(
                visit.id,
                visit.code,
                visit.study_day,
                visit.target_date,
                visit.window_start,
                visit.window_end,
                visit.visit_date,
                state,
                visit.signed_at is not None,
            )
        )
        course.timeline.append(
            TimelineEntry(
                visit.visit_date or visit.target_date,
                "visit",
                f"Visit {visit.code} (day {visit.study_day})",
                f"window {visit.window_start} to {visit.window_end}",
                status=state,
                record_id=visit.id,
            )
        )
        if visit.visit_date is None:
            continue
        found = labs.get(visit.id, {})
        scores = visit.scores or {}
        sledai = scores.get("sledai2k")
        course.measurements.append(
            Measurement(
                day=visit.visit_date,
                code=visit.code,
                sledai2k=int(sledai["total"]) if isinstance(sledai, dict) else None,
                prednisone_mg_day=course_outcomes.part(
                    scores, "prednisone_equivalent", "prednisone_mg_day"
                ),
                upcr_g_g=found.get("upcr"),
                egfr=course_outcomes.egfr_of(scores),
                c3_g_l=found.get("c3"),
                c4_g_l=found.get("c4"),
                anti_dsdna_iu_ml=found.get("anti_dsdna"),
                facit_f=course_outcomes.part(scores, "facit_f", "score"),
            )
        )
        facts.append(
            course_outcomes.facts_of(visit, found, baseline=visit.study_day == BASELINE_DAY)
        )
    course.measurements.sort(key=lambda item: item.day)
    course.outcomes = course_outcomes.outcomes(facts, renal=course.renal)


def _adverse_events(session: Session, course: Course, patient_id: uuid.UUID) -> None:
    query = select(AdverseEvent).where(AdverseEvent.patient_id == patient_id)
    for event in session.scalars(query):
        serious = " (serious)" if event.serious_criteria else ""
        resolved = f"; resolved {event.resolved_on}" if event.resolved_on else "; ongoing"
        course.timeline.append(
            TimelineEntry(
                event.onset_on,
                "adverse-event",
                f"Adverse event: {event.term}{serious}",
                f"CTCAE grade {event.grade}, {event.relatedness}, {event.outcome}{resolved}",
                status="serious" if event.serious_criteria else f"grade {event.grade}",
                record_id=event.id,
            )
        )
