"""SDTM-style domains DM, AE, CM, EX and LB built from registry records (issue 8, CDISC).

``read`` takes the registry's records in one read session — every patient, or one batch of
patients (``patient_ids``) so that a registry of any size is exported batch by batch — and
detaches them; ``dm``/``ae``/``cm``/``ex``/``lb`` (and VS, QS, RS in ``sdtm_findings``) are pure
functions turning those records into rows whose variables are exactly those declared in
``sdtm_metadata``. Writing (Dataset-JSON, CSV, define file) is ``sdtm_write``; batching and
de-identification are ``sdtm_export``.

Conventions (documented in the define file too):

* ``STUDYID`` is the protocol code of the patient's protocol version; ``USUBJID`` is
  ``<STUDYID>-<study code>``; ``SUBJID`` the study code; ``SITEID`` the site code.
* Dates are ISO 8601: dates ``YYYY-MM-DD``; date-times ``YYYY-MM-DDThh:mm:ss`` in UTC (the
  registry stores UTC), without an offset as SDTM usually writes them.
* The reference start ``RFSTDTC`` is the first infusion's start; every ``--DY`` counts from its
  date as SDTM defines study day: the reference date is day 1 and there is no day 0
  (``study_day``). A patient never infused has no ``RFSTDTC`` and no study days. The
  protocol's schedule counts the first infusion as day 0; ``VISITDY`` converts it to the SDTM
  count (``planned_day``). ``VISITNUM`` numbers the visit codes of the protocol schedules and of
  the registry's visits 1, 2, … by planned day (``visit_plan``), read once for the whole
  registry so that every batch numbers a visit alike.
* ``AEDECOD`` is the CTCAE v5.0 term when the registry graded the event against a §12 term or
  the reported term is a §12 term's name (``ctcae_decod``), else empty (the registry codes no
  MedDRA); ``AETOXGR`` the CTCAE grade as text ("1"–"5").
* ``EXLOT`` is the chain-of-identity code of the lot; an infusion that used several lots has
  them joined by ``"; "`` in code order (one EX record per infusion, the dose being the total).
* LB keeps current results only (a superseded result is not exported), the value as reported
  in ``LBORRES``/``LBORRESU`` and converted to the analyte's canonical unit in
  ``LBSTRESN``/``LBSTRESU``; ``LBLOINC`` is the §15 code of the analyte (empty without one, and
  for a result reported in a unit of another kind of quantity than the code's, §15).
* CM has one record per medication record (a dose change is a new record in the registry);
  ``CMPDNEQ`` is the §11 prednisone equivalent the registry derived, ``CMCAT`` marks those
  medications as systemic glucocorticoids.
* A data cut-off (``cut_off``) leaves out what started after it and leaves open what ended
  after it (an end after the cut-off was not yet known on that day, nor the vitals taken after
  an infusion that ended after it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.clinical import codes
from lupus_msc.interop.sdtm_metadata import AE, CM, DM, EX, LB, DomainSpec
from lupus_msc.interop.sdtm_terms import (
    DOSE_UNITS,
    FREQUENCIES,
    GLUCOCORTICOID,
    LAB_TESTS,
    OUTCOMES,
    ROUTES,
)
from lupus_msc.protocol.loading import ProtocolError, load_protocol
from lupus_msc.services.visit_labs import ANALYTES
from lupus_msc.store import models

Row = dict[str, Any]


@dataclass(frozen=True)
class Domain:
    """One dataset: its declared variables and its rows (variable name → value or None)."""

    spec: DomainSpec
    rows: list[Row]


@dataclass(frozen=True)
class Records:
    """The registry records the domains are built from (detached from their session)."""

    patients: list[models.Patient]
    sites: list[models.Site]
    protocols: list[models.ProtocolVersion]
    consents: list[models.Consent]
    infusions: list[models.Infusion]
    infusion_lots: list[models.InfusionLot]
    lots: list[models.Lot]
    events: list[models.AdverseEvent]
    visits: list[models.Visit]
    labs: list[models.LabResult]
    medications: list[models.Medication] = field(default_factory=list)
    visit_numbers: dict[str, int] = field(default_factory=dict)
    """``VISITNUM`` by visit code (``visit_plan``); empty: numbered from ``visits``."""


def visit_plan(session: Session) -> dict[str, int]:
    """``VISITNUM`` of every visit code: those of the protocols' schedules and those the
    registry's visits carry, numbered 1, 2, … in the order of their planned study day."""
    planned: dict[str, int] = {}
    for source in session.scalars(select(models.ProtocolVersion.source_yaml)):
        try:
            schedule = load_protocol(source).visits
        except ProtocolError:  # a stored protocol was checked on load; never expected
            continue
        for visit in schedule:
            planned[visit.code] = min(visit.day, planned.get(visit.code, visit.day))
    query = select(models.Visit.code, models.Visit.study_day).distinct()
    for code, day in session.execute(query):
        planned[code] = min(day, planned.get(code, day))
    ordered = sorted((day, code) for code, day in planned.items())
    return {code: number for number, (_, code) in enumerate(ordered, start=1)}


def read(
    session: Session,
    patient_ids: Sequence[uuid.UUID] | None = None,
    plan: dict[str, int] | None = None,
) -> Records:
    """The records the domains need — of every patient, or of ``patient_ids`` only — read in
    one session and detached from it. Sites and protocols are always all of them; ``plan`` is
    ``visit_plan`` (read here when not given)."""
    everyone = patient_ids is None
    wanted = [] if patient_ids is None else list(patient_ids)

    def of(model: Any, column: Any) -> list[Any]:
        query = select(model) if everyone else select(model).where(column.in_(wanted))
        return list(session.scalars(query))

    def through(model: Any, column: Any, parent: Any) -> list[Any]:
        if everyone:
            return list(session.scalars(select(model)))
        return list(session.scalars(select(model).where(column.in_(parent))))

    infused = select(models.Infusion.id).where(models.Infusion.patient_id.in_(wanted))
    visited = select(models.Visit.id).where(models.Visit.patient_id.in_(wanted))
    used = select(models.InfusionLot.lot_id).where(models.InfusionLot.infusion_id.in_(infused))
    records = Records(
        patients=of(models.Patient, models.Patient.id),
        sites=list(session.scalars(select(models.Site))),
        protocols=list(session.scalars(select(models.ProtocolVersion))),
        consents=of(models.Consent, models.Consent.patient_id),
        infusions=of(models.Infusion, models.Infusion.patient_id),
        infusion_lots=through(models.InfusionLot, models.InfusionLot.infusion_id, infused),
        lots=through(models.Lot, models.Lot.id, used),
        events=of(models.AdverseEvent, models.AdverseEvent.patient_id),
        visits=of(models.Visit, models.Visit.patient_id),
        labs=through(models.LabResult, models.LabResult.visit_id, visited),
        medications=of(models.Medication, models.Medication.patient_id),
        visit_numbers=visit_plan(session) if plan is None else plan,
    )
    session.expunge_all()
    return records


def cut_off(records: Records, day: dt.date) -> Records:
    """The records as known on ``day``: what started after it left out, ends after it open."""

    def after(end: dt.date | dt.datetime | None) -> bool:
        moment = end.date() if isinstance(end, dt.datetime) else end
        return moment is not None and moment > day

    def opened(record: Any, name: str) -> Any:
        return _copy(record, **{name: None}) if after(getattr(record, name)) else record

    def unfinished(infusion: models.Infusion) -> models.Infusion:
        """An infusion ending after ``day`` is open, and its after-vitals not yet taken."""
        if not after(infusion.ended_at):
            return infusion
        copied: models.Infusion = _copy(infusion, ended_at=None, vitals_after=None)
        return copied

    infusions = [unfinished(i) for i in records.infusions if i.started_at.date() <= day]
    kept = {i.id for i in infusions}
    visits = [v for v in records.visits if v.visit_date is None or v.visit_date <= day]
    dated = {v.id for v in visits if v.visit_date is not None}
    return replace(
        records,
        consents=[c for c in records.consents if c.signed_on <= day],
        infusions=infusions,
        infusion_lots=[link for link in records.infusion_lots if link.infusion_id in kept],
        events=[opened(e, "resolved_on") for e in records.events if e.onset_on <= day],
        visits=visits,
        labs=[lab for lab in records.labs if lab.visit_id in dated],
        medications=[opened(m, "stopped_on") for m in records.medications if m.started_on <= day],
    )


def _copy(record: Any, **changes: Any) -> Any:
    """A new, unattached record with the same column values but ``changes``."""
    columns = sa_inspect(type(record)).column_attrs
    values = {column.key: getattr(record, column.key) for column in columns}
    return type(record)(**{**values, **changes})


def study_day(day: dt.date, reference: dt.date) -> int:
    """SDTM study day: the reference date is day 1, the day before it day -1; no day 0."""
    delta = (day - reference).days
    return delta + 1 if delta >= 0 else delta


def planned_day(protocol_day: int) -> int:
    """``VISITDY`` from the protocol's schedule day, which counts the first infusion as day 0
    (``Dosing.infusion_days``): SDTM has no day 0, so day 0 → 1, 28 → 29, -7 stays -7."""
    return protocol_day + 1 if protocol_day >= 0 else protocol_day


def iso_date(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def iso_datetime(moment: dt.datetime | None) -> str | None:
    """UTC, to the second, without an offset (registry datetimes are UTC; SQLite's are naive)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def number_text(value: Decimal | None) -> str | None:
    """A decimal as plain text without exponent or trailing zeros (``1.50`` → ``1.5``)."""
    if value is None:
        return None
    return format(value.normalize(), "f")


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


CTCAE_TERMS = {
    "neutrophil_count_decreased": "Neutrophil count decreased",
    "white_blood_cell_decreased": "White blood cell decreased",
    "platelet_count_decreased": "Platelet count decreased",
    "lymphocyte_count_decreased": "Lymphocyte count decreased",
    "anemia": "Anemia",
    "alt_increased": "Alanine aminotransferase increased",
    "ast_increased": "Aspartate aminotransferase increased",
    "creatinine_increased": "Creatinine increased",
    "fever": "Fever",
}
"""The registry's §12 term keys (``clinical.ctcae.Term``) → the CTCAE v5.0 term."""

CLINICAL_CTCAE_TERMS = ("Infusion related reaction", "Allergic reaction")
"""The §12 terms graded by clinical judgement: the registry stores no key for them, so a
reported term that names one of them (any case) is coded to it."""
_BY_NAME = {name.lower(): name for name in (*CTCAE_TERMS.values(), *CLINICAL_CTCAE_TERMS)}


def ctcae_decod(ctcae_term: str | None, term: str) -> str | None:
    """``AEDECOD``: the CTCAE v5.0 term of the event's §12 key, else of its reported term when
    that is a §12 term's name; None when the registry holds no CTCAE term for the event."""
    if ctcae_term is not None and ctcae_term in CTCAE_TERMS:
        return CTCAE_TERMS[ctcae_term]
    return _BY_NAME.get(" ".join(term.split()).lower())


ARM = ("MSC", "Mesenchymal stromal cells")
NOT_ASSIGNED = ("NOTASSGN", "Not Assigned")
NOT_TREATED = ("NOTTRT", "Not Treated")


@dataclass(frozen=True)
class Subject:
    """What every domain needs of a patient: identifiers and the reference start date."""

    usubjid: str
    studyid: str
    first_infusion: dt.datetime | None

    @property
    def reference(self) -> dt.date | None:
        return None if self.first_infusion is None else self.first_infusion.date()

    def day(self, day: dt.date | None) -> int | None:
        reference = self.reference
        if day is None or reference is None:
            return None
        return study_day(day, reference)


def subjects(records: Records) -> dict[uuid.UUID, Subject]:
    protocols = {protocol.id: protocol for protocol in records.protocols}
    first: dict[uuid.UUID, dt.datetime] = {}
    for infusion in records.infusions:
        known = first.get(infusion.patient_id)
        if known is None or infusion.started_at < known:
            first[infusion.patient_id] = infusion.started_at
    found = {}
    for patient in records.patients:
        studyid = protocols[patient.protocol_version_id].protocol_code.upper()
        usubjid = f"{studyid}-{patient.study_code}"
        found[patient.id] = Subject(usubjid, studyid, first.get(patient.id))
    return found


def identifiers(subject: Subject, domain: DomainSpec) -> Row:
    return {"STUDYID": subject.studyid, "DOMAIN": domain.name, "USUBJID": subject.usubjid}


def _sortable(value: Any) -> tuple[int, int, str]:
    """Integers in numeric order (``VISITNUM`` 10 after 9), texts in text order."""
    if isinstance(value, int):
        return (0, value, "")
    return (1, 0, "" if value is None else str(value))


def checked_domain(spec: DomainSpec, rows: Iterable[Row]) -> Domain:
    """The rows ordered by the domain's keys; each must have exactly the declared variables."""
    checked = []
    for row in rows:
        if tuple(row) != spec.names:
            raise ValueError(f"{spec.name} row variables {tuple(row)} are not {spec.names}")
        checked.append(row)
    checked.sort(key=lambda row: tuple(_sortable(row[key]) for key in spec.keys))
    return Domain(spec, checked)


def _ordered(spec: DomainSpec, values: Row) -> Row:
    return {name: values.get(name) for name in spec.names}


def sequenced(spec: DomainSpec, rows: list[Row], order: Sequence[str]) -> list[Row]:
    """``--SEQ`` 1, 2, … within each subject, in the order of the ``order`` variables."""
    seq = f"{spec.name}SEQ"
    by_subject: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_subject[row["USUBJID"]].append(row)
    result = []
    for usubjid in sorted(by_subject):
        ranked = sorted(by_subject[usubjid], key=lambda r: tuple(str(r[k] or "") for k in order))
        for number, row in enumerate(ranked, start=1):
            row[seq] = number
            result.append(_ordered(spec, row))
    return result


def dm(records: Records) -> Domain:
    """One record per patient in the registry."""
    found = subjects(records)
    sites = {site.id: site.code for site in records.sites}
    protocols = {protocol.id: protocol for protocol in records.protocols}
    consent: dict[uuid.UUID, dt.date] = {}
    for record in records.consents:
        known = consent.get(record.patient_id)
        consent[record.patient_id] = min(record.signed_on, known or record.signed_on)
    last: dict[uuid.UUID, dt.datetime] = {}
    for infusion in records.infusions:
        end = infusion.ended_at or infusion.started_at
        last[infusion.patient_id] = max(end, last.get(infusion.patient_id, end))
    rows = []
    for patient in records.patients:
        subject = found[patient.id]
        consented = consent.get(patient.id)
        arm = ARM if consented is not None else NOT_ASSIGNED
        if subject.first_infusion is not None:
            actual = ARM
        else:
            actual = NOT_TREATED if consented is not None else NOT_ASSIGNED
        title = protocols[patient.protocol_version_id].title
        age_day = subject.reference or consented
        rows.append(
            _ordered(
                DM,
                {
                    **identifiers(subject, DM),
                    "SUBJID": patient.study_code,
                    "RFSTDTC": iso_datetime(subject.first_infusion),
                    "RFENDTC": iso_datetime(last.get(patient.id)),
                    "RFXSTDTC": iso_datetime(subject.first_infusion),
                    "RFXENDTC": iso_datetime(last.get(patient.id)),
                    "RFICDTC": iso_date(consented),
                    "SITEID": sites[patient.site_id],
                    "BRTHDTC": iso_date(patient.date_of_birth),
                    "AGE": None if age_day is None else age_on(patient.date_of_birth, age_day),
                    "AGEU": None if age_day is None else "YEARS",
                    "SEX": "F" if patient.sex == models.Sex.FEMALE else "M",
                    "ARMCD": arm[0],
                    "ARM": title if arm is ARM else arm[1],
                    "ACTARMCD": actual[0],
                    "ACTARM": title if actual is ARM else actual[1],
                },
            )
        )
    return checked_domain(DM, rows)


def ae(records: Records) -> Domain:
    """One record per adverse event."""
    found = subjects(records)
    rows = []
    for event in records.events:
        subject = found[event.patient_id]
        rows.append(
            {
                **identifiers(subject, AE),
                "AETERM": event.term,
                "AEDECOD": ctcae_decod(event.ctcae_term, event.term),
                "AETOXGR": str(event.grade),
                "AESER": "Y" if event.serious_criteria else "N",
                "AEREL": event.relatedness.replace("-", " ").upper(),
                "AEOUT": OUTCOMES[event.outcome],
                "AESTDTC": iso_date(event.onset_on),
                "AEENDTC": iso_date(event.resolved_on),
                "AESTDY": subject.day(event.onset_on),
                "AEENDY": subject.day(event.resolved_on),
            }
        )
    return checked_domain(AE, sequenced(AE, rows, ("AESTDTC", "AETERM", "AEENDTC")))


def ex(records: Records) -> Domain:
    """One record per infusion, with the lot(s) it used."""
    found = subjects(records)
    lot_codes = {lot.id: lot.code for lot in records.lots}
    used: dict[uuid.UUID, list[str]] = defaultdict(list)
    for link in records.infusion_lots:
        used[link.infusion_id].append(lot_codes[link.lot_id])
    rows = []
    for infusion in records.infusions:
        subject = found[infusion.patient_id]
        rows.append(
            {
                **identifiers(subject, EX),
                "EXTRT": ARM[1],
                "EXDOSE": infusion.actual_dose_per_kg,
                "EXDOSU": "cells/kg",
                "EXROUTE": ROUTES.get(infusion.route, infusion.route.upper()),
                "EXLOT": "; ".join(sorted(used[infusion.id])) or None,
                "EXSTDTC": iso_datetime(infusion.started_at),
                "EXENDTC": iso_datetime(infusion.ended_at),
                "EXSTDY": subject.day(infusion.started_at.date()),
                "EXENDY": subject.day(
                    None if infusion.ended_at is None else infusion.ended_at.date()
                ),
            }
        )
    return checked_domain(EX, sequenced(EX, rows, ("EXSTDTC",)))


def visit_numbers(records: Records) -> dict[str, int]:
    """``VISITNUM`` by visit code: the records' plan, else their visits' codes numbered 1, 2, …
    in the order of their planned study day."""
    if records.visit_numbers:
        return records.visit_numbers
    planned = sorted({(visit.study_day, visit.code) for visit in records.visits})
    return {code: number for number, (_, code) in enumerate(planned, start=1)}


def visit_timing(
    spec: DomainSpec, subject: Subject, visit: models.Visit, numbers: dict[str, int]
) -> Row:
    """``VISITNUM``/``VISIT``/``VISITDY`` and the ``--DTC``/``--DY`` of a visit's findings."""
    return {
        "VISITNUM": numbers[visit.code],
        "VISIT": visit.code,
        "VISITDY": planned_day(visit.study_day),
        f"{spec.name}DTC": iso_date(visit.visit_date),
        f"{spec.name}DY": subject.day(visit.visit_date),
    }


def _standard(lab: models.LabResult) -> Decimal | None:
    analyte = ANALYTES.get(lab.analyte)
    if lab.value is None or analyte is None or lab.unit not in analyte.accepted:
        return None
    return analyte.canonical(lab.value, lab.unit)


def _loinc(concept: codes.LabConcept | None, unit: str) -> str | None:
    """The §15 code of the test as reported, none for a unit of another kind of quantity than
    the code's (a µmol/L creatinine, an mg/mmol UPCR: ``codes.OTHER_KIND_UNITS``), as FHIR."""
    if concept is None or not codes.loinc_fits(concept, unit):
        return None
    return codes.LOINC[concept].code


def lb(records: Records) -> Domain:
    """One record per current lab result of a visit that took place."""
    found = subjects(records)
    visits = {visit.id: visit for visit in records.visits}
    numbers = visit_numbers(records)
    rows = []
    for lab in records.labs:
        visit = visits[lab.visit_id]
        if lab.superseded or visit.visit_date is None:
            continue
        subject = found[visit.patient_id]
        testcd, test, spec = LAB_TESTS[lab.analyte]
        analyte = ANALYTES.get(lab.analyte)
        concept = None if analyte is None else analyte.concept
        standard = _standard(lab)
        rows.append(
            {
                **identifiers(subject, LB),
                "LBTESTCD": testcd,
                "LBTEST": test,
                "LBSPEC": spec,
                "LBORRES": number_text(lab.value) if lab.value is not None else lab.text_value,
                "LBORRESU": lab.unit,
                "LBORNRLO": number_text(lab.reference_low),
                "LBORNRHI": number_text(lab.reference_high),
                "LBSTRESC": number_text(standard) if standard is not None else lab.text_value,
                "LBSTRESN": standard,
                "LBSTRESU": None if analyte is None else analyte.unit,
                "LBLOINC": _loinc(concept, lab.unit),
                **visit_timing(LB, subject, visit, numbers),
            }
        )
    return checked_domain(LB, sequenced(LB, rows, ("LBDTC", "LBSPEC", "LBTESTCD")))


def cm(records: Records) -> Domain:
    """One record per medication record."""
    found = subjects(records)
    rows = []
    for medication in records.medications:
        subject = found[medication.patient_id]
        equivalent = medication.prednisone_mg_day
        rows.append(
            {
                **identifiers(subject, CM),
                "CMTRT": medication.drug,
                "CMCAT": None if equivalent is None else GLUCOCORTICOID,
                "CMDOSE": medication.dose,
                "CMDOSU": DOSE_UNITS.get(medication.unit, medication.unit),
                "CMDOSFRQ": FREQUENCIES.get(medication.frequency, medication.frequency.upper()),
                "CMROUTE": ROUTES.get(medication.route, medication.route.upper()),
                "CMSTDTC": iso_date(medication.started_on),
                "CMENDTC": iso_date(medication.stopped_on),
                "CMSTDY": subject.day(medication.started_on),
                "CMENDY": subject.day(medication.stopped_on),
                "CMPDNEQ": equivalent,
            }
        )
    return checked_domain(CM, sequenced(CM, rows, ("CMSTDTC", "CMTRT", "CMENDTC")))
