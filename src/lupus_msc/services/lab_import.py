"""Lab results arriving from another system (issue 8): all or nothing, through the
visit-recording service, so scores are derived again and the audit trail is written.

The sender's document is read above this layer (``interop.fhir_import`` for a FHIR Bundle of
Observations, its rules listed there); this module places each result on a visit and writes. Each
result carries ``where`` it came from (``Bundle.entry[3].resource``), and a problem found here
names the element below it (``subject``, ``code``, ``status``, the date's element). The rules:

* The patient is found by study code. A patient the registry does not hold, or whose site the
  actor does not work at, is an unknown patient (a site's records are not found by others,
  ``services.access``).
* A result belongs to the patient's visit *recorded on the day the sample was taken*. The
  registry keeps no date of its own on a result: it is a result of a visit and is shown, scored
  (SLEDAI-2K counts labs of the visit, §1) and exported on the visit date. Placing a result taken
  on another day on a nearby visit would silently change its date, and dating an unrecorded
  scheduled visit from a lab sample would mark the visit done without the visit having taken
  place; both are refused with the recorded visits listed, so the sender can correct the date or
  the visit can be recorded first.
* A result identical to the visit's current one (same analyte, value, unit and reference range)
  is skipped and reported as such, so sending a Bundle twice changes nothing. A *different* value
  for an analyte the visit already has is refused for a ``final`` Observation (a conflict someone
  must look at) and, for an ``amended`` or ``corrected`` one, replaces the stored result, which
  is kept superseded (never deleted, DESIGN.md rules of the house). One analyte twice for one
  visit in the Bundle is refused.
* A visit that was signed takes the results with the import named as the reason, and its
  signature is cleared like any change to a signed visit (``services.visits``); the summary says
  which visits need signing again.
* Every problem of every entry is collected and raised as one ``ImportRefused`` (an
  ``Invalid``, HTTP 422) whose ``fields`` hold one ``(Bundle.entry[i].resource.<element>,
  reason)`` pair per problem; only then is anything written, in one transaction, through
  ``visits.record`` (``visits.write`` for the system, ``actor`` None: the command line). A
  failure while writing rolls everything back.

Permission: recording a visit (``Action.RECORD_VISIT``), at each patient's site.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.clinical import codes
from lupus_msc.services import visit_labs, visits
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import Invalid, ServiceError
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.services.visit_labs import ANALYTES, LabIn
from lupus_msc.store.database import Database
from lupus_msc.store.models import LabResult, Patient, Visit

CHUNK = 500


@dataclass(frozen=True)
class Problem:
    """Why part of the sender's document cannot be imported: the element and the reason;
    ``order`` sorts problems as the document runs (-1: the document itself)."""

    path: str
    message: str
    order: int = -1


@dataclass(frozen=True)
class LabEntry:
    """One arriving result: where it came from, its patient, the day its sample was taken (and
    the element that gave the day), the result, and whether it corrects a stored one."""

    order: int
    where: str
    study_code: str
    day: dt.date
    day_field: str
    lab: LabIn
    correction: bool


@dataclass(frozen=True)
class VisitImport:
    """What the Bundle does to one visit: analytes added, replaced (amended/corrected) and
    skipped (already stored as sent); whether the visit's signature was cleared."""

    study_code: str
    visit_code: str
    visit_date: dt.date
    created: tuple[str, ...]
    replaced: tuple[str, ...]
    skipped: tuple[str, ...]
    signature_cleared: bool


@dataclass(frozen=True)
class ImportSummary:
    source: str
    visits: tuple[VisitImport, ...]
    dry_run: bool

    @property
    def patients(self) -> tuple[str, ...]:
        return tuple(sorted({visit.study_code for visit in self.visits}))

    @property
    def results_written(self) -> int:
        return sum(len(visit.created) + len(visit.replaced) for visit in self.visits)

    @property
    def results_skipped(self) -> int:
        return sum(len(visit.skipped) for visit in self.visits)


class ImportRefused(Invalid):
    """Nothing was imported; ``fields`` lists every problem as (element, reason)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        ordered = sorted(problems, key=lambda problem: problem.order)
        listed = [(problem.path, problem.message) for problem in ordered]
        lines = "; ".join(f"{where}: {message}" for where, message in listed)
        count = f"{len(listed)} problem{'s' if len(listed) != 1 else ''}"
        super().__init__(f"nothing was imported ({count}): {lines}", listed)


class _DryRun(Exception):
    def __init__(self, summary: ImportSummary) -> None:
        super().__init__("dry run")
        self.summary = summary


@dataclass
class _Plan:
    """The Bundle's results grouped by the visit they go to, with each result's entry."""

    visit: Visit
    study_code: str
    entries: list[LabEntry] = field(default_factory=list)


def record_results(
    database: Database,
    actor: Actor | None,
    labs: Sequence[LabEntry],
    problems: Sequence[Problem] = (),
    *,
    source: str,
    dry_run: bool = False,
) -> ImportSummary:
    """Write ``labs`` onto their visits (module docstring), or raise ``ImportRefused`` listing
    ``problems`` (found reading the document) and every one found here, nothing written.
    ``source`` names the document in the audit trail's reason. ``dry_run`` checks and writes in
    a transaction that is rolled back, so the summary is exactly what an import would do."""
    if actor is not None:
        require(actor, Action.RECORD_VISIT)
    found = list(problems)
    try:
        with unit_of_work(database, actor) as session:
            plans = _place(session, actor, labs, found)
            if found:
                raise ImportRefused(found)
            done = _write(session, actor, plans, f"lab results imported from {source}", found)
            if found:
                raise ImportRefused(found)
            summary = ImportSummary(source, tuple(done), dry_run)
            if dry_run:
                raise _DryRun(summary)
    except _DryRun as rolled_back:
        return rolled_back.summary
    return summary


def _place(
    session: Session, actor: Actor | None, labs: Sequence[LabEntry], problems: list[Problem]
) -> list[_Plan]:
    """Each result on the visit of its patient recorded on its day (module docstring)."""
    patients = _patients(session, actor, {lab.study_code for lab in labs})
    recorded = _recorded_visits(session, [patient.id for patient in patients.values()])
    plans: dict[uuid.UUID, _Plan] = {}
    for lab in labs:
        patient = patients.get(lab.study_code)
        if patient is None:
            problems.append(_problem(lab, "subject", f"no patient {lab.study_code}"))
            continue
        on_day = [v for v in recorded.get(patient.id, []) if v.visit_date == lab.day]
        if len(on_day) != 1:
            problems.append(_no_visit(lab, on_day, recorded.get(patient.id, [])))
            continue
        plan = plans.setdefault(on_day[0].id, _Plan(on_day[0], lab.study_code))
        twice = [e.where for e in plan.entries if e.lab.analyte == lab.lab.analyte]
        if twice:
            message = f"{lab.lab.analyte} of this visit is also given in {twice[0]}"
            problems.append(_problem(lab, "code", message))
            continue
        plan.entries.append(lab)
    return list(plans.values())


def _patients(session: Session, actor: Actor | None, codes: set[str]) -> dict[str, Patient]:
    ordered = sorted(codes)
    found: dict[str, Patient] = {}
    for start in range(0, len(ordered), CHUNK):
        query = select(Patient).where(Patient.study_code.in_(ordered[start : start + CHUNK]))
        for patient in session.scalars(query):
            if actor is None or actor.sees_site(patient.site_id):
                found[patient.study_code] = patient
    return found


def _recorded_visits(
    session: Session, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Visit]]:
    found: dict[uuid.UUID, list[Visit]] = {}
    for start in range(0, len(patient_ids), CHUNK):
        query = select(Visit).where(
            Visit.patient_id.in_(patient_ids[start : start + CHUNK]), Visit.visit_date.is_not(None)
        )
        for visit in session.scalars(query.order_by(Visit.visit_date)):
            found.setdefault(visit.patient_id, []).append(visit)
    return found


def _no_visit(lab: LabEntry, on_day: list[Visit], recorded: list[Visit]) -> Problem:
    where = lab.day_field
    if on_day:
        names = " and ".join(visit.code for visit in on_day)
        return _problem(
            lab,
            where,
            f"{lab.day} is the date of visits {names} of "
            f"{lab.study_code}: the result cannot be placed",
        )
    listed = ", ".join(f"{visit.code} {visit.visit_date}" for visit in recorded) or "none"
    return _problem(
        lab,
        where,
        f"no visit of {lab.study_code} was recorded on {lab.day} "
        f"(recorded: {listed}); correct the date or record the visit first",
    )


def _write(
    session: Session,
    actor: Actor | None,
    plans: list[_Plan],
    reason: str,
    problems: list[Problem],
) -> list[VisitImport]:
    done = []
    for plan in plans:
        session.refresh(plan.visit, with_for_update=True)
        signed = plan.visit.signed_at is not None
        try:
            merged, outcome = _merge(plan, visit_labs.active(session, plan.visit.id), problems)
            if (outcome.created or outcome.replaced) and not problems:
                _record(session, actor, plan.visit, merged, reason)
        except (ServiceError, ValidationError) as error:
            problems.extend(_refusals(plan, error))
            continue
        done.append(replace(outcome, signature_cleared=signed and plan.visit.signed_at is None))
    return done


def _merge(
    plan: _Plan, current: list[LabResult], problems: list[Problem]
) -> tuple[list[LabIn], VisitImport]:
    """The visit's results once the Bundle's are in, and what changed (module docstring)."""
    stored = {result.analyte: result for result in current}
    labs = {result.analyte: _as_input(result) for result in current}
    created, replaced, skipped = [], [], []
    for entry in plan.entries:
        lab, old = entry.lab, stored.get(entry.lab.analyte)
        if old is None:
            created.append(lab.analyte)
        elif _identical(old, lab):
            skipped.append(lab.analyte)
            continue
        elif entry.correction:
            replaced.append(lab.analyte)
        else:
            problems.append(_conflict(plan, entry, old))
            continue
        labs[lab.analyte] = lab
    visit = plan.visit
    assert visit.visit_date is not None  # noqa: S101 - only recorded visits are planned
    outcome = VisitImport(
        plan.study_code,
        visit.code,
        visit.visit_date,
        tuple(created),
        tuple(replaced),
        tuple(skipped),
        signature_cleared=False,
    )
    return list(labs.values()), outcome


def _as_input(result: LabResult) -> LabIn:
    """A stored result as the input that keeps it unchanged when the visit is recorded again.
    A code the registry no longer gives (§15, ``codes.OTHER_KIND_UNITS``: stored on a µmol/L
    creatinine or an mg/mmol UPCR before that rule) is not sent back, so that it is not refused:
    a result given without a code keeps the one it was stored with."""
    concept = ANALYTES[result.analyte].concept
    fits = concept is None or codes.loinc_fits(concept, result.unit)
    return LabIn.model_validate(
        {
            "analyte": result.analyte,
            "value": result.value,
            "unit": result.unit,
            "reference_low": result.reference_low,
            "reference_high": result.reference_high,
            "loinc": result.loinc if fits else None,
        }
    )


def _identical(stored: LabResult, lab: LabIn) -> bool:
    """Same value, unit and reference range as reported (the LOINC code may be §15's
    alternative for the same analyte)."""
    return (
        stored.value == lab.value
        and stored.unit == lab.unit
        and stored.reference_low == lab.reference_low
        and stored.reference_high == lab.reference_high
    )


def _conflict(plan: _Plan, entry: LabEntry, old: LabResult) -> Problem:
    message = (
        f"visit {plan.visit.code} of {plan.study_code} already has {old.analyte} "
        f"{old.value} {old.unit}; a final result does not replace it: send it as amended "
        "or corrected if it corrects the stored one"
    )
    return _problem(entry, "status", message)


def _record(
    session: Session, actor: Actor | None, visit: Visit, labs: list[LabIn], reason: str
) -> None:
    """The visit recorded again as it stands, with ``labs``: scores are derived again."""
    data = VisitIn.model_validate(
        {**visit.findings, "visit_date": visit.visit_date, "labs": labs, "reason": reason}
    )
    if actor is not None:
        visits.record(session, actor, visit.id, data)
        return
    patient = session.get(Patient, visit.patient_id)
    assert patient is not None  # noqa: S101 - foreign key
    visits.write(session, visit, patient, data)


def _refusals(plan: _Plan, error: ServiceError | ValidationError) -> list[Problem]:
    """The visit-level refusal, named on each entry that would have changed the visit."""
    if isinstance(error, ServiceError):
        reason = error.message
    else:
        first = error.errors()[0]
        reason = f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    message = f"visit {plan.visit.code} of {plan.study_code} cannot take this result: {reason}"
    return [Problem(entry.where, message, entry.order) for entry in plan.entries]


def _problem(lab: LabEntry, element: str, message: str) -> Problem:
    return Problem(f"{lab.where}.{element}", message, lab.order)
