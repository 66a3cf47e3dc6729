"""The REDCap project lupus-msc exports: its instruments, fields, events and choice codes, and
the registry field each REDCap field stands for (issue 8, REDCap).

A REDCap project is described by a *data dictionary* (one CSV row per field, 18 columns; REDCap
Help & FAQ, "Data Dictionary"), and, when it is longitudinal, by its *events* (event_name,
arm_num, day_offset, offset_min, offset_max, unique_event_name, custom_event_label; REDCap API
"Import Events"), its *instrument–event mapping* (arm_num, unique_event_name, form; API "Import
Instrument-Event Mappings") and its *repeating instruments* (event_name, form_name,
custom_form_label; API "Import Repeating Instruments and Events"). Our project:

* ``registration`` (event ``registration_arm_1``): the patient — study code as the record id,
  site, names, record number, date of birth, sex, diagnosis date, first infusion date, and the
  age at the first infusion (derived). ``medications`` and ``adverse_events`` are repeating
  instruments of the same event.
* ``visit`` on one event per protocol visit from day 0 on (``day0_arm_1``, ``month3_arm_1`` …;
  ``protocol.Visit``; the screening visit before day 0 is the registry's screening, not carried):
  visit date, the 24 SLEDAI-2K descriptors (§1) as yes/no (blank: not recorded, left to the
  labs), attribution, PGA (§3), weight and temperature, the 13 FACIT-F answers (§13), each lab
  with its unit and reference limits (§15 analytes), and, read-only, the registry's SLEDAI-2K
  total, FACIT-F score and prednisone-equivalent mg/day (§11).

Field names follow REDCap's rules: lower case letters, digits and underscores, starting with a
letter, at most 26 characters (the length REDCap recommends). Choice codes are whole numbers
(``"1, female | 2, male"``); yes/no fields are REDCap's ``yesno`` type (1 yes, 0 no). Text
validation is ``date_ymd`` (dates written YYYY-MM-DD), ``number`` or ``integer``, with the
registry's own ranges as minimum and maximum where one unit is accepted. Identifier fields
(names, record number, date of birth) are flagged ``y``, so REDCap's de-identified exports drop
them too. Derived fields are ``@READONLY``: the registry recomputes every score from the items on
import (DESIGN.md, "Derived values are recomputed from stored inputs on every write path").

``target`` names the registry field: ``patient.*``, ``visit.*`` (``visit.sledai2k.<key>``,
``visit.facit_f.<item>``, ``visit.vitals.<field>``, ``visit.lab.<analyte>.<value|unit|
reference_low|reference_high>``), ``medication.*``, ``adverse_event.*``, or ``derived.*`` for the
read-only fields an import does not take.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from lupus_msc.clinical import ctcae
from lupus_msc.clinical.facit_f import ITEMS as FACIT_ITEMS
from lupus_msc.clinical.sledai2k import DESCRIPTORS
from lupus_msc.protocol import Protocol
from lupus_msc.services.adverse_events import ActionTaken, Outcome, Relatedness, Seriousness
from lupus_msc.services.visit_labs import ANALYTES
from lupus_msc.services.visit_prednisone import DoseUnit, Frequency, Route
from lupus_msc.store.models import Sex

DICTIONARY_HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
"""The 18 columns of a REDCap data dictionary, in REDCap's order and spelling."""
EVENTS_HEADER = (
    "event_name",
    "arm_num",
    "day_offset",
    "offset_min",
    "offset_max",
    "unique_event_name",
    "custom_event_label",
)
MAPPING_HEADER = ("arm_num", "unique_event_name", "form")
REPEATING_HEADER = ("event_name", "form_name", "custom_form_label")
RECORD_COLUMNS = (
    "record_id",
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
)
"""The first columns of REDCap's flat records format, before the fields."""

ARM = 1
REGISTRATION = "registration"
VISIT = "visit"
MEDICATIONS = "medications"
ADVERSE_EVENTS = "adverse_events"
REPEATING = {MEDICATIONS: "medication", ADVERSE_EVENTS: "adverse_event"}
"""Repeating instrument → the registry record each instance becomes."""

FACIT_ANSWERS = ("0", "1", "2", "3", "4", "8", "9")
"""§13, §16.13: answers 0–4 as printed (the registry reverses items); 8 and 9 not answered."""
FieldType = Literal["text", "notes", "radio", "dropdown", "checkbox", "yesno"]
Validation = Literal["date_ymd", "number", "integer"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of the data dictionary and the registry field it carries."""

    name: str
    form: str
    kind: FieldType
    label: str
    target: str
    choices: tuple[str, ...] = ()
    """Registry values, coded 1, 2, … in this order."""
    validation: Validation | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    identifier: bool = False
    note: str = ""
    readonly: bool = False
    as_is: bool = False
    """Choices that are numbers already (FACIT-F answers, CTCAE grades) are their own codes."""

    @property
    def codes(self) -> dict[str, str]:
        """REDCap code → registry value."""
        if self.as_is:
            return {value: value for value in self.choices}
        return {str(number): value for number, value in enumerate(self.choices, start=1)}

    def code_of(self, value: str) -> str:
        return value if self.as_is else str(self.choices.index(value) + 1)

    def dictionary_row(self) -> tuple[str, ...]:
        choices = " | ".join(f"{code}, {label}" for code, label in self.codes.items())
        return (
            self.name,
            self.form,
            "",
            self.kind,
            self.label,
            choices,
            self.note,
            self.validation or "",
            "" if self.low is None else format(self.low, "f"),
            "" if self.high is None else format(self.high, "f"),
            "y" if self.identifier else "",
            "",
            "",
            "",
            "",
            "",
            "",
            "@READONLY" if self.readonly else "",
        )


def _choices(literal: object) -> tuple[str, ...]:
    return tuple(str(value) for value in get_args(literal))


def _date(name: str, form: str, label: str, target: str, *, identifier: bool = False) -> FieldSpec:
    return FieldSpec(
        name, form, "text", label, target, validation="date_ymd", identifier=identifier
    )


def _number(
    name: str, form: str, label: str, target: str, bounds: tuple[str, str] | None = None
) -> FieldSpec:
    low, high = (Decimal(bounds[0]), Decimal(bounds[1])) if bounds else (None, None)
    return FieldSpec(name, form, "text", label, target, validation="number", low=low, high=high)


def _derived(name: str, label: str, validation: Validation) -> FieldSpec:
    note = "Derived by lupus-msc from the recorded items; recomputed on import."
    return FieldSpec(
        name,
        VISIT,
        "text",
        label,
        f"derived.{name}",
        validation=validation,
        note=note,
        readonly=True,
    )


def registration_fields() -> tuple[FieldSpec, ...]:
    form, patient = REGISTRATION, "patient."
    age_note = "At the first infusion; 90 stands for 90 or older (HIPAA Safe Harbor)."
    return (
        FieldSpec("record_id", form, "text", "Record ID (study code)", patient + "study_code"),
        FieldSpec("site_code", form, "text", "Site code", patient + "site_code"),
        FieldSpec(
            "given_name", form, "text", "Given name", patient + "given_name", identifier=True
        ),
        FieldSpec(
            "family_name", form, "text", "Family name", patient + "family_name", identifier=True
        ),
        FieldSpec(
            "mrn",
            form,
            "text",
            "Medical record number",
            patient + "medical_record_number",
            identifier=True,
        ),
        _date("dob", form, "Date of birth", patient + "date_of_birth", identifier=True),
        FieldSpec("sex", form, "radio", "Sex", patient + "sex", choices=_choices_of_sex()),
        _date("diagnosis_date", form, "Date of SLE diagnosis", patient + "diagnosis_date"),
        _date("first_infusion", form, "Date of the first MSC infusion (day 0)", patient + "day0"),
        FieldSpec(
            "age_at_infusion",
            form,
            "text",
            "Age at the first infusion (years)",
            "derived.age_at_infusion",
            validation="integer",
            note=age_note,
            readonly=True,
        ),
    )


def _choices_of_sex() -> tuple[str, ...]:
    return tuple(sex.value for sex in Sex)


def _lab_fields(form: str) -> Iterator[FieldSpec]:
    for key, analyte in ANALYTES.items():
        target = f"visit.lab.{key}."
        single = len(analyte.accepted) == 1
        bounds = (str(analyte.low), str(analyte.high)) if single else None
        yield _number(f"lab_{key}", form, f"{key} result", target + "value", bounds)
        yield FieldSpec(
            f"lab_{key}_u",
            form,
            "dropdown",
            f"{key} unit",
            target + "unit",
            choices=tuple(analyte.accepted),
        )
        yield _number(f"lab_{key}_lo", form, f"{key} reference low", target + "reference_low")
        yield _number(f"lab_{key}_hi", form, f"{key} reference high", target + "reference_high")


def visit_fields() -> tuple[FieldSpec, ...]:
    form = VISIT
    fields = [_date("visit_date", form, "Visit date", "visit.visit_date")]
    for descriptor in DESCRIPTORS:
        label = f"SLEDAI-2K: {descriptor.key.replace('_', ' ')} ({descriptor.weight})"
        fields.append(
            FieldSpec(
                f"sl_{descriptor.key}", form, "yesno", label, f"visit.sledai2k.{descriptor.key}"
            )
        )
    fields.append(
        FieldSpec(
            "sl_attribution",
            form,
            "yesno",
            "SLEDAI-2K: lab findings attributed to lupus",
            "visit.sledai2k.attribution_confirmed",
        )
    )
    fields.append(
        _number("pga", form, "Physician global assessment (0-3)", "visit.pga", ("0", "3"))
    )
    fields.append(
        _number("weight_kg", form, "Weight (kg)", "visit.vitals.weight_kg", ("20", "300"))
    )
    fields.append(
        _number("temp_c", form, "Temperature (Cel)", "visit.vitals.temperature_c", ("30", "43"))
    )
    for item in FACIT_ITEMS:
        fields.append(
            FieldSpec(
                f"facit_{item.lower()}",
                form,
                "radio",
                f"FACIT-F {item}",
                f"visit.facit_f.{item}",
                choices=FACIT_ANSWERS,
                as_is=True,
                note="As printed: 0 not at all … 4 very much; 8, 9 not answered (§13).",
            )
        )
    fields.extend(_lab_fields(form))
    fields.append(_derived("sledai_total", "SLEDAI-2K total (derived)", "integer"))
    fields.append(_derived("facit_score", "FACIT-F score (derived)", "integer"))
    fields.append(_derived("prednisone_mg_day", "Prednisone equivalent mg/day (derived)", "number"))
    return tuple(fields)


def medication_fields() -> tuple[FieldSpec, ...]:
    form, med = MEDICATIONS, "medication."
    return (
        FieldSpec("med_drug", form, "text", "Drug", med + "drug"),
        _number("med_dose", form, "Dose", med + "dose"),
        FieldSpec("med_unit", form, "dropdown", "Dose unit", med + "unit", _choices(DoseUnit)),
        FieldSpec(
            "med_frequency", form, "dropdown", "Frequency", med + "frequency", _choices(Frequency)
        ),
        FieldSpec("med_route", form, "dropdown", "Route", med + "route", _choices(Route)),
        _date("med_start", form, "Started on", med + "started_on"),
        _date("med_stop", form, "Stopped on", med + "stopped_on"),
    )


def adverse_event_fields() -> tuple[FieldSpec, ...]:
    form, ae = ADVERSE_EVENTS, "adverse_event."
    return (
        FieldSpec("ae_term", form, "text", "Adverse event term", ae + "term"),
        FieldSpec(
            "ae_grade",
            form,
            "radio",
            "CTCAE grade",
            ae + "grade",
            ("1", "2", "3", "4", "5"),
            as_is=True,
        ),
        _date("ae_onset", form, "Onset", ae + "onset_on"),
        _date("ae_resolved", form, "Resolved on", ae + "resolved_on"),
        FieldSpec(
            "ae_serious",
            form,
            "checkbox",
            "Seriousness criteria (none: not serious)",
            ae + "serious_criteria",
            _choices(Seriousness),
        ),
        FieldSpec(
            "ae_related",
            form,
            "radio",
            "Relatedness to the cell product",
            ae + "relatedness",
            _choices(Relatedness),
        ),
        FieldSpec("ae_expected", form, "yesno", "Expected", ae + "expected"),
        FieldSpec(
            "ae_action",
            form,
            "dropdown",
            "Action taken with the product",
            ae + "action",
            _choices(ActionTaken),
        ),
        FieldSpec("ae_outcome", form, "dropdown", "Outcome", ae + "outcome", _choices(Outcome)),
        _number("ae_lab_value", form, "Lab value graded (CTCAE)", ae + "lab_value"),
        FieldSpec(
            "ae_lab_unit",
            form,
            "dropdown",
            "Unit of the lab value",
            ae + "lab_unit",
            _choices(ctcae.Unit),
        ),
        _number("ae_lab_lln", form, "Lab lower limit of normal", ae + "lab_lln"),
        _number("ae_lab_uln", form, "Lab upper limit of normal", ae + "lab_uln"),
        _number("ae_lab_baseline", form, "Lab baseline value", ae + "lab_baseline"),
        _number("ae_hours_40", form, "Hours above 40 Cel (fever)", ae + "hours_above_40"),
    )


FIELDS: tuple[FieldSpec, ...] = (
    *registration_fields(),
    *visit_fields(),
    *medication_fields(),
    *adverse_event_fields(),
)
BY_NAME = {spec.name: spec for spec in FIELDS}


@dataclass(frozen=True)
class Event:
    """A REDCap event: the registration, or one protocol visit."""

    name: str
    day: int
    before: int
    after: int
    visit_code: str | None

    @property
    def unique(self) -> str:
        return f"{self.name}_arm_{ARM}"


def events(protocol: Protocol) -> tuple[Event, ...]:
    """The registration, then one event per protocol visit on or after day 0 (those the
    registry schedules, ``services.visits.schedule``)."""
    visits = [
        Event(
            visit.code.lower(),
            visit.day,
            visit.window_before_days,
            visit.window_after_days,
            visit.code,
        )
        for visit in protocol.visits
        if visit.day >= 0
    ]
    return (Event(REGISTRATION, 0, 0, 0, None), *visits)


def event_rows(protocol: Protocol) -> Iterator[tuple[str | int, ...]]:
    for event in events(protocol):
        label = "Registration" if event.visit_code is None else f"Visit {event.visit_code}"
        yield (event.name, ARM, event.day, event.before, event.after, event.unique, label)


def form_event_rows(protocol: Protocol) -> Iterator[tuple[str | int, ...]]:
    for event in events(protocol):
        forms: Sequence[str] = (
            (REGISTRATION, MEDICATIONS, ADVERSE_EVENTS) if event.visit_code is None else (VISIT,)
        )
        for form in forms:
            yield (ARM, event.unique, form)


def repeating_rows() -> Iterator[tuple[str, ...]]:
    registration = Event(REGISTRATION, 0, 0, 0, None).unique
    yield (registration, MEDICATIONS, "[med_drug]")
    yield (registration, ADVERSE_EVENTS, "[ae_term]")


def columns(fields: Sequence[FieldSpec]) -> list[str]:
    """The records file's field columns: checkboxes as ``field___code`` (REDCap flat format)."""
    found: list[str] = []
    for spec in fields:
        if spec.kind == "checkbox":
            found.extend(f"{spec.name}___{code}" for code in spec.codes)
        elif spec.name != "record_id":
            found.append(spec.name)
    return found
