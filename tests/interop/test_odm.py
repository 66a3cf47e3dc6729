"""ODM 1.3.2 export of a seeded registry, on SQLite and on PostgreSQL, parsed back and checked
against the ODM structure and against the registry's records (issue 8, CDISC).

The official ODM 1.3.2 XML Schema is not available offline here, so the structure is checked by
hand-written rules of the ODM 1.3.2 specification: the root's namespace and attributes; the
order of the children of ``Study`` and ``MetaDataVersion``; the nesting of ``ClinicalData``; that
every OID a ``...Ref``, ``ItemData`` or other reference names is defined once; that every coded
value is in its code list. Values are compared with the registry's records, not with the code.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from lupus_msc.interop import sdtm, sdtm_export
from lupus_msc.interop.odm_write import OdmWriter
from lupus_msc.services.cohort_loader import load
from lupus_msc.store.database import Database

NS = "{http://www.cdisc.org/ns/odm/v1.3}"
PATIENTS = 9
CREATED = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
METADATA_ORDER = (
    "Include", "Protocol", "StudyEventDef", "FormDef", "ItemGroupDef", "ItemDef", "CodeList",
    "ImputationMethod", "Presentation", "ConditionDef", "MethodDef",
)  # fmt: skip
"""ODM 1.3.2 §3.1.1.3: the children of MetaDataVersion, in this order."""
DATA_TYPES = {"integer", "float", "date", "datetime", "time", "text", "string", "double",
              "boolean", "partialDate", "partialDatetime"}  # fmt: skip


@dataclass
class Parsed:
    records: sdtm.Records
    root: ET.Element

    def all(self, tag: str) -> list[ET.Element]:
        return list(self.root.iter(NS + tag))


@pytest.fixture(scope="module")
def parsed(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Parsed:
    """The ODM file written from a seeded registry, on SQLite and on PostgreSQL."""
    folder = tmp_path_factory.mktemp("odm")
    database = Database(database_url)
    database.upgrade()
    load(database, PATIENTS, seed=11)
    with database.reads() as session:
        records = sdtm.read(session)
    plan = sdtm_export.prepare(database)
    writer = OdmWriter(folder, plan.study_oid, plan.visit_numbers, CREATED)
    for domains in sdtm_export.domains(database, plan, batch_size=4):
        writer.add(domains)
    path = writer.close()
    database.dispose()
    return Parsed(records, ET.parse(path).getroot())  # noqa: S314 - the file written above


def _local(element: ET.Element) -> str:
    return element.tag.removeprefix(NS)


def test_the_root_is_an_odm_1_3_2_snapshot(parsed: Parsed) -> None:
    root = parsed.root
    assert root.tag == NS + "ODM"
    assert root.get("ODMVersion") == "1.3.2"
    assert root.get("FileType") == "Snapshot"
    assert root.get("FileOID")
    assert dt.datetime.fromisoformat(root.get("CreationDateTime", "")) == CREATED
    assert [_local(child) for child in root] == ["Study", "ClinicalData"]
    study = root.find(NS + "Study")
    assert study is not None
    assert [_local(child) for child in study] == [
        "GlobalVariables",
        "BasicDefinitions",
        "MetaDataVersion",
    ]
    names = [_local(child) for child in study.find(NS + "GlobalVariables") or []]
    assert names == ["StudyName", "StudyDescription", "ProtocolName"]
    assert not parsed.all("TransactionType")


def test_metadata_children_come_in_the_odm_order(parsed: Parsed) -> None:
    version = parsed.all("MetaDataVersion")[0]
    ranks = [METADATA_ORDER.index(_local(child)) for child in version]
    assert ranks == sorted(ranks)
    assert {_local(child) for child in version} >= {"Protocol", "StudyEventDef", "ItemDef"}
    for item in parsed.all("ItemDef"):
        assert item.get("DataType") in DATA_TYPES
        order = [_local(child) for child in item]
        expected = ("Description", "MeasurementUnitRef", "CodeListRef")
        assert order == sorted(order, key=expected.index)


def test_one_study_event_per_scheduled_visit(parsed: Parsed) -> None:
    """The default protocol's schedule (protocol/default_uc_msc.yaml), by hand."""
    events = [e.get("OID") for e in parsed.all("StudyEventDef")]
    visits = ["screening", "day0", "day7", "month1", "month3", "month6", "month9", "month12",
              "month18", "month24"]  # fmt: skip
    assert events == ["SE.SUBJECT", *(f"SE.{code.upper()}" for code in visits)]
    refs = [r.get("StudyEventOID") for r in parsed.all("StudyEventRef")]
    assert refs == events


DEFINED = {
    "StudyEventOID": "StudyEventDef",
    "FormOID": "FormDef",
    "ItemGroupOID": "ItemGroupDef",
    "ItemOID": "ItemDef",
    "CodeListOID": "CodeList",
    "MeasurementUnitOID": "MeasurementUnit",
}


def test_every_referenced_oid_is_defined_once(parsed: Parsed) -> None:
    for attribute, definition in DEFINED.items():
        oids = Counter(element.get("OID") for element in parsed.all(definition))
        assert oids and max(oids.values()) == 1, definition
        for element in parsed.root.iter():
            if attribute in element.attrib:
                assert element.get(attribute) in oids, (attribute, element.get(attribute))


def test_clinical_data_nests_as_odm_says(parsed: Parsed) -> None:
    clinical = parsed.all("ClinicalData")[0]
    assert clinical.get("MetaDataVersionOID") == parsed.all("MetaDataVersion")[0].get("OID")
    nesting = {
        "ClinicalData": {"SubjectData"},
        "SubjectData": {"StudyEventData"},
        "StudyEventData": {"FormData"},
        "FormData": {"ItemGroupData"},
        "ItemGroupData": {"ItemData"},
        "ItemData": {"MeasurementUnitRef"},
    }
    for element in clinical.iter():
        if _local(element) in nesting:
            assert {_local(child) for child in element} <= nesting[_local(element)]
    forms = {
        f.get("OID"): {r.get("FormOID") for r in f.iter(NS + "FormRef")}
        for f in parsed.all("StudyEventDef")
    }
    groups = {
        f.get("OID"): {r.get("ItemGroupOID") for r in f.iter(NS + "ItemGroupRef")}
        for f in parsed.all("FormDef")
    }
    items = {
        g.get("OID"): {r.get("ItemOID") for r in g.iter(NS + "ItemRef")}
        for g in parsed.all("ItemGroupDef")
    }
    for event in parsed.all("StudyEventData"):
        for form in event:
            assert form.get("FormOID") in forms[event.get("StudyEventOID")]
            for group in form:
                assert group.get("ItemGroupOID") in groups[form.get("FormOID")]
                for item in group:
                    assert item.get("ItemOID") in items[group.get("ItemGroupOID")]


def test_coded_values_are_in_their_code_lists(parsed: Parsed) -> None:
    lists = {
        c.get("OID"): {i.get("CodedValue") for i in c.iter(NS + "CodeListItem")}
        for c in parsed.all("CodeList")
    }
    coded = {}
    for item in parsed.all("ItemDef"):
        ref = item.find(NS + "CodeListRef")
        if ref is not None:
            coded[item.get("OID")] = lists[ref.get("CodeListOID")]
    checked = 0
    for data in parsed.all("ItemData"):
        if data.get("ItemOID") in coded:
            assert data.get("Value") in coded[data.get("ItemOID")], data.attrib
            checked += 1
    assert checked > 0


ZONE = r"(Z|[+-]\d{2}:\d{2})?"
LEXICAL = {
    "integer": r"-?\d+",
    "float": r"-?\d+(\.\d+)?",
    "text": r"(?s).+",
    "date": r"\d{4}-\d{2}-\d{2}",
    "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?" + ZONE,
    "partialDatetime": r"\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?" + ZONE + ")?)?)?",
}
"""ODM 1.3.2 §2.13 (data formats): the values each DataType allows, written by hand."""


def test_every_value_has_the_form_of_its_data_type(parsed: Parsed) -> None:
    """SDTM --DTC values keep the precision collected (a visit's vitals: a date; an infusion's:
    a date-time), so they are ODM partialDatetime; a datetime item would refuse the dates."""
    types = {item.get("OID"): item.get("DataType", "") for item in parsed.all("ItemDef")}
    seen: Counter[str] = Counter()
    for data in parsed.all("ItemData"):
        kind = types[data.get("ItemOID")]
        assert re.fullmatch(LEXICAL[kind], data.get("Value", "")), (kind, data.attrib)
        seen[kind] += 1
    assert seen["partialDatetime"] and seen["date"] and seen["float"] and seen["integer"]
    assert types["IT.VS.VSDTC"] == "partialDatetime"


def _items(group: ET.Element) -> dict[str, str]:
    return {d.get("ItemOID", "").split(".")[-1]: d.get("Value", "") for d in group}


def _subject(parsed: Parsed, key: str) -> ET.Element:
    found = [s for s in parsed.all("SubjectData") if s.get("SubjectKey") == key]
    assert len(found) == 1
    return found[0]


def test_subjects_and_their_values_match_the_registry(parsed: Parsed) -> None:
    records = parsed.records
    found = sdtm.subjects(records)
    keys = [s.get("SubjectKey") for s in parsed.all("SubjectData")]
    assert keys == sorted(found[p.id].usubjid for p in records.patients)
    for patient in records.patients:
        subject = _subject(parsed, found[patient.id].usubjid)
        dm = subject.find(f".//{NS}ItemGroupData[@ItemGroupOID='IG.DM']")
        assert dm is not None
        values = _items(dm)
        assert values["SUBJID"] == patient.study_code
        assert values["BRTHDTC"] == patient.date_of_birth.isoformat()
    visits = {visit.id: visit for visit in records.visits}
    labs = [lab for lab in records.labs if not lab.superseded and visits[lab.visit_id].visit_date]
    assert len(parsed.root.findall(f".//{NS}ItemGroupData[@ItemGroupOID='IG.LB']")) == len(labs)
    for lab in labs[:40]:
        visit = visits[lab.visit_id]
        subject = _subject(parsed, found[visit.patient_id].usubjid)
        event = subject.find(f"{NS}StudyEventData[@StudyEventOID='SE.{visit.code.upper()}']")
        assert event is not None
        rows = [
            _items(group)
            for group in event.iter(NS + "ItemGroupData")
            if group.get("ItemGroupOID") == "IG.LB"
        ]
        testcd, _, spec = sdtm.LAB_TESTS[lab.analyte]
        match = [r for r in rows if (r["LBTESTCD"], r["LBSPEC"]) == (testcd, spec)]
        assert len(match) == 1
        assert Decimal(match[0]["LBORRES"]) == lab.value
        assert match[0]["LBORRESU"] == lab.unit


def test_a_lab_value_names_its_unit_and_scores_are_there(parsed: Parsed) -> None:
    values = [d for d in parsed.all("ItemData") if d.get("ItemOID") == "IT.LB.LBSTRESN"]
    assert values
    for data in values:
        unit = data.find(NS + "MeasurementUnitRef")
        assert unit is not None and unit.get("MeasurementUnitOID", "").startswith("MU.")
    done = [v for v in parsed.records.visits if v.visit_date is not None]
    totals = [v.scores["sledai2k"]["total"] for v in done if "sledai2k" in v.scores]
    found = [
        int(Decimal(_items(g)["RSSTRESN"]))
        for g in parsed.all("ItemGroupData")
        if g.get("ItemGroupOID") == "IG.RS" and _items(g).get("RSTESTCD") == "SLEDTOT"
    ]
    assert sorted(found) == sorted(totals)
    facit = [g for g in parsed.all("ItemGroupData") if _items(g).get("QSTESTCD") in {"HI7", "An5"}]
    answered = sum(key in (v.findings.get("facit_f") or {}) for v in done for key in ("HI7", "An5"))
    assert len(facit) == answered > 0
    text = ET.tostring(parsed.root, encoding="unicode")
    assert all(str(p.id) not in text for p in parsed.records.patients)


def test_an_empty_registry_gives_a_well_formed_file(tmp_path: Path) -> None:
    with OdmWriter(tmp_path, "EMPTY", {"day0": 1}, CREATED) as writer:
        path = writer.close()
    root = ET.parse(path).getroot()  # noqa: S314 - the file written above
    assert [_local(c) for c in root] == ["Study", "ClinicalData"]
    assert not root.findall(f".//{NS}SubjectData")
