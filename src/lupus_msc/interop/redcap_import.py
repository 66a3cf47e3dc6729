"""``lupus-msc import redcap``: a REDCap project's records brought into the registry through the
services, all or nothing (issue 8, REDCap; DESIGN.md, "Bad input gets a clear, field-level error
and changes nothing").

``redcap_read`` checks every cell against the data dictionary and translates it with the mapping;
here each record becomes, in one transaction (``services.unit.unit_of_work``), a registered
patient (``patients.register``), the schedule of visits from the first infusion date
(``visits.schedule``, as recording an infusion does), the medications (``medications.record``),
the recorded visits with their labs (``visits.record``, which derives every score again) and
the adverse events (``adverse_events.record``). So the services validate the values and write
the audit trail exactly as for a user typing them; each record runs in a savepoint so that one
refused record does not hide the problems of the next. Any problem, or ``dry_run``, rolls the
whole transaction back: nothing is written, and the report lists every problem.

Who acts: the transaction starts as the system (no one signs in on the command line, as in
``lupus-msc init``), which adds, once per site, an import account (coordinator role, a
machine-drawn password that is never kept, so no one can sign in with it); the records are then
written as that account, so every audit row names "REDCap import (site)".

Rules [PROJECT]:

* A study code in the file is kept only if it is the code the site gives next (the registry
  numbers a site's patients ``<SITE>-0001``, ``-0002`` … in order of registration); records
  are registered in study-code order, so a whole site's export fits an empty site. Another code
  is refused with the reason; a file without study codes gets the site's next codes.
* The site is ``site`` (``--site``) if given, else the record's site field.
* What the services require a signature or a product for is not imported: eligibility
  decisions (a physician's signature), consent (taken only from eligible patients), infusions
  (lots and bedside checks), visit signatures. Imported patients stay *referred*; their
  visits are recorded and unsigned; the first infusion date sets their schedule.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lupus_msc.interop import redcap_read
from lupus_msc.interop.redcap_mapping import Mapping
from lupus_msc.interop.redcap_read import Draft, Item, Problem
from lupus_msc.services import accounts, adverse_events, medications, patients, visits
from lupus_msc.services.access import Actor
from lupus_msc.services.accounts import UserIn
from lupus_msc.services.adverse_events import AdverseEventIn
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.medications import MedicationIn
from lupus_msc.services.patients import PatientIn
from lupus_msc.services.unit import act_as, give_reason, unit_of_work
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.store import audit
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient, Role, Site, User

IMPORT_DOMAIN = "import.lupus-msc.invalid"
""".invalid is reserved (RFC 2606): an import account's address can be nobody's."""
KINDS = ("patients", "visits", "lab results", "medications", "adverse events")


@dataclass
class Report:
    """What an import created (or would create), and every problem found."""

    created: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False


class _Discard(Exception):
    """Rolls the import's transaction back (a dry run, or problems)."""


class UnknownSite(ValueError):
    """The site given for every record (``--site``) is not in the registry: one error, before
    any record is read, rather than the same problem on every record."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no site {code} in the registry")


def _split(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {key.removeprefix(prefix): value for key, value in values.items()}


def visit_input(item: Item) -> VisitIn:
    """The visit's registry form: nested instrument inputs and one lab per analyte."""
    data: dict[str, Any] = {}
    labs: dict[str, dict[str, Any]] = {}
    for target, value in item.values.items():
        parts = target.split(".")
        if parts[1] == "lab":
            labs.setdefault(parts[2], {"analyte": parts[2]})[parts[3]] = value
        elif len(parts) == 3:
            data.setdefault(parts[1], {})[parts[2]] = value
        else:
            data[parts[1]] = value
    data["labs"] = list(labs.values())
    data["reason"] = "imported from REDCap"
    return VisitIn.model_validate(data)


def _source(item: Item, location: tuple[Any, ...]) -> str:
    """The REDCap field behind a validation error's location (its target, else the location)."""
    names = [str(part) for part in location]
    candidates = [".".join(names[: length + 1]) for length in range(len(names))]
    if names and names[0] == "labs" and len(names) > 1:
        analyte = item.values and _lab_at(item, int(names[1]))
        part = names[2] if len(names) > 2 else "value"
        candidates.append(f"lab.{analyte}.{part}")
    for candidate in reversed(candidates):
        for prefix in ("", "patient.", "visit.", "medication.", "adverse_event."):
            if prefix + candidate in item.sources:
                return item.sources[prefix + candidate]
    return ".".join(names)


def _lab_at(item: Item, index: int) -> str:
    analytes = list(
        dict.fromkeys(t.split(".")[2] for t in item.values if t.startswith("visit.lab."))
    )
    return analytes[index] if index < len(analytes) else "?"


class _Run:
    """One import's transaction: its problems and counts, the sites and their import accounts."""

    def __init__(self, session: Session, site: str | None, source: str, report: Report) -> None:
        self.session = session
        self.site = site
        self.source = source
        self.report = report
        self.actors: dict[str, Actor] = {}
        self.next_number: dict[str, int] = {}

    def problem(self, item: Item, record: str, field_name: str, reason: str) -> None:
        self.report.problems.append(Problem(item.line, record, item.event, field_name, reason))

    def refused(self, item: Item, record: str, error: ServiceError | ValidationError) -> None:
        if isinstance(error, ValidationError):
            for entry in error.errors():
                where = _source(item, tuple(entry["loc"]))
                self.problem(item, record, where, entry["msg"])
            return
        for name, message in error.fields or [("", error.message)]:
            self.problem(item, record, _source(item, tuple(name.split("."))), message)

    def actor(self, code: str) -> Actor:
        """The import account of site ``code`` (added by the system the first time)."""
        if code in self.actors:
            return self.actors[code]
        site = self.session.scalar(select(Site).where(Site.code == code))
        if site is None:
            raise ServiceError(
                f"no site {code}", [("patient.site_code", f"no site {code} in the registry")]
            )
        email = f"redcap-import.{code.lower()}@{IMPORT_DOMAIN}"
        user = self.session.scalar(select(User).where(User.email == email))
        if user is None:
            give_reason(self.session, None)
            self.session.info[audit.ACTOR] = None
            self.session.info[audit.SYSTEM] = True
            account = UserIn(
                email=email,
                full_name=f"REDCap import ({code})",
                role=Role.COORDINATOR,
                password=secrets.token_urlsafe(32),
                site_ids=[site.id],
            )
            user = accounts.add_user(
                self.session, None, account, hasher=accounts.GENERATED_PASSWORD_HASHER
            )
        self.actors[code] = Actor.of(user)
        count = self.session.scalar(select(func.count()).where(Patient.site_id == site.id))
        self.next_number[code] = (count or 0) + 1
        return self.actors[code]


def _site_of(run: _Run, draft: Draft) -> str | None:
    code = run.site or draft.patient.values.get("patient.site_code")
    if code is None and not draft.patient.flawed:
        reason = "no site: give --site or map a site field"
        run.problem(draft.patient, draft.record, "site_code", reason)
    return code


def _claim(run: _Run, draft: Draft, site: str) -> None:
    """Check the record's study code against the site's next one and take that number, even
    for a record refused later: with a problem nothing is written, and the records after it
    are then checked against their own numbers instead of all failing in its wake."""
    wanted = draft.patient.values.get("patient.study_code")
    expected = f"{site}-{run.next_number[site]:04d}"
    if wanted is not None and wanted != expected:
        reason = f"study code {wanted} does not fit site {site}: its next study code is {expected}"
        raise ServiceError(reason, [("patient.study_code", reason)])
    run.next_number[site] += 1


def _register(run: _Run, draft: Draft, actor: Actor, site: str) -> Patient:
    values = _split(draft.patient.values, "patient.")
    wanted = values.pop("study_code", None)
    values.pop("site_code", None)
    values.pop("day0", None)
    site_id = run.session.scalar(select(Site.id).where(Site.code == site))
    patient = patients.register(run.session, actor, PatientIn(site_id=site_id, **values))
    if wanted is not None and patient.study_code != wanted and not run.report.problems:
        reason = f"the registry gave {patient.study_code} instead of {wanted}"
        raise ServiceError(reason, [("patient.study_code", reason)])
    return patient


def _sound(items: list[Item]) -> list[Item]:
    """The rows whose every cell passed (a refused cell is reported once, in the reader)."""
    return [item for item in items if not item.flawed]


def _history(run: _Run, draft: Draft, actor: Actor, patient: Patient) -> None:
    """Schedule, medications, visits and adverse events of a registered patient."""
    session, counts = run.session, run.report.created
    day0 = draft.patient.values.get("patient.day0")
    if draft.visits and day0 is None:
        reason = "is required to schedule the record's visits (day 0)"
        raise ServiceError(reason, [("patient.day0", reason)])
    scheduled = (
        {visit.code: visit for visit in visits.schedule(session, patient, day0)} if day0 else {}
    )
    for item in _sound(draft.medications):
        with _item(run, draft, item):
            medications.record(
                session, actor, patient.id, MedicationIn(**_split(item.values, "medication."))
            )
            counts["medications"] += 1
    for code, item in draft.visits.items():
        if item.flawed:
            continue
        with _item(run, draft, item):
            if code not in scheduled:
                raise ServiceError(
                    f"visit {code}", [("redcap_event_name", f"no protocol visit {code}")]
                )
            data = visit_input(item)
            visits.record(session, actor, scheduled[code].id, data)
            counts["visits"] += 1
            counts["lab results"] += len(data.labs)
    for item in _sound(draft.adverse_events):
        with _item(run, draft, item):
            adverse_events.record(
                session, actor, patient.id, AdverseEventIn(**_split(item.values, "adverse_event."))
            )
            counts["adverse events"] += 1


@contextmanager
def _item(run: _Run, draft: Draft, item: Item) -> Iterator[None]:
    """One row's service call: a refusal becomes a problem of that row (savepoint undone)."""
    try:
        with run.session.begin_nested():
            yield
    except (ServiceError, ValidationError) as error:
        run.refused(item, draft.record, error)


def _record(run: _Run, draft: Draft) -> None:
    site = _site_of(run, draft)
    if site is None:
        return
    # The site's import account gets its own savepoint: made inside the record's, it would be
    # undone with a refused first record while the site's later records still name it.
    with _item(run, draft, draft.patient):
        run.actor(site)
    actor = run.actors.get(site)
    if actor is None:
        return
    with _item(run, draft, draft.patient):
        _claim(run, draft, site)
        if draft.patient.flawed:
            return
        act_as(run.session, actor)
        give_reason(run.session, f"imported from REDCap ({run.source})")
        patient = _register(run, draft, actor, site)
        run.report.created["patients"] += 1
        _history(run, draft, actor, patient)


def _order(drafts: list[Draft]) -> list[Draft]:
    """By site and study code, so that a site's codes are given in order (module docstring)."""

    def key(draft: Draft) -> tuple[str, str]:
        values = draft.patient.values
        return (str(values.get("patient.site_code", "")), str(values.get("patient.study_code", "")))

    return sorted(drafts, key=key)


def run_import(
    database: Database,
    dictionary: Path,
    records: Path,
    mapping: Mapping,
    *,
    site: str | None = None,
    dry_run: bool = False,
) -> Report:
    """Import ``records`` (module docstring); ``Report.written`` says whether anything was.
    Raises ``UnknownSite`` for a ``site`` the registry does not have, with nothing written."""
    if site is not None:
        with database.reads() as session:
            if session.scalar(select(Site.id).where(Site.code == site)) is None:
                raise UnknownSite(site)
    fields = redcap_read.read_dictionary(dictionary)
    drafts, problems = redcap_read.read_records(records, fields, mapping)
    report = Report(problems=list(problems))
    try:
        with unit_of_work(database, None) as session:
            run = _Run(session, site, records.name, report)
            for draft in _order(drafts):
                _record(run, draft)
            if dry_run or report.problems:
                raise _Discard
    except _Discard:
        return report
    report.written = True
    return report
