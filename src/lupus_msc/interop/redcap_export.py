"""``lupus-msc export redcap``: the registry as a REDCap project (issue 8, REDCap) — the data
dictionary, events, instrument–event mapping, repeating instruments (``redcap_schema``) and the
records in REDCap's flat CSV import format.

Records (REDCap API "Import Records", ``type=flat``; Data Import Tool, longitudinal projects):
one row per record and event, or per instance of a repeating instrument; the first columns are
``record_id``, ``redcap_event_name``, ``redcap_repeat_instrument`` and
``redcap_repeat_instance`` (both blank on rows that do not repeat), then every field of the
dictionary, a checkbox as one column per choice (``ae_serious___3``, 1 ticked, 0 not); a blank
cell is no value. Dates are written YYYY-MM-DD (``date_ymd``), numbers with a point and without
exponent, choices as their codes, yes/no as 1/0. A patient gives a registration row, one row per
recorded visit (on its protocol visit's event), one per medication and one per adverse event.

Not carried (the REDCap project has no field for them): screening, consent, products,
infusions (only the first infusion's date, day 0 of the schedule), SLEDAI-2K overrides and
lab inputs typed into the SLEDAI-2K form, cardiac findings, SDI, vitals other than weight and
temperature, superseded lab results, signatures, and the link of an adverse event to an
infusion.

De-identified (``deidentify``; HIPAA Safe Harbor, 45 CFR 164.514(b)(2), as
``interop.deidentify``): the record id is the patient's pseudonym, every date moves by the
patient's secret offset (intervals stay exact), the identifier fields (names, record number,
date of birth) are left out of the records, the age at the first infusion is 90 for anyone
older than 89, and free text (adverse-event terms, drug names) goes through the caller's
``scrub``. Patients are read ``BATCH`` at a time, so memory does not grow with the registry.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lupus_msc.interop import redcap_schema as schema
from lupus_msc.interop.redcap_schema import FieldSpec
from lupus_msc.interop.sdtm_deidentify import OLDEST_AGE
from lupus_msc.protocol import Protocol
from lupus_msc.services.deidentification import PatientKey
from lupus_msc.store.models import AdverseEvent, LabResult, Medication, Patient, Site, Visit

BATCH = 1000
"""Patients read per query: 100,000 patients never sit in memory at once."""
FILES = {
    "dictionary": "redcap_data_dictionary.csv",
    "events": "redcap_events.csv",
    "mapping": "redcap_instrument_event_mapping.csv",
    "repeating": "redcap_repeating_instruments.csv",
    "records": "redcap_records.csv",
}
REFERENCES = ("reference_low", "reference_high")
AE_REFERENCES = ("lab_lln", "lab_uln", "lab_baseline", "hours_above_40")
Values = dict[str, Any]
"""Registry target (``redcap_schema``) → value, for one row."""


@dataclass(frozen=True)
class Deidentify:
    """What a de-identified export needs for each batch of study codes: the patients' keys and
    a scrubber of identifying words in free text."""

    keys: Callable[[Sequence[str]], Mapping[str, PatientKey]]
    scrub: Callable[[Sequence[str]], Callable[[str], str]]


@dataclass
class Counts:
    patients: int = 0
    visits: int = 0
    medications: int = 0
    adverse_events: int = 0


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(str(value)), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def encode(spec: FieldSpec, value: Any) -> dict[str, str]:
    """The records-file cells of one field (one per choice for a checkbox)."""
    if spec.kind == "checkbox":
        chosen = {str(item) for item in value or ()}
        return {
            f"{spec.name}___{code}": "1" if label in chosen else "0"
            for code, label in spec.codes.items()
        }
    if value is None or value == "":
        return {spec.name: ""}
    if spec.choices:
        return {spec.name: spec.code_of(_text(value))}
    return {spec.name: _text(value)}


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _patient_values(patient: Patient, site: str, day0: dt.date | None) -> Values:
    age = _age(patient.date_of_birth, day0) if day0 else None
    return {
        "patient.study_code": patient.study_code,
        "patient.site_code": site,
        "patient.given_name": patient.given_name,
        "patient.family_name": patient.family_name,
        "patient.medical_record_number": patient.medical_record_number,
        "patient.date_of_birth": patient.date_of_birth,
        "patient.sex": patient.sex.value,
        "patient.diagnosis_date": patient.diagnosis_date,
        "patient.day0": day0,
        "derived.age_at_infusion": age,
    }


def _score(scores: Mapping[str, Any], name: str, key: str) -> Any:
    found = scores.get(name)
    return found.get(key) if isinstance(found, dict) else None


def _visit_values(visit: Visit, labs: Iterable[LabResult]) -> Values:
    findings = visit.findings or {}
    values: Values = {"visit.visit_date": visit.visit_date, "visit.pga": findings.get("pga")}
    for key, given in (findings.get("sledai2k") or {}).items():
        values[f"visit.sledai2k.{key}"] = given
    for key, given in (findings.get("vitals") or {}).items():
        values[f"visit.vitals.{key}"] = given
    for item, answer in (findings.get("facit_f") or {}).items():
        values[f"visit.facit_f.{item}"] = answer
    for lab in labs:
        target = f"visit.lab.{lab.analyte}."
        values |= {target + "value": lab.value, target + "unit": lab.unit}
        values |= {target + part: getattr(lab, part) for part in REFERENCES}
    scores = visit.scores or {}
    values["derived.sledai_total"] = _score(scores, "sledai2k", "total")
    values["derived.facit_score"] = _score(scores, "facit_f", "score")
    values["derived.prednisone_mg_day"] = _score(
        scores, "prednisone_equivalent", "prednisone_mg_day"
    )
    return values


def _medication_values(medication: Medication) -> Values:
    fields = ("drug", "dose", "unit", "frequency", "route", "started_on", "stopped_on")
    return {f"medication.{name}": getattr(medication, name) for name in fields}


def _event_values(event: AdverseEvent) -> Values:
    fields = (
        "term",
        "grade",
        "onset_on",
        "resolved_on",
        "serious_criteria",
        "relatedness",
        "expected",
        "action",
        "outcome",
        "lab_value",
        "lab_unit",
    )
    values = {f"adverse_event.{name}": getattr(event, name) for name in fields}
    reference = event.lab_reference or {}
    values |= {f"adverse_event.{name}": reference.get(name) for name in AE_REFERENCES}
    return values


@dataclass
class _Batch:
    patients: list[tuple[Patient, str]]
    day0: dict[uuid.UUID, dt.date]
    visits: dict[uuid.UUID, list[Visit]]
    labs: dict[uuid.UUID, list[LabResult]]
    medications: dict[uuid.UUID, list[Medication]]
    events: dict[uuid.UUID, list[AdverseEvent]]


def _grouped(records: Iterable[Any], key: str) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for record in records:
        found[getattr(record, key)].append(record)
    return found


def _read_batch(session: Session, patients: list[tuple[Patient, str]]) -> _Batch:
    ids = [patient.id for patient, _ in patients]
    scheduled = list(
        session.scalars(select(Visit).where(Visit.patient_id.in_(ids)).order_by(Visit.study_day))
    )
    day0 = {
        visit.patient_id: visit.target_date - dt.timedelta(days=visit.study_day)
        for visit in scheduled
    }
    recorded = [visit for visit in scheduled if visit.visit_date is not None]
    labs = session.scalars(
        select(LabResult)
        .where(LabResult.visit_id.in_([visit.id for visit in recorded]), ~LabResult.superseded)
        .order_by(LabResult.analyte)
    )
    medications = session.scalars(
        select(Medication)
        .where(Medication.patient_id.in_(ids))
        .order_by(Medication.started_on, Medication.created_at)
    )
    events = session.scalars(
        select(AdverseEvent)
        .where(AdverseEvent.patient_id.in_(ids))
        .order_by(AdverseEvent.onset_on, AdverseEvent.created_at)
    )
    return _Batch(
        patients,
        day0,
        _grouped(recorded, "patient_id"),
        _grouped(labs, "visit_id"),
        _grouped(medications, "patient_id"),
        _grouped(events, "patient_id"),
    )


def batches(
    reads: sessionmaker[Session], site_codes: Sequence[str] | None, size: int = BATCH
) -> Iterator[_Batch]:
    """The registry's patients by study code, ``size`` at a time, with their records."""
    last = ""
    while True:
        with reads() as session:
            query = (
                select(Patient, Site.code)
                .join(Site, Site.id == Patient.site_id)
                .where(Patient.study_code > last)
                .order_by(Patient.study_code)
                .limit(size)
            )
            if site_codes:
                query = query.where(Site.code.in_(site_codes))
            patients = [(patient, code) for patient, code in session.execute(query)]
            if not patients:
                return
            batch = _read_batch(session, patients)
        last = patients[-1][0].study_code
        yield batch


def _shift(values: Values, key: PatientKey, scrub: Callable[[str], str]) -> Values:
    """Safe Harbor form of one row's values (module docstring)."""
    moved: Values = {}
    for target, value in values.items():
        spec = TARGET_SPECS.get(target)
        if spec is not None and spec.identifier:
            continue
        if isinstance(value, dt.date):
            value = value + dt.timedelta(days=key.offset_days)
        elif target in FREE_TEXT and isinstance(value, str):
            value = scrub(value)
        moved[target] = value
    if "patient.study_code" in moved:
        moved["patient.study_code"] = key.pseudonym
    age = moved.get("derived.age_at_infusion")
    if age is not None and age > OLDEST_AGE:
        moved["derived.age_at_infusion"] = OLDEST_AGE + 1
    return moved


def _protector(key: PatientKey | None, scrub: Callable[[str], str]) -> Callable[[Values], Values]:
    if key is None:
        return lambda values: values
    return lambda values: _shift(values, key, scrub)


TARGET_SPECS = {spec.target: spec for spec in schema.FIELDS}
FREE_TEXT = frozenset({"adverse_event.term", "medication.drug"})


class RecordsWriter:
    """Writes the records file row by row (``columns`` fixed by the dictionary)."""

    def __init__(self, stream: IO[str], *, deidentified: bool) -> None:
        fields = [spec for spec in schema.FIELDS if not (deidentified and spec.identifier)]
        self.columns = [*schema.RECORD_COLUMNS, *schema.columns(fields)]
        self.writer = csv.DictWriter(stream, self.columns, lineterminator="\n")
        self.writer.writeheader()
        self.names = {spec.name for spec in fields} - {"record_id"}
        self.counts = Counts()

    def row(self, record: str, event: str, form: str, values: Values, instance: int = 0) -> None:
        cells = {"record_id": record, "redcap_event_name": event}
        if instance:
            cells |= {"redcap_repeat_instrument": form, "redcap_repeat_instance": str(instance)}
        for spec in schema.FIELDS:
            if spec.form == form and spec.name in self.names:
                cells |= encode(spec, values.get(spec.target))
        self.writer.writerow(cells)


def _write_patient(
    writer: RecordsWriter,
    batch: _Batch,
    patient: Patient,
    site: str,
    protect: Callable[[Values], Values],
    events: Mapping[str, str],
) -> None:
    registration = protect(_patient_values(patient, site, batch.day0.get(patient.id)))
    record = str(registration["patient.study_code"])
    writer.row(record, events[schema.REGISTRATION], schema.REGISTRATION, registration)
    for visit in batch.visits.get(patient.id, []):
        values = protect(_visit_values(visit, batch.labs.get(visit.id, [])))
        event = events.get(visit.code, f"{visit.code.lower()}_arm_{schema.ARM}")
        writer.row(record, event, schema.VISIT, values)
        writer.counts.visits += 1
    for number, medication in enumerate(batch.medications.get(patient.id, []), start=1):
        values = protect(_medication_values(medication))
        writer.row(record, events[schema.REGISTRATION], schema.MEDICATIONS, values, number)
        writer.counts.medications += 1
    for number, adverse in enumerate(batch.events.get(patient.id, []), start=1):
        values = protect(_event_values(adverse))
        writer.row(record, events[schema.REGISTRATION], schema.ADVERSE_EVENTS, values, number)
        writer.counts.adverse_events += 1
    writer.counts.patients += 1


def write_records(
    stream: IO[str],
    reads: sessionmaker[Session],
    protocol: Protocol,
    *,
    site_codes: Sequence[str] | None = None,
    deidentify: Deidentify | None = None,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = BATCH,
) -> Counts:
    """Stream the records file of the registry (module docstring) into ``stream``."""
    events = {
        (event.visit_code or schema.REGISTRATION): event.unique for event in schema.events(protocol)
    }
    writer = RecordsWriter(stream, deidentified=deidentify is not None)
    for batch in batches(reads, site_codes, batch_size):
        codes = [patient.study_code for patient, _ in batch.patients]
        keys = deidentify.keys(codes) if deidentify else {}
        scrub = deidentify.scrub(codes) if deidentify else str
        for patient, site in batch.patients:
            protect = _protector(keys.get(patient.study_code), scrub)
            _write_patient(writer, batch, patient, site, protect, events)
        if on_batch is not None:
            on_batch(len(batch.patients))
    return writer.counts


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_metadata(out: Path, protocol: Protocol) -> list[Path]:
    """The data dictionary, events, instrument–event mapping and repeating instruments."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        _write_csv(
            out / FILES["dictionary"],
            schema.DICTIONARY_HEADER,
            (spec.dictionary_row() for spec in schema.FIELDS),
        ),
        _write_csv(out / FILES["events"], schema.EVENTS_HEADER, schema.event_rows(protocol)),
        _write_csv(out / FILES["mapping"], schema.MAPPING_HEADER, schema.form_event_rows(protocol)),
        _write_csv(out / FILES["repeating"], schema.REPEATING_HEADER, schema.repeating_rows()),
    ]
