"""Adverse events: term, onset and resolution, CTCAE v5.0 grade, seriousness, relatedness to the
cell product, expectedness, action, outcome, and the infusion it followed (DESIGN.md step 7).

Rules:

* When the term is one the ``ctcae`` instrument grades from a lab value (§12, §16.12: decreased
  neutrophils, white cells, platelets, lymphocytes; anaemia; ALT, AST, creatinine increased;
  fever), the grade is derived from ``lab_value`` and ``lab_unit`` (with ``lab_lln``,
  ``lab_uln``, ``lab_baseline`` or ``hours_above_40`` where the grade needs them). A grade
  given that disagrees is refused, except the clinical grades the instrument cannot derive
  (anaemia 4 when the value gives 3; death, grade 5, of anaemia or fever) — then the grade is
  the clinician's. A value of grade 0 is not an adverse event. Other terms take a grade 1–5.
* Grade 5, outcome ``fatal`` and the ``death`` seriousness criterion go together.
* The event resolves on or after its onset, neither in the future; a resolution date is given
  exactly when the outcome says the event ended (recovered, with or without sequelae, or fatal).
* An infusion linked to the event (infusion reactions) is one of the same patient's infusions,
  and the event starts no earlier than the day before the infusion's (UTC) date [PROJECT: a
  day's margin for the clinic's time zone].
* Corrections need a reason (the old values stay in the audit trail); recording the resolution
  of an unresolved event is follow-up, not a correction, and needs none. Nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.clinical import ctcae
from lupus_msc.clinical.common import Num
from lupus_msc.scoring.registry import get_instrument
from lupus_msc.services import patients
from lupus_msc.services.access import Action, Actor, fetch_patient_record, require
from lupus_msc.services.errors import Invalid, invalid
from lupus_msc.services.fields import Digits, In, NumberOut, Out, Reason, Text, today
from lupus_msc.services.unit import give_reason
from lupus_msc.services.visit_labs import places
from lupus_msc.store.models import AdverseEvent, Infusion, Patient

Seriousness = Literal[
    "death",
    "life-threatening",
    "hospitalisation",
    "disability",
    "congenital-anomaly",
    "important-medical-event",
]
Relatedness = Literal["not-related", "unlikely", "possible", "probable", "definite"]
"""Relatedness to the cell product."""
ActionTaken = Literal[
    "none",
    "infusion-slowed",
    "infusion-interrupted",
    "infusion-stopped",
    "next-infusion-delayed",
    "next-infusion-cancelled",
    "not-applicable",
]
"""Action taken with the cell product."""
Outcome = Literal[
    "recovered", "recovering", "not-recovered", "recovered-with-sequelae", "fatal", "unknown"
]
ENDED = frozenset({"recovered", "recovered-with-sequelae", "fatal"})
Grade = Annotated[int, Field(ge=1, le=5)]
Criteria = Annotated[list[Seriousness], Field(max_length=6)]
LabNumber = Annotated[Decimal, Num(ge=0, le=1_000_000), Digits, places(6)]
"""Checked further by the ctcae instrument (§16.0 ranges per term)."""
Hours = Annotated[Decimal, Num(ge=0, le=10_000), Digits, places(2)]

INSTRUMENT = get_instrument("ctcae")
CTCAE_VERSION = ctcae.CTCAE_VERSION
LAB_TERMS = frozenset(get_args(ctcae.Term))
ALIASES = {
    "anaemia": "anemia",
    "alanine_aminotransferase_increased": "alt_increased",
    "aspartate_aminotransferase_increased": "ast_increased",
    "white_blood_cell_count_decreased": "white_blood_cell_decreased",
    "blood_creatinine_increased": "creatinine_increased",
}
"""CTCAE term names (and British spellings) → the §16.12 term keys."""
CLINICAL_GRADES: dict[str, dict[int, int | None]] = {
    "anemia": {4: 3, 5: None},
    "fever": {5: None},
}
"""§12: grades that are clinical judgements → the derived grade they may stand beside (None:
any). Anaemia 4 is life-threatening anaemia (the value gives at most 3); 5 is death."""
INPUT_FIELDS = {
    "term": "term",
    "value": "lab_value",
    "unit": "lab_unit",
    "lln": "lab_lln",
    "uln": "lab_uln",
    "baseline": "lab_baseline",
    "hours_above_40": "hours_above_40",
}
"""§16.12 input field → the field of this API that carries it."""
GRADING = frozenset({"grade", *INPUT_FIELDS.values()})
REFERENCE_FIELDS = ("lab_lln", "lab_uln", "lab_baseline", "hours_above_40")
"""Grading inputs kept in ``AdverseEvent.lab_reference`` (value and unit have their columns)."""


class AdverseEventIn(In):
    """An adverse event. ``lab_*`` and ``hours_above_40`` are the §16.12 inputs (same unit as
    ``lab_value``) of a term graded from a lab value; ``grade`` is then optional and checked."""

    term: Text
    onset_on: dt.date
    resolved_on: dt.date | None = None
    grade: Grade | None = None
    lab_value: LabNumber | None = None
    lab_unit: ctcae.Unit | None = None
    lab_lln: LabNumber | None = None
    lab_uln: LabNumber | None = None
    lab_baseline: LabNumber | None = None
    hours_above_40: Hours | None = None
    serious_criteria: Criteria = Field(default_factory=list)
    relatedness: Relatedness
    expected: bool
    action: ActionTaken
    outcome: Outcome
    infusion_id: uuid.UUID | None = None


class AdverseEventEdit(In):
    """A correction (with ``reason``), or the resolution of an unresolved event. A change to
    the term, grade or lab value grades the event again: send the lab limits it needs."""

    term: Text | None = None
    onset_on: dt.date | None = None
    resolved_on: dt.date | None = None
    grade: Grade | None = None
    lab_value: LabNumber | None = None
    lab_unit: ctcae.Unit | None = None
    lab_lln: LabNumber | None = None
    lab_uln: LabNumber | None = None
    lab_baseline: LabNumber | None = None
    hours_above_40: Hours | None = None
    serious_criteria: Criteria | None = None
    relatedness: Relatedness | None = None
    expected: bool | None = None
    action: ActionTaken | None = None
    outcome: Outcome | None = None
    infusion_id: uuid.UUID | None = None
    reason: Reason | None = None


class AdverseEventOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    infusion_id: uuid.UUID | None
    term: str
    ctcae_term: str | None
    ctcae_version: str
    lab_value: NumberOut | None
    lab_unit: str | None
    grade: int
    grade_derived: bool
    onset_on: dt.date
    resolved_on: dt.date | None
    serious: bool
    serious_criteria: list[str]
    relatedness: str
    expected: bool
    action: str
    outcome: str
    reported_by_id: uuid.UUID


_OUT_FIELDS = tuple(
    name for name in AdverseEventOut.model_fields if name not in {"ctcae_version", "serious"}
)
_STORED = (
    "term",
    "onset_on",
    "resolved_on",
    "serious_criteria",
    "relatedness",
    "expected",
    "action",
    "outcome",
    "infusion_id",
)


def view(event: AdverseEvent) -> AdverseEventOut:
    return AdverseEventOut(
        **{field: getattr(event, field) for field in _OUT_FIELDS},
        ctcae_version=CTCAE_VERSION,
        serious=bool(event.serious_criteria),
    )


@dataclass(frozen=True)
class Graded:
    """The grade columns of an event."""

    ctcae_term: str | None
    lab_value: Decimal | None
    lab_unit: str | None
    grade: int
    grade_derived: bool


def ctcae_key(term: str) -> str | None:
    """The §16.12 term a free-text term names (``Platelet count decreased`` → its key)."""
    key = re.sub(r"[\s-]+", "_", term.strip().lower())
    key = ALIASES.get(key, key)
    return key if key in LAB_TERMS else None


def _derived(key: str, lab: dict[str, Any]) -> tuple[int, Decimal, str]:
    """The §12 grade of the lab value; refused when undecidable or grade 0."""
    value, unit = lab.get("lab_value"), lab.get("lab_unit")
    if value is None:
        raise invalid("lab_value", f"is required: CTCAE grades {key} from the lab value (§12)")
    if unit is None:
        raise invalid("lab_unit", f"is required: one of {', '.join(ctcae.TERM_UNITS[key])}")
    given = {name: lab.get(field) for name, field in INPUT_FIELDS.items() if name != "term"}
    given = {name: item for name, item in given.items() if item is not None}
    try:
        result = INSTRUMENT.score(INSTRUMENT.input_model.model_validate({"term": key, **given}))
    except ValidationError as error:
        first = error.errors()[0]
        field = INPUT_FIELDS.get(str(first["loc"][0]), "lab_value") if first["loc"] else "term"
        raise Invalid(f"{field}: {first['msg']}", [(field, first["msg"])]) from error
    if result.grade is None:
        needed = INPUT_FIELDS[result.missing[0]]
        raise invalid(needed, f"is needed to grade {key} at {value} {unit} (§12)")
    if result.grade == 0:
        raise invalid("lab_value", f"{value} {unit} is grade 0 for {key}: no adverse event (§12)")
    return result.grade, value, unit


def grade_of(term: str, grade: int | None, lab: dict[str, Any]) -> Graded:
    """The event's grade: derived from the lab value for a §12 lab term, else as given."""
    key = ctcae_key(term)
    if key is None:
        if lab.get("lab_value") is not None or lab.get("lab_unit") is not None:
            terms = ", ".join(sorted(LAB_TERMS))
            raise invalid("lab_value", f"only the terms graded from a lab take one: {terms}")
        if grade is None:
            raise invalid("grade", "is required (1–5) for a term not graded from a lab value")
        return Graded(None, None, None, grade, False)
    derived, value, unit = _derived(key, lab)
    if grade is None or grade == derived:
        return Graded(key, value, unit, derived, True)
    beside = CLINICAL_GRADES.get(key, {})
    if grade in beside and beside[grade] in (None, derived):
        return Graded(key, value, unit, grade, False)
    raise invalid(
        "grade",
        f"CTCAE v{CTCAE_VERSION} grades {value} {unit} as {derived} for {key} (§12); "
        f"leave grade out or give {derived}",
    )


def _check_consistency(values: dict[str, Any], grade: int) -> None:
    criteria = values["serious_criteria"]
    if len(set(criteria)) != len(criteria):
        raise invalid("serious_criteria", "lists a criterion twice")
    fatal = values["outcome"] == "fatal"
    if (grade == 5) != fatal:
        raise invalid("outcome", "is fatal exactly when the grade is 5 (death)")
    if ("death" in criteria) != fatal:
        raise invalid("serious_criteria", "includes death exactly when the outcome is fatal")
    if values["resolved_on"] is not None and values["outcome"] not in ENDED:
        raise invalid("resolved_on", f"is given only when the event ended ({', '.join(ENDED)})")
    if values["resolved_on"] is None and values["outcome"] in ENDED:
        raise invalid("resolved_on", f"is required: the outcome is {values['outcome']}")


def _check_dates(session: Session, patient: Patient, values: dict[str, Any]) -> None:
    onset, resolved = values["onset_on"], values["resolved_on"]
    if not patient.date_of_birth <= onset <= today():
        raise invalid("onset_on", "must be between the date of birth and today")
    if resolved is not None and not onset <= resolved <= today():
        raise invalid("resolved_on", "must be between onset_on and today")
    if values["infusion_id"] is None:
        return
    infusion = session.get(Infusion, values["infusion_id"])
    if infusion is None or infusion.patient_id != patient.id:
        raise invalid("infusion_id", "is not an infusion of this patient")
    earliest = infusion.started_at.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    if onset < earliest:
        raise invalid("onset_on", f"is before the linked infusion ({infusion.started_at.date()})")


def record(
    session: Session, actor: Actor, patient_id: uuid.UUID, data: AdverseEventIn
) -> AdverseEvent:
    require(actor, Action.RECORD_ADVERSE_EVENT)
    patient = patients.get(session, actor, patient_id)
    values = data.model_dump(include=set(_STORED))
    graded = grade_of(data.term, data.grade, data.model_dump(include=set(INPUT_FIELDS.values())))
    _check_consistency(values, graded.grade)
    _check_dates(session, patient, values)
    event = AdverseEvent(
        patient_id=patient.id,
        **values,
        **asdict(graded),
        lab_reference=data.model_dump(include=set(REFERENCE_FIELDS), exclude_none=True) or None,
        reported_by_id=actor.user_id,
    )
    session.add(event)
    session.flush()
    return event


def get(session: Session, actor: Actor, event_id: uuid.UUID) -> AdverseEvent:
    require(actor, Action.READ_IDENTITY)
    return fetch_patient_record(session, actor, AdverseEvent, event_id)


def _regraded(event: AdverseEvent, data: AdverseEventEdit, term: str) -> dict[str, Any]:
    """The grade columns after the edit: graded again when the term, grade or lab changed."""
    if not data.model_fields_set & GRADING:
        return {}
    lab = {"lab_value": event.lab_value, "lab_unit": event.lab_unit, **(event.lab_reference or {})}
    lab |= data.model_dump(include=set(INPUT_FIELDS.values()) - {"term"}, exclude_unset=True)
    keeps_grade = "grade" not in data.model_fields_set and ctcae_key(term) is None
    grade = event.grade if keeps_grade else data.grade
    return asdict(grade_of(term, grade, lab))


def _changes(event: AdverseEvent, data: AdverseEventEdit) -> dict[str, Any]:
    given = data.model_dump(include=set(_STORED), exclude_unset=True)
    for field, value in given.items():
        if value is None and field not in {"resolved_on", "infusion_id"}:
            raise invalid(field, "cannot be emptied; give a value")
    return {field: value for field, value in given.items() if getattr(event, field) != value}


def edit(
    session: Session, actor: Actor, event_id: uuid.UUID, data: AdverseEventEdit
) -> AdverseEvent:
    """Correct an event with a reason, or record its resolution; refused, it changes nothing."""
    require(actor, Action.RECORD_ADVERSE_EVENT)
    event = get(session, actor, event_id)
    patient = patients.get(session, actor, event.patient_id)
    changes = _changes(event, data)
    values = {field: getattr(event, field) for field in _STORED} | changes
    grading = _regraded(event, data, values["term"])
    grading = {key: value for key, value in grading.items() if getattr(event, key) != value}
    if not changes and not grading:
        return event
    resolving = set(changes) <= {"resolved_on", "outcome"} and event.resolved_on is None
    if data.reason is None and (grading or not resolving):
        raise invalid("reason", "is required to correct an adverse event")
    _check_consistency(values, grading.get("grade", event.grade))
    _check_dates(session, patient, values)
    give_reason(session, data.reason)
    for field, value in (changes | grading).items():
        setattr(event, field, value)
    reference = data.model_dump(include=set(REFERENCE_FIELDS), exclude_unset=True)
    if reference:
        kept = (event.lab_reference or {}) | reference
        event.lab_reference = {
            key: value for key, value in kept.items() if value is not None
        } or None
    session.flush()
    return event


def for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[AdverseEvent]:
    require(actor, Action.READ_IDENTITY)
    patient = patients.get(session, actor, patient_id)
    query = select(AdverseEvent).where(AdverseEvent.patient_id == patient.id)
    return list(session.scalars(query.order_by(AdverseEvent.onset_on, AdverseEvent.created_at)))


RELATED = frozenset({"possible", "probable", "definite"})
"""Relatedness levels counted as related to the cell product (the others: not related)."""


def listing(
    session: Session,
    actor: Actor,
    *,
    site_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    grade: int | None = None,
    serious: bool | None = None,
    resolved: bool | None = None,
    related: bool | None = None,
    limit: int = 500,
) -> list[tuple[AdverseEvent, Patient]]:
    """Events of the sites the actor sees (newest onset first), with their patient, filtered."""
    require(actor, Action.READ_IDENTITY)
    query = select(AdverseEvent, Patient).join(Patient, Patient.id == AdverseEvent.patient_id)
    if not actor.all_sites:
        query = query.where(Patient.site_id.in_(actor.site_ids))
    if site_id is not None:
        query = query.where(Patient.site_id == site_id)
    if patient_id is not None:
        query = query.where(AdverseEvent.patient_id == patient_id)
    if grade is not None:
        query = query.where(AdverseEvent.grade == grade)
    if resolved is not None:
        ended = AdverseEvent.resolved_on.is_not(None)
        query = query.where(ended if resolved else ~ended)
    if related is not None:
        inside = AdverseEvent.relatedness.in_(sorted(RELATED))
        query = query.where(inside if related else ~inside)
    query = query.order_by(AdverseEvent.onset_on.desc(), AdverseEvent.created_at.desc())
    rows = [(event, patient) for event, patient in session.execute(query)]
    if serious is not None:
        rows = [row for row in rows if bool(row[0].serious_criteria) == serious]
    return rows[:limit]
