"""SDTM-style DM, AE, CM, EX, LB, VS, QS and RS from a seeded registry, written as Dataset-JSON
1.1 and CSV and read back (issue 8, CDISC).

A small synthetic cohort is loaded through the services into SQLite and into PostgreSQL (the
module runs once on each, ``registry_fixtures.BACKENDS``); the domains are built,
written, parsed back from the files, and every row is compared with the registry's records
(counts per patient, dates, grades, lot codes, LOINC codes, units). The SDTM study-day rule is
pinned at the first infusion: the day before is -1, the day itself 1, the day after 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lupus_msc.interop import sdtm, sdtm_export, sdtm_findings, sdtm_write
from lupus_msc.interop.sdtm_deidentify import deidentify
from lupus_msc.interop.sdtm_metadata import DOMAINS
from lupus_msc.protocol import default_protocol_text
from lupus_msc.services import infusions
from lupus_msc.services.cohort_loader import load
from lupus_msc.services.deidentification import PatientKey
from lupus_msc.store import models
from lupus_msc.store.database import Database
from tests.registry_fixtures import database_url  # noqa: F401 - the backend fixture

PATIENTS = 14
SEED = 7
CREATED = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)


@dataclass
class Written:
    url: str
    records: sdtm.Records
    out: Path
    documents: dict[str, dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]]
    """Rows parsed back from the Dataset-JSON files, as variable name → value."""

    def usubjid(self, patient_id: uuid.UUID) -> str:
        return sdtm.subjects(self.records)[patient_id].usubjid


@pytest.fixture(scope="module")
def written(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Written:  # noqa: F811
    """The cohort loaded into a fresh SQLite file or PostgreSQL database, read and written."""
    folder = tmp_path_factory.mktemp("sdtm")
    database = Database(database_url)
    database.upgrade()
    load(database, PATIENTS, seed=SEED)
    with database.reads() as session:
        records = sdtm.read(session)
    database.dispose()
    out = folder / "out"
    sdtm_write.write(sdtm_export.build(records), out, "LUPUS-MSC", CREATED)
    documents = {
        name: json.loads((out / f"{name.lower()}.json").read_text(encoding="utf-8"))
        for name in DOMAINS
    }
    rows = {
        name: [
            dict(zip([c["name"] for c in document["columns"]], row, strict=True))
            for row in document["rows"]
        ]
        for name, document in documents.items()
    }
    return Written(database_url, records, out, documents, rows)


def _first_infusion(records: sdtm.Records) -> dict[uuid.UUID, dt.datetime]:
    first: dict[uuid.UUID, dt.datetime] = {}
    for infusion in records.infusions:
        at = infusion.started_at
        first[infusion.patient_id] = min(at, first.get(infusion.patient_id, at))
    return first


def _utc_text(moment: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss`` in UTC without an offset."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def _day(day: dt.date, reference: dt.date) -> int:
    """SDTM study day, written out independently of the module under test."""
    if day >= reference:
        return (day - reference).days + 1
    return (day - reference).days


# --- the study-day rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 3, 9), -1),
        (dt.date(2026, 3, 10), 1),
        (dt.date(2026, 3, 11), 2),
        (dt.date(2026, 3, 1), -9),
        (dt.date(2026, 4, 9), 31),
        (dt.date(2025, 3, 10), -365),
    ],
)
def test_study_day_has_no_day_zero(day: dt.date, expected: int) -> None:
    assert sdtm.study_day(day, dt.date(2026, 3, 10)) == expected


def test_study_days_around_the_first_infusion_in_the_built_domains(written: Written) -> None:
    """An AE and a lab the day before, the day of and the day after the first infusion."""
    records = written.records
    infusion = min(records.infusions, key=lambda i: i.started_at)
    start = infusion.started_at.date()
    patient = infusion.patient_id
    event = records.events[0]
    visit = next(v for v in records.visits if v.patient_id == patient and v.visit_date)
    lab = next(lab for lab in records.labs if lab.visit_id == visit.id and not lab.superseded)
    events, visits, labs = [], [], []
    for offset in (-1, 0, 1):
        day = start + dt.timedelta(days=offset)
        events.append(_event_on(event, patient, day, f"boundary {offset}"))
        new_visit = models.Visit(
            id=uuid.uuid4(),
            patient_id=patient,
            code=f"boundary{offset + 1}",
            study_day=offset,
            target_date=day,
            window_start=day,
            window_end=day,
            visit_date=day,
            findings={},
            scores={},
        )
        visits.append(new_visit)
        labs.append(
            models.LabResult(
                id=uuid.uuid4(),
                visit_id=new_visit.id,
                analyte=lab.analyte,
                value=lab.value,
                unit=lab.unit,
                superseded=False,
            )
        )
    patients = [p for p in records.patients if p.id == patient]
    boundary = replace(
        records,
        patients=patients,
        infusions=[i for i in records.infusions if i.patient_id == patient],
        events=events,
        visits=visits,
        labs=labs,
        visit_numbers={},
    )
    ae_days = {row["AETERM"]: row["AESTDY"] for row in sdtm.ae(boundary).rows}
    assert ae_days == {"boundary -1": -1, "boundary 0": 1, "boundary 1": 2}
    lb_days = {row["VISIT"]: row["LBDY"] for row in sdtm.lb(boundary).rows}
    assert lb_days == {"boundary0": -1, "boundary1": 1, "boundary2": 2}
    ex_rows = sdtm.ex(boundary).rows
    assert ex_rows[0]["EXSTDY"] == 1
    assert sdtm.dm(boundary).rows[0]["RFSTDTC"] == sdtm.iso_datetime(infusion.started_at)


def _event_on(
    event: models.AdverseEvent, patient: uuid.UUID, day: dt.date, term: str
) -> models.AdverseEvent:
    return models.AdverseEvent(
        id=uuid.uuid4(),
        patient_id=patient,
        infusion_id=None,
        term=term,
        ctcae_term=None,
        grade=1,
        grade_derived=False,
        onset_on=day,
        resolved_on=None,
        serious_criteria=[],
        relatedness=event.relatedness,
        expected=False,
        action=event.action,
        outcome="recovering",
        reported_by_id=event.reported_by_id,
    )


# --- Dataset-JSON structure -----------------------------------------------------------------


def test_each_file_has_the_dataset_json_1_1_structure(written: Written) -> None:
    required = {
        "datasetJSONCreationDateTime",
        "datasetJSONVersion",
        "itemGroupOID",
        "records",
        "name",
        "label",
        "columns",
        "rows",
    }
    for name, document in written.documents.items():
        assert required <= set(document), name
        assert document["datasetJSONVersion"] == "1.1.0"
        assert document["itemGroupOID"] == f"IG.{name}"
        assert document["name"] == name
        assert document["records"] == len(document["rows"])
        assert document["sourceSystem"]["name"] == "lupus-msc"
        assert document["datasetJSONCreationDateTime"] == "2026-11-26T06:00:00"
        assert document["isReferenceData"] is False
        for column in document["columns"]:
            assert {"itemOID", "name", "label", "dataType"} <= set(column)
            if column["dataType"] == "string":
                values = [r[column["name"]] for r in written.rows[name] if r[column["name"]]]
                assert column["length"] == max(map(len, values), default=1)
            assert column["itemOID"] == f"IT.{name}.{column['name']}"
            assert column["dataType"] in {"string", "integer", "decimal", "date", "datetime"}
        keys = sorted(
            (c["keySequence"], c["name"]) for c in document["columns"] if "keySequence" in c
        )
        assert [n for _, n in keys] == list(DOMAINS[name].keys)
        width = len(document["columns"])
        assert all(len(row) == width for row in document["rows"])
        assert all(row["DOMAIN"] == name for row in written.rows[name])


def test_values_have_the_json_type_of_their_data_type(written: Written) -> None:
    for name, document in written.documents.items():
        types = {c["name"]: c["dataType"] for c in document["columns"]}
        for row in written.rows[name]:
            for variable, value in row.items():
                if value is None:
                    continue
                if types[variable] == "integer":
                    assert isinstance(value, int), (name, variable, value)
                else:
                    assert isinstance(value, str), (name, variable, value)
                if types[variable] == "decimal":
                    Decimal(value)
                if types[variable] == "date":
                    dt.date.fromisoformat(value)
                if types[variable] == "datetime":
                    assert "T" in value or variable in DATE_PRECISION, (name, variable, value)
                    dt.datetime.fromisoformat(value)


DATE_PRECISION = {"VSDTC"}
"""Date/time variables that may hold a date alone: visit vitals (and post-infusion vitals
without a recorded end) were collected without a time, and SDTM keeps the precision collected."""


def test_every_variable_in_the_data_is_in_the_metadata(written: Written) -> None:
    define = json.loads((written.out / "define.json").read_text(encoding="utf-8"))
    described = {
        dataset["name"]: {v["name"]: v for v in dataset["variables"]}
        for dataset in define["datasets"]
    }
    codelists = {codelist["name"] for codelist in define["codelists"]}
    for name, document in written.documents.items():
        variables = described[name]
        for column in document["columns"]:
            meta = variables[column["name"]]
            assert meta["label"] == column["label"]
            assert meta["dataType"] == column["dataType"]
            assert meta["codelist"] is None or meta["codelist"] in codelists
        with (written.out / f"{name.lower()}.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert set(header) <= set(variables)
        assert set(variables) == {c["name"] for c in document["columns"]}


def test_the_csv_holds_the_same_rows_as_the_dataset_json(written: Written) -> None:
    for name, rows in written.rows.items():
        with (written.out / f"{name.lower()}.csv").open(encoding="utf-8") as handle:
            from_csv = list(csv.DictReader(handle))
        assert len(from_csv) == len(rows)
        for row, csv_row in zip(rows, from_csv, strict=True):
            assert csv_row == {k: "" if v is None else str(v) for k, v in row.items()}


# --- rows against the registry --------------------------------------------------------------


def test_dm_has_one_row_per_patient_with_the_registry_values(written: Written) -> None:
    records = written.records
    rows = {row["USUBJID"]: row for row in written.rows["DM"]}
    assert len(rows) == len(records.patients) == PATIENTS
    first = _first_infusion(records)
    consent: dict[uuid.UUID, dt.date] = {}
    for c in records.consents:
        consent[c.patient_id] = min(c.signed_on, consent.get(c.patient_id, c.signed_on))
    sites = {site.id: site.code for site in records.sites}
    for patient in records.patients:
        row = rows[written.usubjid(patient.id)]
        assert row["SUBJID"] == patient.study_code
        assert row["USUBJID"] == f"{row['STUDYID']}-{patient.study_code}"
        assert row["SITEID"] == sites[patient.site_id]
        assert row["BRTHDTC"] == patient.date_of_birth.isoformat()
        assert row["SEX"] == {"female": "F", "male": "M"}[patient.sex.value]
        started = first.get(patient.id)
        if started is None:
            assert row["RFSTDTC"] is None and row["ACTARMCD"] != "MSC"
        else:
            assert row["RFSTDTC"] == _utc_text(started)
            assert row["ACTARMCD"] == row["ARMCD"] == "MSC"
            birth = patient.date_of_birth
            age = (
                started.year
                - birth.year
                - ((started.month, started.day) < (birth.month, birth.day))
            )
            assert (row["AGE"], row["AGEU"]) == (age, "YEARS")
        signed = consent.get(patient.id)
        assert row["RFICDTC"] == (None if signed is None else signed.isoformat())
    assert any(row["RFSTDTC"] for row in rows.values())


DECOD = {
    "neutrophil_count_decreased": "Neutrophil count decreased",
    "white_blood_cell_decreased": "White blood cell decreased",
    "platelet_count_decreased": "Platelet count decreased",
    "lymphocyte_count_decreased": "Lymphocyte count decreased",
    "anemia": "Anemia",
    "alt_increased": "Alanine aminotransferase increased",
    "ast_increased": "Aspartate aminotransferase increased",
    "fever": "Fever",
    "creatinine_increased": "Creatinine increased",
    "infusion related reaction": "Infusion related reaction",
    "allergic reaction": "Allergic reaction",
}
"""CTCAE v5.0 terms of §12 (by registry key, or by the reported term for the clinical ones)."""


@pytest.mark.parametrize(
    ("ctcae_term", "term", "expected"),
    [
        ("platelet_count_decreased", "Low platelets", "Platelet count decreased"),
        ("alt_increased", "ALT up", "Alanine aminotransferase increased"),
        (None, "Infusion related reaction", "Infusion related reaction"),
        (None, "allergic  Reaction", "Allergic reaction"),
        (None, "Headache", None),
    ],
)
def test_aedecod_is_the_ctcae_term_where_one_exists(
    ctcae_term: str | None, term: str, expected: str | None
) -> None:
    assert sdtm.ctcae_decod(ctcae_term, term) == expected


def test_ae_rows_match_the_registry_events(written: Written) -> None:
    records = written.records
    first = _first_infusion(records)
    rows = written.rows["AE"]
    expected_counts = Counter(written.usubjid(e.patient_id) for e in records.events)
    assert Counter(row["USUBJID"] for row in rows) == expected_counts
    assert len(rows) == len(records.events) > 0
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_key[(row["USUBJID"], row["AETERM"], row["AESTDTC"])].append(row)
    outcomes = {"recovered": "RECOVERED/RESOLVED", "fatal": "FATAL", "unknown": "UNKNOWN"}
    for event in records.events:
        key = (written.usubjid(event.patient_id), event.term, event.onset_on.isoformat())
        candidates = by_key[key]
        assert candidates, key
        row = next(r for r in candidates if r["AETOXGR"] == str(event.grade))
        assert row["AEENDTC"] == (
            None if event.resolved_on is None else event.resolved_on.isoformat()
        )
        assert row["AESER"] == ("Y" if event.serious_criteria else "N")
        if event.outcome in outcomes:
            assert row["AEOUT"] == outcomes[event.outcome]
        start = first.get(event.patient_id)
        assert row["AESTDY"] == (None if start is None else _day(event.onset_on, start.date()))
        assert row["AEDECOD"] == DECOD.get(event.ctcae_term or event.term.lower())
    seqs: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        seqs[row["USUBJID"]].append(row["AESEQ"])
    assert all(sorted(s) == list(range(1, len(s) + 1)) for s in seqs.values())


def test_ex_has_one_row_per_infusion_with_its_chain_of_identity_lot(written: Written) -> None:
    records = written.records
    first = _first_infusion(records)
    lots = {lot.id: lot.code for lot in records.lots}
    used: dict[uuid.UUID, list[str]] = defaultdict(list)
    for link in records.infusion_lots:
        used[link.infusion_id].append(lots[link.lot_id])
    rows = {(row["USUBJID"], row["EXSTDTC"]): row for row in written.rows["EX"]}
    assert len(rows) == len(written.rows["EX"]) == len(records.infusions) > 0
    for infusion in records.infusions:
        key = (
            written.usubjid(infusion.patient_id),
            _utc_text(infusion.started_at),
        )
        row = rows[key]
        assert row["EXLOT"] == "; ".join(sorted(used[infusion.id]))
        assert row["EXLOT"]
        assert Decimal(row["EXDOSE"]) == infusion.actual_dose_per_kg
        assert row["EXDOSU"] == "cells/kg"
        assert row["EXTRT"] == "Mesenchymal stromal cells"
        if infusion.route == "intravenous":
            assert row["EXROUTE"] == "INTRAVENOUS"
        start = first[infusion.patient_id].date()
        assert row["EXSTDY"] == _day(infusion.started_at.date(), start)
    assert {row["EXSTDY"] for row in rows.values() if row["EXSEQ"] == 1} == {1}


LOINC = {
    "c3": ("C3", "4485-9", "g/L"),
    "c4": ("C4", "4498-2", "g/L"),
    "anti_dsdna": ("DSDNAAB", "5130-0", "IU/mL"),
    "hemoglobin": ("HGB", "718-7", "g/dL"),
    "platelets": ("PLAT", "777-3", "10*9/L"),
    "neutrophils": ("NEUT", "751-8", "10*9/L"),
    "creatinine": ("CREAT", "2160-0", "mg/dL"),
    "upcr": ("PROTCRT", "2890-2", "g/g"),
    "urine_protein_24h": ("PROT", "2889-4", "g/24h"),
    "urine_rbc_hpf": ("RBC", "13945-1", "/[HPF]"),
    "cystatin_c": ("CYSTC", None, "mg/L"),
}
"""Analyte → (LBTESTCD, §15 LOINC copied by hand from instruments.md, standard unit)."""


def test_lb_rows_match_the_registry_labs(written: Written) -> None:
    records = written.records
    first = _first_infusion(records)
    visits = {visit.id: visit for visit in records.visits}
    current = [
        lab
        for lab in records.labs
        if not lab.superseded and visits[lab.visit_id].visit_date is not None
    ]
    rows = written.rows["LB"]
    assert Counter(row["USUBJID"] for row in rows) == Counter(
        written.usubjid(visits[lab.visit_id].patient_id) for lab in current
    )
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_key[(row["USUBJID"], row["VISIT"], row["LBTESTCD"], row["LBSPEC"])].append(row)
    seen: set[str] = set()
    for lab in current:
        visit = visits[lab.visit_id]
        testcd, test, spec = sdtm.LAB_TESTS[lab.analyte]
        matches = by_key[(written.usubjid(visit.patient_id), visit.code, testcd, spec)]
        assert len(matches) == 1, (lab.analyte, visit.code)
        row = matches[0]
        assert row["LBTEST"] == test
        assert row["LBORRESU"] == lab.unit
        assert Decimal(row["LBORRES"]) == lab.value
        if lab.reference_low is not None:
            assert Decimal(row["LBORNRLO"]) == lab.reference_low
        if lab.reference_high is not None:
            assert Decimal(row["LBORNRHI"]) == lab.reference_high
        assert row["LBDTC"] == visit.visit_date.isoformat()  # type: ignore[union-attr]
        # The schedule counts the infusion as day 0; SDTM's planned day has no day 0.
        assert row["VISITDY"] == (visit.study_day + 1 if visit.study_day >= 0 else visit.study_day)
        start = first.get(visit.patient_id)
        assert row["LBDY"] == (
            None if start is None else _day(visit.visit_date, start.date())  # type: ignore[arg-type]
        )
        if lab.analyte in LOINC:
            code, loinc, unit = LOINC[lab.analyte]
            other_kind = (lab.analyte, lab.unit) in {("creatinine", "umol/L"), ("upcr", "mg/mmol")}
            expected = None if other_kind else loinc  # §15: 2160-0 mass, 2890-2 mass ratio
            assert (row["LBTESTCD"], row["LBLOINC"], row["LBSTRESU"]) == (code, expected, unit)
            if row["LBORRESU"] == row["LBSTRESU"]:
                assert Decimal(row["LBSTRESN"]) == lab.value
            seen.add(lab.analyte)
    assert seen == set(LOINC)


@pytest.mark.parametrize(("protocol_day", "expected"), [(-7, -7), (-1, -1), (0, 1), (28, 29)])
def test_the_planned_visit_day_has_no_day_zero(protocol_day: int, expected: int) -> None:
    assert sdtm.planned_day(protocol_day) == expected


def test_lb_visit_numbers_follow_the_planned_study_day(written: Written) -> None:
    planned: dict[str, tuple[int, int]] = {}
    for row in written.rows["LB"]:
        planned[row["VISIT"]] = (row["VISITDY"], row["VISITNUM"])
    ordered = sorted(planned.values())
    assert [number for _, number in ordered] == sorted(number for _, number in ordered)
    assert len({number for _, number in ordered}) == len(planned)


def test_a_superseded_lab_is_not_exported() -> None:
    patient_id = uuid.uuid4()
    visit = models.Visit(
        id=uuid.uuid4(),
        patient_id=patient_id,
        code="baseline",
        study_day=0,
        target_date=dt.date(2026, 1, 1),
        window_start=dt.date(2026, 1, 1),
        window_end=dt.date(2026, 1, 1),
        visit_date=dt.date(2026, 1, 1),
    )
    old, new = (
        models.LabResult(
            id=uuid.uuid4(),
            visit_id=visit.id,
            analyte="c3",
            value=Decimal(value),
            unit="g/L",
            superseded=superseded,
        )
        for value, superseded in (("0.5", True), ("0.6", False))
    )
    protocol = models.ProtocolVersion(id=uuid.uuid4(), protocol_code="demo", title="Demo")
    patient = models.Patient(
        id=patient_id,
        protocol_version_id=protocol.id,
        study_code="S01-0001",
        site_id=uuid.uuid4(),
    )
    records = sdtm.Records([patient], [], [protocol], [], [], [], [], [], [visit], [old, new])
    rows = sdtm.lb(records).rows
    assert [row["LBORRES"] for row in rows] == ["0.6"]
    assert rows[0]["LBDY"] is None
    assert rows[0]["USUBJID"] == "DEMO-S01-0001"


# --- CM, VS, QS, RS against the registry ----------------------------------------------------

ROUTE_TERMS = {"oral": "ORAL", "intravenous": "INTRAVENOUS"}
FREQUENCY_TERMS = {"once-daily": "QD", "twice-daily": "BID"}
"""CDISC CT ROUTE / FREQ terms of the registry values the seeded cohort uses, by hand."""


def test_cm_has_one_row_per_medication_with_its_prednisone_equivalent(written: Written) -> None:
    records = written.records
    first = _first_infusion(records)
    rows = written.rows["CM"]
    assert len(rows) == len(records.medications) > 0
    by_key = {(r["USUBJID"], r["CMTRT"], r["CMSTDTC"], r["CMDOSE"]): r for r in rows}
    for medication in records.medications:
        key = (
            written.usubjid(medication.patient_id),
            medication.drug,
            medication.started_on.isoformat(),
            format(medication.dose.normalize(), "f"),
        )
        row = by_key[key]
        assert row["CMDOSU"] == medication.unit
        assert row["CMROUTE"] == ROUTE_TERMS[medication.route]
        assert row["CMDOSFRQ"] == FREQUENCY_TERMS[medication.frequency]
        stopped = medication.stopped_on
        assert row["CMENDTC"] == (None if stopped is None else stopped.isoformat())
        start = first.get(medication.patient_id)
        assert row["CMSTDY"] == (
            None if start is None else _day(medication.started_on, start.date())
        )
        if medication.prednisone_mg_day is None:
            assert (row["CMPDNEQ"], row["CMCAT"]) == (None, None)
        else:
            assert Decimal(row["CMPDNEQ"]) == medication.prednisone_mg_day
            assert row["CMCAT"] == "SYSTEMIC GLUCOCORTICOID"


VITALS = {
    "weight_kg": ("WEIGHT", "kg"),
    "systolic_mmhg": ("SYSBP", "mmHg"),
    "diastolic_mmhg": ("DIABP", "mmHg"),
    "heart_rate_bpm": ("HR", "beats/min"),
    "temperature_c": ("TEMP", "C"),
    "respiratory_rate_min": ("RESP", "breaths/min"),
    "spo2_pct": ("OXYSAT", "%"),
}


def _done(records: sdtm.Records) -> list[models.Visit]:
    return [visit for visit in records.visits if visit.visit_date is not None]


def test_vs_has_every_vital_sign_of_every_visit(written: Written) -> None:
    records = written.records
    at_visits = [r for r in written.rows["VS"] if r["VSTPT"] is None]
    rows = {(r["USUBJID"], r["VISIT"], r["VSTESTCD"]): r for r in at_visits}
    expected = 0
    for visit in _done(records):
        for field, value in (visit.findings.get("vitals") or {}).items():
            code, unit = VITALS[field]
            row = rows[(written.usubjid(visit.patient_id), visit.code, code)]
            assert Decimal(row["VSORRES"]) == Decimal(str(value))
            assert Decimal(row["VSSTRESN"]) == Decimal(str(value))
            assert (row["VSORRESU"], row["VSSTRESU"]) == (unit, unit)
            assert row["VSDTC"] == visit.visit_date.isoformat()  # type: ignore[union-attr]
            assert (row["VSTPTNUM"], row["VSTPTREF"], row["VSRFTDTC"]) == (None, None, None)
            expected += 1
    assert len(at_visits) == expected > 0


INFUSION_VITALS = {
    "systolic_mmhg": ("SYSBP", "mmHg"),
    "diastolic_mmhg": ("DIABP", "mmHg"),
    "heart_rate_bpm": ("HR", "beats/min"),
    "temperature_c": ("TEMP", "C"),
    "spo2_pct": ("OXYSAT", "%"),
    "respiratory_rate": ("RESP", "breaths/min"),
}
"""``services.infusions.Vitals`` field → VSTESTCD and unit, by hand (the field names and units
of services/infusions.py)."""
INFUSION_VISITS = {1: ("day0", 1), 2: ("day7", 8)}
"""Infusion number → VISIT and VISITDY in the default protocol (default_uc_msc.yaml: two
infusions 7 days apart, visits day0 and day7; SDTM's planned day has no day 0)."""


def test_every_infusion_vital_sign_field_has_a_vs_test() -> None:
    assert set(infusions.Vitals.model_fields) == set(INFUSION_VITALS)


def _infusion_expectations(written: Written) -> dict[tuple[str, str, int, str], dict[str, Any]]:
    """(USUBJID, VSTPTREF, VSTPTNUM, VSTESTCD) → the values the registry's infusions give."""
    first = _first_infusion(written.records)
    expected = {}
    for infusion in written.records.infusions:
        start, end = infusion.started_at, infusion.ended_at
        after = (_utc_text(end), end.date()) if end else (start.date().isoformat(), start.date())
        taken = {1: (infusion.vitals_before, _utc_text(start), start.date()), 2: (
            infusion.vitals_after, *after)}  # fmt: skip
        for number, (vitals, when, day) in taken.items():
            for field, value in (vitals or {}).items():
                if value is None:
                    continue
                code, unit = INFUSION_VITALS[field]
                key = (written.usubjid(infusion.patient_id), f"INFUSION {infusion.number}",
                       number, code)  # fmt: skip
                expected[key] = {
                    "value": Decimal(str(value)),
                    "unit": unit,
                    "VSTPT": {1: "PRE-INFUSION", 2: "POST-INFUSION"}[number],
                    "VSDTC": when,
                    "VSDY": _day(day, first[infusion.patient_id].date()),
                    "VSRFTDTC": _utc_text(start),
                    "visit": INFUSION_VISITS[infusion.number],
                }
    return expected


def _check_infusion_row(row: dict[str, Any], expected: dict[str, Any]) -> None:
    assert Decimal(row["VSORRES"]) == Decimal(row["VSSTRESN"]) == expected["value"]
    assert row["VSORRESU"] == row["VSSTRESU"] == expected["unit"]
    for variable in ("VSTPT", "VSDTC", "VSRFTDTC"):
        assert row[variable] == expected[variable], variable
    assert int(row["VSDY"]) == expected["VSDY"]
    assert (row["VISIT"], int(row["VISITDY"])) == expected["visit"]


def test_vs_has_the_vitals_before_and_after_every_infusion(written: Written) -> None:
    """Against the registry's Infusion records, in the Dataset-JSON and in the CSV."""
    expected = _infusion_expectations(written)
    by_patient = Counter(usubjid for usubjid, _, _, _ in expected)
    assert len(by_patient) == len({i.patient_id for i in written.records.infusions}) > 0
    assert {number for _, _, number, _ in expected} == {1, 2}
    with (written.out / "vs.csv").open(encoding="utf-8") as handle:
        from_csv = list(csv.DictReader(handle))
    for rows in (written.rows["VS"], from_csv):
        timed = [r for r in rows if r["VSTPTREF"]]
        assert Counter(r["USUBJID"] for r in timed) == by_patient
        found = {(r["USUBJID"], r["VSTPTREF"], int(r["VSTPTNUM"]), r["VSTESTCD"]): r for r in timed}
        assert len(found) == len(timed)
        assert set(found) == set(expected)
        for key, row in found.items():
            _check_infusion_row(row, expected[key])


def _infused(
    *infused: tuple[int, dt.datetime, dt.datetime | None, dict[str, Any] | None],
    visit_vitals: dict[str, Any] | None = None,
) -> sdtm.Records:
    """One patient of the default protocol with infusions (number, start, end, after-vitals;
    the before-vitals always BEFORE) and, given ``visit_vitals``, a day0 visit recording them
    on the first infusion's day."""
    protocol = models.ProtocolVersion(
        id=uuid.uuid4(), protocol_code="demo", title="Demo", source_yaml=default_protocol_text()
    )
    patient = models.Patient(
        id=uuid.uuid4(),
        protocol_version_id=protocol.id,
        study_code="S01-0007",
        site_id=uuid.uuid4(),
    )
    given = [
        models.Infusion(
            id=uuid.uuid4(),
            patient_id=patient.id,
            number=number,
            route="intravenous",
            actual_dose_per_kg=Decimal(1_000_000),
            started_at=start,
            ended_at=end,
            vitals_before=BEFORE,
            vitals_after=after,
        )
        for number, start, end, after in infused
    ]
    visits = []
    if visit_vitals is not None:
        day = infused[0][1].date()
        visits.append(
            models.Visit(
                id=uuid.uuid4(),
                patient_id=patient.id,
                code="day0",
                study_day=0,
                target_date=day,
                window_start=day,
                window_end=day,
                visit_date=day,
                findings={"vitals": visit_vitals},
                scores={},
            )
        )
    return sdtm.Records(
        [patient], [], [protocol], [], given, [], [], [], visits, [], visit_numbers=PLAN
    )


PLAN = {"screening": 1, "day0": 2, "day7": 3, "month1": 4}
"""VISITNUM of the default protocol's first visits, by planned day (``sdtm.visit_plan``)."""
BEFORE = {"systolic_mmhg": 120, "diastolic_mmhg": 80, "heart_rate_bpm": 70,
          "temperature_c": "36.6", "spo2_pct": None, "respiratory_rate": 16}  # fmt: skip
AFTER = {"systolic_mmhg": 110, "diastolic_mmhg": 70, "heart_rate_bpm": 90,
         "temperature_c": "37.9", "spo2_pct": 95, "respiratory_rate": None}  # fmt: skip
MARCH_10 = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)


def _timed(records: sdtm.Records) -> dict[tuple[int, str], dict[str, Any]]:
    rows = sdtm_findings.vs(records).rows
    return {(row["VSTPTNUM"], row["VSTESTCD"]): row for row in rows if row["VSTPTNUM"]}


def test_infusion_vitals_are_timed_at_its_start_and_end() -> None:
    end = MARCH_10 + dt.timedelta(minutes=45)
    rows = _timed(_infused((1, MARCH_10, end, AFTER)))
    assert sorted(rows) == sorted(
        [(1, "SYSBP"), (1, "DIABP"), (1, "HR"), (1, "TEMP"), (1, "RESP"),
         (2, "SYSBP"), (2, "DIABP"), (2, "HR"), (2, "TEMP"), (2, "OXYSAT")]
    )  # fmt: skip
    pre, post = rows[(1, "RESP")], rows[(2, "TEMP")]
    assert (pre["VSORRES"], pre["VSORRESU"], pre["VSTPT"]) == ("16", "breaths/min", "PRE-INFUSION")
    assert (post["VSORRES"], post["VSORRESU"], post["VSTPT"]) == ("37.9", "C", "POST-INFUSION")
    assert (pre["VSDTC"], post["VSDTC"]) == ("2026-03-10T09:30:00", "2026-03-10T10:15:00")
    assert pre["VSRFTDTC"] == post["VSRFTDTC"] == "2026-03-10T09:30:00"
    assert pre["VSTPTREF"] == post["VSTPTREF"] == "INFUSION 1"
    assert (pre["VISIT"], pre["VISITNUM"], pre["VISITDY"], pre["VSDY"]) == ("day0", 2, 1, 1)


def test_after_vitals_without_a_recorded_end_carry_the_date_alone() -> None:
    rows = _timed(_infused((1, MARCH_10, None, AFTER)))
    assert rows[(2, "HR")]["VSDTC"] == "2026-03-10"
    assert rows[(2, "HR")]["VSDY"] == 1
    assert rows[(1, "HR")]["VSDTC"] == "2026-03-10T09:30:00"


def test_an_infusion_ending_after_midnight_dates_its_after_vitals_the_next_day() -> None:
    start = dt.datetime(2026, 3, 10, 23, 40, tzinfo=dt.UTC)
    rows = _timed(_infused((1, start, start + dt.timedelta(minutes=50), AFTER)))
    assert (rows[(1, "HR")]["VSDY"], rows[(2, "HR")]["VSDY"]) == (1, 2)
    assert rows[(2, "HR")]["VSDTC"] == "2026-03-11T00:30:00"


def test_no_after_vitals_give_no_post_infusion_rows() -> None:
    rows = _timed(_infused((1, MARCH_10, None, None)))
    assert {number for number, _ in rows} == {1}


def test_the_second_infusion_is_at_the_day7_visit_and_a_third_at_none() -> None:
    """The default protocol gives two infusions, on days 0 and 7; a third (not one the
    registry would accept, but an imported record might be) has no scheduled visit."""
    week = dt.timedelta(days=7)
    records = _infused(
        (1, MARCH_10, None, None), (2, MARCH_10 + week, None, None),
        (3, MARCH_10 + 2 * week, None, None),
    )  # fmt: skip
    visits = {
        row["VSTPTREF"]: (row["VISIT"], row["VISITNUM"], row["VISITDY"], row["VSDY"])
        for row in sdtm_findings.vs(records).rows
    }
    assert visits == {
        "INFUSION 1": ("day0", 2, 1, 1),
        "INFUSION 2": ("day7", 3, 8, 8),
        "INFUSION 3": (None, None, None, 15),
    }


def test_vsseq_follows_the_order_the_vitals_were_taken() -> None:
    """On the infusion day: the visit's own vitals (a date), then before, then after the
    infusion — also when the after-vitals carry a date alone."""
    records = _infused((1, MARCH_10, None, AFTER), visit_vitals={"weight_kg": "61.5"})
    rows = sorted(sdtm_findings.vs(records).rows, key=lambda row: row["VSSEQ"])
    assert [row["VSSEQ"] for row in rows] == list(range(1, len(rows) + 1))
    points = [row["VSTPTNUM"] for row in rows]
    assert points == [None] + [1] * 5 + [2] * 5
    assert rows[0]["VSTESTCD"] == "WEIGHT"


def test_the_cut_off_leaves_out_after_vitals_taken_after_it() -> None:
    start = dt.datetime(2026, 3, 10, 23, 40, tzinfo=dt.UTC)
    records = _infused((1, start, start + dt.timedelta(minutes=50), AFTER))
    cut = sdtm.cut_off(records, start.date())
    assert {number for number, _ in _timed(cut)} == {1}
    assert {number for number, _ in _timed(sdtm.cut_off(records, dt.date(2026, 3, 11)))} == {1, 2}
    assert records.infusions[0].vitals_after == AFTER  # the input is left as it was


def test_deidentified_infusion_vitals_move_with_the_offset_or_keep_only_days() -> None:
    """Safe Harbor (C): VSDTC and VSRFTDTC are dates like the others; the time point
    variables name no one."""
    end = MARCH_10 + dt.timedelta(minutes=45)
    domain = sdtm_findings.vs(_infused((1, MARCH_10, end, AFTER)))
    key = {"DEMO-S01-0007": PatientKey("S01-0007", "P-KLMNOPQRST", -12)}
    shifted = deidentify(domain, key, dates="shift", scrub=str).rows
    days = deidentify(domain, key, dates="days", scrub=str).rows
    for original, moved, counted in zip(domain.rows, shifted, days, strict=True):
        assert moved["VSRFTDTC"] == "2026-02-26T09:30:00"  # 10 March - 12 days
        post = original["VSTPTNUM"] == 2
        assert moved["VSDTC"] == ("2026-02-26T10:15:00" if post else "2026-02-26T09:30:00")
        assert (counted["VSDTC"], counted["VSRFTDTC"]) == (None, None)
        assert counted["VSDY"] == moved["VSDY"] == original["VSDY"] == 1
        for row in (moved, counted):
            assert row["USUBJID"] == "DEMO-P-KLMNOPQRST"
            assert (row["VSTPT"], row["VSTPTREF"]) == (original["VSTPT"], "INFUSION 1")
            assert not any("S01-0007" in str(value) for value in row.values())


FACIT_ITEMS = ("HI7", "HI12", "An1", "An2", "An3", "An4", "An5", "An7", "An8", "An12", "An14",
               "An15", "An16")  # fmt: skip
"""§13 item codes, copied by hand from instruments.md."""


def test_qs_holds_each_facit_answer_and_the_total(written: Written) -> None:
    records = written.records
    rows = {(r["USUBJID"], r["VISIT"], r["QSTESTCD"]): r for r in written.rows["QS"]}
    expected = 0
    for visit in _done(records):
        answers = visit.findings.get("facit_f")
        if not answers:
            continue
        usubjid = written.usubjid(visit.patient_id)
        for item, answer in answers.items():
            assert item in FACIT_ITEMS
            row = rows[(usubjid, visit.code, item)]
            assert row["QSCAT"] == "FACIT-F"
            assert row["QSORRES"] == str(answer)
            expected += 1
        total = rows[(usubjid, visit.code, "FACITTOT")]
        assert Decimal(total["QSSTRESN"]) == Decimal(str(visit.scores["facit_f"]["score"]))
        assert total["QSDRVFL"] == "Y"
        expected += 1
    assert len(written.rows["QS"]) == expected > 0


SLEDAI_ORDER = (
    "seizure", "psychosis", "organic_brain_syndrome", "visual_disturbance",
    "cranial_nerve_disorder", "lupus_headache", "cva", "vasculitis", "arthritis", "myositis",
    "urinary_casts", "hematuria", "proteinuria", "pyuria", "rash", "alopecia", "mucosal_ulcers",
    "pleurisy", "pericarditis", "low_complement", "increased_dna_binding", "fever",
    "thrombocytopenia", "leukopenia",
)  # fmt: skip
"""The 24 descriptors in the order of the instruments.md §1 table (SLED01 … SLED24)."""


def test_rs_holds_sledai_descriptors_total_and_pga(written: Written) -> None:
    records = written.records
    rows = {(r["USUBJID"], r["VISIT"], r["RSTESTCD"]): r for r in written.rows["RS"]}
    expected = 0
    for visit in _done(records):
        usubjid = written.usubjid(visit.patient_id)
        score = visit.scores.get("sledai2k")
        if score is not None:
            total = rows[(usubjid, visit.code, "SLEDTOT")]
            assert int(Decimal(total["RSSTRESN"])) == score["total"]
            assert total["RSCAT"] == "SLEDAI-2K"
            counted = 0
            for number, key in enumerate(SLEDAI_ORDER, start=1):
                row = rows[(usubjid, visit.code, f"SLED{number:02d}")]
                if key in score["contributions"]:
                    assert row["RSORRES"] == "Y"
                    counted += int(Decimal(row["RSSTRESN"]))
                elif key in score["missing"]:
                    assert (row["RSORRES"], row["RSSTAT"]) == (None, "NOT DONE")
                else:
                    assert row["RSORRES"] == "N"
            assert counted == score["total"]
            expected += 25
        if "pga" in visit.findings:
            row = rows[(usubjid, visit.code, "PGA")]
            assert Decimal(row["RSORRES"]) == Decimal(str(visit.findings["pga"]))
            assert row["RSEVAL"] == "INVESTIGATOR"
            expected += 1
    assert len(written.rows["RS"]) == expected > 0


def test_define_explains_why_the_scores_are_in_rs(written: Written) -> None:
    define = json.loads((written.out / "define.json").read_text(encoding="utf-8"))
    datasets = {dataset["name"]: dataset for dataset in define["datasets"]}
    assert set(datasets) == {"DM", "AE", "CM", "EX", "LB", "VS", "QS", "RS"}
    assert "SDTMIG 3.3" in datasets["RS"]["comment"]
    terms = {c["name"]: c["terms"] for c in define["codelists"]}
    assert terms["LUPUS-MSC.RSTESTCD"][:2] == ["SLED01", "SLED02"]
    for name, rows in written.rows.items():
        coded = {v["name"]: v["codelist"] for v in datasets[name]["variables"]}
        for row in rows:
            for variable, codelist in coded.items():
                if codelist and terms[codelist] and row[variable] is not None:
                    assert row[variable] in terms[codelist], (name, variable, row[variable])


# --- boundaries -----------------------------------------------------------------------------


def _visit_with(findings: dict[str, Any], scores: dict[str, Any]) -> sdtm.Records:
    protocol = models.ProtocolVersion(id=uuid.uuid4(), protocol_code="demo", title="Demo")
    patient = models.Patient(
        id=uuid.uuid4(),
        protocol_version_id=protocol.id,
        study_code="S01-0009",
        site_id=uuid.uuid4(),
    )
    day = dt.date(2026, 1, 1)
    visit = models.Visit(
        id=uuid.uuid4(), patient_id=patient.id, code="month3", study_day=90, target_date=day,
        window_start=day, window_end=day, visit_date=day, findings=findings, scores=scores,
    )  # fmt: skip
    return sdtm.Records([patient], [], [protocol], [], [], [], [], [], [visit], [])


@pytest.mark.parametrize(("answered", "total"), [(6, None), (7, "30")])
def test_a_facit_total_needs_seven_answered_items(answered: int, total: str | None) -> None:
    """§13 step 4: with 6 of 13 items the score is missing (NOT DONE); with 7 it is given."""
    answers = dict.fromkeys(FACIT_ITEMS[:answered], 2) | {"An16": 9}
    score = None if total is None else Decimal(total)
    records = _visit_with({"facit_f": answers}, {"facit_f": {"score": score}})
    rows = {row["QSTESTCD"]: row for row in sdtm_findings.qs(records).rows}
    assert rows["FACITTOT"]["QSORRES"] == total
    assert rows["FACITTOT"]["QSSTAT"] == (None if total else "NOT DONE")
    assert (rows["An16"]["QSORRES"], rows["An16"]["QSSTAT"]) == ("9", "NOT DONE")
    assert rows["An16"]["QSSTRESN"] is None
    assert len(rows) == answered + 2


def test_a_visit_that_did_not_take_place_gives_no_findings() -> None:
    records = _visit_with({"pga": Decimal("1.5"), "vitals": {"weight_kg": Decimal(60)}}, {})
    assert len(sdtm_findings.rs(records).rows) == len(sdtm_findings.vs(records).rows) == 1
    records.visits[0].visit_date = None
    assert sdtm_findings.rs(records).rows == sdtm_findings.vs(records).rows == []


def test_the_cut_off_keeps_what_started_on_it_and_opens_what_ended_after(
    written: Written,
) -> None:
    records = written.records
    event = min(records.events, key=lambda e: e.onset_on)
    day = event.onset_on
    cut = sdtm.cut_off(records, day)
    assert all(e.onset_on <= day for e in cut.events)
    assert event.id in {e.id for e in cut.events}
    assert all(e.resolved_on is None or e.resolved_on <= day for e in cut.events)
    before = sdtm.cut_off(records, day - dt.timedelta(days=1))
    assert event.id not in {e.id for e in before.events}
    assert all(v.visit_date is None or v.visit_date <= day for v in cut.visits)
    assert all(m.started_on <= day for m in cut.medications)
    assert records.events == written.records.events  # the input is left as it was


def test_batches_give_the_same_files_as_one_read(written: Written, tmp_path: Path) -> None:
    """Patients 3 at a time, rows appended: byte for byte the files of the single read."""
    database = Database(written.url)
    plan = sdtm_export.prepare(database)
    writer = sdtm_write.Writer(tmp_path, "LUPUS-MSC", created=CREATED)
    batches = 0
    for domains in sdtm_export.domains(database, plan, batch_size=3):
        writer.add(domains)
        batches += 1
    writer.close()
    database.dispose()
    assert batches == -(-PATIENTS // 3)
    for path in written.out.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
    assert not list(tmp_path.glob(".*"))


@pytest.mark.parametrize(("age", "written_age"), [(88, 88), (89, 89), (90, 90), (97, 90)])
def test_deidentified_ages_over_89_are_written_as_90(age: int, written_age: int) -> None:
    """Safe Harbor 164.514(b)(2)(i)(C): ages over 89 form one category ("90 or older")."""
    row = dict.fromkeys(DOMAINS["DM"].names)
    row |= {"STUDYID": "DEMO", "DOMAIN": "DM", "USUBJID": "DEMO-S01-0001", "SUBJID": "S01-0001",
            "AGE": age, "BRTHDTC": "1930-02-01", "RFICDTC": "2026-02-27"}  # fmt: skip
    key = PatientKey("S01-0001", "P-ABCDEFGHIJ", 3)
    domain = sdtm.Domain(DOMAINS["DM"], [row])
    shifted = deidentify(domain, {"DEMO-S01-0001": key}, dates="shift", scrub=str).rows[0]
    assert (shifted["AGE"], shifted["BRTHDTC"]) == (written_age, None)
    assert (shifted["USUBJID"], shifted["SUBJID"]) == ("DEMO-P-ABCDEFGHIJ", "P-ABCDEFGHIJ")
    assert shifted["RFICDTC"] == "2026-03-02"  # 27 Feb + 3 days, 2026 not a leap year
    days = deidentify(domain, {"DEMO-S01-0001": key}, dates="days", scrub=str).rows[0]
    assert days["RFICDTC"] is None


@pytest.mark.parametrize(
    ("concept", "unit", "expected"),
    [
        ("creatinine", "mg/dL", "2160-0"),
        ("creatinine", "umol/L", None),
        ("upcr", "g/g", "2890-2"),
        ("upcr", "mg/mmol", None),
        (None, "mg/L", None),
    ],
)
def test_lbloinc_is_left_empty_for_a_unit_of_another_kind_than_the_code(
    concept: Any, unit: str, expected: str | None
) -> None:
    """§15: 2160-0 is Creatinine [Mass/volume], 2890-2 the protein/creatinine [Mass Ratio]; the
    seeded cohort reports neither in µmol/L or mg/mmol, so the rule is checked here."""
    assert sdtm._loinc(concept, unit) == expected
