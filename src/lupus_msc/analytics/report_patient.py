"""The patient summary for the referring doctor (``lupus-msc report patient PATIENT_CODE``).

Everything is read through the services, as the patient page reads it: the course
(``services.course.load``: measurements per visit and the per-visit outcome states the clinical
engine computes in ``services.course_outcomes`` — SRI-4 §4, LLDAS §5, DORIS 2021 §6, renal
response §10, SELENA-SLEDAI flare index §2 — each with its reason when not assessable), the
screening (EULAR/ACR 2019 score §7, SLEDAI-2K §1, organ involvement, treatments), the infusions
with their lots, the visits' PGA (§3) and the adverse events (CTCAE v5.0, §12). Nothing clinical
is computed here; the figures draw the stored values over months since the first infusion.

Beside the patient's own course, the report shows what published studies report for patients
like this one (``analytics.evidence_panel``), labelled as published results, not a prediction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from lupus_msc import __version__
from lupus_msc.analytics import evidence_panel
from lupus_msc.analytics.evidence_panel import EvidencePanel
from lupus_msc.analytics.figures import TrajectoryPoint, TrajectorySeries, trajectory_plot
from lupus_msc.analytics.figures_style import text_width_in
from lupus_msc.services import (
    adverse_events,
    course,
    course_outcomes,
    infusion_detail,
    infusions,
    patients,
    screening,
    visits,
)
from lupus_msc.services.access import Actor
from lupus_msc.services.course import Course, Measurement
from lupus_msc.services.course_outcomes import OutcomeRow
from lupus_msc.services.fields import today
from lupus_msc.services.patients import PatientOut
from lupus_msc.store.models import Role

MILLION = Decimal(1_000_000)
DAYS_PER_MONTH = 30.4375
NOT_STARTED = "Follow-up has not started: no infusion has been given yet."


class UnknownPatient(LookupError):
    """No patient has the study code asked for."""


def reader() -> Actor:
    """The command line's reader: no one is signed in, so it reads as an administrator (every
    site, identity included). It only reads: the report opens read-only sessions."""
    return Actor(
        uuid.UUID(int=0),
        "report@lupus-msc.invalid",
        "lupus-msc report",
        Role.ADMIN,
        frozenset(),
        (),
    )


@dataclass(frozen=True)
class ScreeningSummary:
    screened_on: dt.date
    eular_acr_score: int | None
    eular_acr_classified: bool | None
    sledai2k_total: int | None
    organ_involvement: tuple[str, ...]
    treatments: tuple[str, ...]
    """Each treatment as "drug (class; current, failed)"."""
    rules_eligible: bool | None
    decision: str | None
    decision_reason: str | None


@dataclass(frozen=True)
class InfusionRow:
    number: int
    day: dt.date
    route: str
    dose_per_kg_million: Decimal
    within_range: bool
    lot_codes: tuple[str, ...]


@dataclass(frozen=True)
class VisitRow:
    """One recorded visit: the stored values and the engine's outcome states."""

    code: str
    day: dt.date
    sledai2k: int | None
    sledai_complete: bool
    """Every SLEDAI-2K descriptor assessed (§16.1); an incomplete total may understate activity."""
    pga: Decimal | None
    prednisone_mg_day: Decimal | None
    upcr_g_g: Decimal | None
    egfr: Decimal | None
    c3_g_l: Decimal | None
    c4_g_l: Decimal | None
    anti_dsdna_iu_ml: Decimal | None
    facit_f: Decimal | None
    outcome: OutcomeRow | None


@dataclass(frozen=True)
class EventRow:
    term: str
    ctcae_term: str | None
    grade: int
    onset: dt.date
    resolved: dt.date | None
    serious: bool
    relatedness: str
    outcome: str
    infusion_reaction: bool


@dataclass(frozen=True)
class PatientReport:
    title: str
    as_of: dt.date
    cohort: str
    generated: str
    patient: PatientOut
    site_code: str
    site_name: str
    protocol: str
    renal: bool
    """Kidney involvement recorded at the last screening (``services.course``)."""
    screening: ScreeningSummary | None
    infusions: tuple[InfusionRow, ...]
    visits: tuple[VisitRow, ...]
    pending_visits: tuple[tuple[str, dt.date, str], ...]
    """Scheduled visits not recorded: code, target date, status (due, overdue, upcoming …)."""
    adverse_events: tuple[EventRow, ...]
    figures: dict[str, str]
    not_drawn: tuple[tuple[str, dt.date], ...]
    """Visits (code, date) left out of the figures, too close to the previous one to label."""
    evidence: EvidencePanel

    @property
    def follow_up_started(self) -> bool:
        return bool(self.infusions)


def find_patient(session: Session, actor: Actor, code: str) -> uuid.UUID:
    """The id of the patient with study code ``code`` (any case), through the patient list."""
    wanted = code.strip().upper()
    found = patients.listing(session, actor, site_id=None, limit=50, offset=0, search=wanted)
    for patient in found:
        if patient.study_code.upper() == wanted:
            return patient.id
    raise UnknownPatient(f"no patient with code {code!r}")


def _screening(session: Session, actor: Actor, patient_id: uuid.UUID) -> ScreeningSummary | None:
    found = screening.for_patient(session, actor, patient_id)
    if not found:
        return None
    last = max(found, key=lambda item: (item.screened_on, item.created_at))
    treatments = []
    for item in last.data.get("treatments") or []:
        state = ", ".join(
            word
            for word, on in (("current", item.get("current")), ("failed", item.get("failed")))
            if on
        )
        treatments.append(
            f"{item.get('drug')} ({item.get('drug_class')}{'; ' + state if state else ''})"
        )
    return ScreeningSummary(
        screened_on=last.screened_on,
        eular_acr_score=last.eular_acr_score,
        eular_acr_classified=last.eular_acr_classified,
        sledai2k_total=last.sledai2k_total,
        organ_involvement=tuple(last.data.get("organ_involvement") or ()),
        treatments=tuple(treatments),
        rules_eligible=last.rules_eligible,
        decision=last.decision,
        decision_reason=last.decision_reason,
    )


def _infusions(session: Session, actor: Actor, patient_id: uuid.UUID) -> tuple[InfusionRow, ...]:
    rows = []
    for infusion in infusions.for_patient(session, actor, patient_id):
        detail = infusion_detail.detail(session, actor, infusion.id)
        rows.append(
            InfusionRow(
                number=infusion.number,
                day=infusion.started_at.astimezone(dt.UTC).date(),
                route=infusion.route,
                dose_per_kg_million=(infusion.actual_dose_per_kg / MILLION).normalize(),
                within_range=infusion.within_range,
                lot_codes=tuple(code for code, _ in detail.lots),
            )
        )
    return tuple(rows)


def _visit_rows(session: Session, actor: Actor, loaded: Course) -> tuple[VisitRow, ...]:
    scores = {
        (visit.code, visit.visit_date): visit.scores or {}
        for visit in visits.for_patient(session, actor, loaded.patient.id)
        if visit.visit_date is not None
    }
    states = {(row.code, row.day): row for row in loaded.outcomes}
    return tuple(
        VisitRow(
            code=item.code,
            day=item.day,
            sledai2k=item.sledai2k,
            sledai_complete=_complete(scores.get((item.code, item.day), {})),
            pga=course_outcomes.part(scores.get((item.code, item.day), {}), "pga", "pga"),
            prednisone_mg_day=item.prednisone_mg_day,
            upcr_g_g=item.upcr_g_g,
            egfr=item.egfr,
            c3_g_l=item.c3_g_l,
            c4_g_l=item.c4_g_l,
            anti_dsdna_iu_ml=item.anti_dsdna_iu_ml,
            facit_f=item.facit_f,
            outcome=states.get((item.code, item.day)),
        )
        for item in loaded.measurements
    )


def _complete(scores: dict[str, Any]) -> bool:
    sledai = scores.get("sledai2k")
    return isinstance(sledai, dict) and bool(sledai.get("complete"))


def _events(session: Session, actor: Actor, patient_id: uuid.UUID) -> tuple[EventRow, ...]:
    return tuple(
        EventRow(
            term=event.term,
            ctcae_term=event.ctcae_term,
            grade=event.grade,
            onset=event.onset_on,
            resolved=event.resolved_on,
            serious=bool(event.serious_criteria),
            relatedness=event.relatedness,
            outcome=event.outcome,
            infusion_reaction=event.infusion_id is not None,
        )
        for event in adverse_events.for_patient(session, actor, patient_id)
    )


FIGURES: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("sledai", "SLEDAI-2K", "points", (("sledai2k", "SLEDAI-2K"),)),
    ("prednisone", "Prednisone-equivalent", "mg/day", (("prednisone_mg_day", "Prednisone-eq."),)),
    ("upcr", "UPCR", "g/g", (("upcr_g_g", "UPCR"),)),
    ("egfr", "eGFR", "mL/min/1.73 m²", (("egfr", "eGFR"),)),
    ("complement", "C3 and C4", "g/L", (("c3_g_l", "C3"), ("c4_g_l", "C4"))),
    ("dsdna", "Anti-dsDNA", "IU/mL", (("anti_dsdna_iu_ml", "Anti-dsDNA"),)),
    ("facit", "FACIT-F", "score 0–52", (("facit_f", "FACIT-F"),)),
)
"""Figure id, marker, unit and the ``Measurement`` attributes drawn (one series each)."""


AXIS_IN = 4.2
"""A safe lower bound of the width of ``trajectory_plot``'s axes (inches): its x axis has a
labelled tick at every point drawn, so points closer than their labels are wide are left out."""


def months_since(first: dt.date, day: dt.date) -> float:
    """Months (days / 30.4375) from the first infusion, to one decimal as the axis prints it."""
    return round((day - first).days / DAYS_PER_MONTH, 1)


def drawn_months(
    measurements: Sequence[Measurement], first: dt.date
) -> tuple[dict[dt.date, float], tuple[Measurement, ...]]:
    """Where each visit since the first infusion is drawn (visit date → months), and the visits
    left out of the figures because their tick label would run into the previous one's (e.g. a
    day-7 visit beside day 0 on a two-year axis); their values stay in the tables."""
    since = [item for item in measurements if item.day >= first]
    if not since:
        return {}, ()
    span = max(months_since(first, item.day) for item in since) * 1.03 or 1.0
    drawn: dict[dt.date, float] = {}
    left_out: list[Measurement] = []
    previous: float | None = None
    for item in sorted(since, key=lambda visit: visit.day):
        month = months_since(first, item.day)
        if previous is not None:
            needed = (text_width_in(f"{previous:g}") + text_width_in(f"{month:g}")) / 2 + 0.06
            if (month - previous) * AXIS_IN / span < needed:
                left_out.append(item)
                continue
        drawn[item.day] = previous = month
    return drawn, tuple(left_out)


def _series(
    label: str, key: str, measurements: Sequence[Measurement], months: dict[dt.date, float]
) -> TrajectorySeries | None:
    """The patient's values of one marker at the drawn visits: one point per visit (median =
    quartiles = the value, n = 1), or None with fewer than two."""
    points = [
        TrajectoryPoint(month=months[item.day], median=value, q1=value, q3=value, n=1)
        for item in measurements
        if item.day in months and (value := _float(getattr(item, key))) is not None
    ]
    return TrajectorySeries(label, points) if len(points) >= 2 else None


def _float(value: int | Decimal | None) -> float | None:
    return None if value is None else float(value)


def figures_of(loaded: Course) -> tuple[dict[str, str], tuple[Measurement, ...]]:
    """Inline SVG of each marker with at least two drawn values since the first infusion, and
    the visits left out of the figures (``drawn_months``)."""
    if not loaded.infusion_dates:
        return {}, ()
    months, left_out = drawn_months(loaded.measurements, min(loaded.infusion_dates))
    drawn: dict[str, str] = {}
    for fig_id, marker, unit, keys in FIGURES:
        series = [
            line
            for key, label in keys
            if (line := _series(label, key, loaded.measurements, months)) is not None
        ]
        if series:
            drawn[fig_id] = trajectory_plot(
                series,
                title=f"{marker} at each visit since the first infusion",
                marker=marker,
                unit=unit,
                fig_id=f"patient-{fig_id}",
            )
    return drawn, left_out


def patient_report(
    session: Session, actor: Actor, code: str, *, on: dt.date | None = None
) -> PatientReport:
    """The summary of the patient with study code ``code`` (``UnknownPatient`` if none)."""
    day = on or today()
    patient_id = find_patient(session, actor, code)
    loaded = course.load(session, actor, patient_id, on=day)
    figures, left_out = figures_of(loaded)
    screened = _screening(session, actor, patient_id)
    pending = tuple(
        (visit.code, visit.target_date, visit.status)
        for visit in loaded.schedule
        if visit.visit_date is None
    )
    return PatientReport(
        title=f"Patient summary {loaded.patient.study_code}",
        as_of=day,
        cohort=f"for the referring doctor · site {loaded.site_code}",
        generated=f"lupus-msc {__version__}",
        patient=loaded.patient,
        site_code=loaded.site_code,
        site_name=loaded.site_name,
        protocol=loaded.protocol,
        renal=loaded.renal,
        screening=screened,
        infusions=_infusions(session, actor, patient_id),
        visits=_visit_rows(session, actor, loaded),
        pending_visits=pending,
        adverse_events=_events(session, actor, patient_id),
        figures=figures,
        not_drawn=tuple((item.code, item.day) for item in left_out),
        evidence=evidence_panel.panel(loaded.renal if screened is not None else None),
    )
