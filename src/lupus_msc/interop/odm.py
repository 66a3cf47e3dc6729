"""CDISC ODM 1.3.2 of the registry: the study's metadata and its clinical data (issue 8).

Pure builders of ``xml.etree.ElementTree`` elements (no namespace on the elements: the writer
``odm_write`` declares the ODM namespace ``http://www.cdisc.org/ns/odm/v1.3`` as the default on
the root, which every child inherits). The content is the SDTM-style domains
(``sdtm_export.build``), so an ODM file and the Dataset-JSON files say the same thing, with the
same OIDs (``IG.<domain>``, ``IT.<domain>.<variable>``, ``MDV.<study>``):

* ``Study`` — ``GlobalVariables``; ``BasicDefinitions`` with one ``MeasurementUnit`` per
  standard lab unit (``services.visit_labs.ANALYTES``); one ``MetaDataVersion`` whose children
  come in the order ODM 1.3.2 prescribes: ``Protocol`` (``StudyEventRef`` to every event),
  ``StudyEventDef``, ``FormDef``, ``ItemGroupDef``, ``ItemDef``, ``CodeList``.
* Events: one ``StudyEventDef`` per protocol visit (``SE.<VISIT>``, Type Scheduled, in
  ``VISITNUM`` order) with the visit forms VS, LB, QS, RS; and ``SE.SUBJECT`` (Type Common) for
  what belongs to the patient rather than a visit: DM, AE, CM, EX.
* One ``FormDef`` (``F.<domain>``) and one ``ItemGroupDef`` per domain, repeating except DM;
  an ``ItemDef`` per variable except those the hierarchy carries (``STUDYID``, ``DOMAIN``,
  ``USUBJID`` → ``SubjectData/@SubjectKey``; ``VISITNUM``, ``VISIT``, ``VISITDY`` → the study
  event). DataType: string → text, integer → integer, decimal → float, date → date,
  datetime → partialDatetime (``DATA_TYPES``). A ``CodeListRef`` where the variable's
  codelist is a closed list (``sdtm_metadata.TERMS``); ``LBSTRESN`` lists the lab units, and
  each of its ``ItemData`` names its unit with a ``MeasurementUnitRef``.
* ``ClinicalData``: one ``SubjectData`` per patient (``SubjectKey`` = ``USUBJID``), its
  ``StudyEventData`` (``SE.SUBJECT`` first, then visits), ``FormData``, ``ItemGroupData``
  (``ItemGroupRepeatKey`` = the record's ``--SEQ``) and an ``ItemData`` for every value present.
  ``FileType`` is Snapshot, so no ``TransactionType`` is written.

``AdminData`` (sites, users) is not written, so ``SubjectData`` carries no ``SiteRef``; the site
is the DM item ``SITEID``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from lupus_msc.interop.sdtm import Domain, Row
from lupus_msc.interop.sdtm_metadata import DOMAINS, TERMS, DomainSpec, Variable
from lupus_msc.services.visit_labs import ANALYTES

NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
ODM_VERSION = "1.3.2"
SUBJECT_EVENT = "SE.SUBJECT"
SUBJECT_FORMS = ("DM", "AE", "CM", "EX")
VISIT_FORMS = ("VS", "LB", "QS", "RS")
CARRIED = frozenset({"STUDYID", "DOMAIN", "USUBJID", "VISITNUM", "VISIT", "VISITDY"})
DATA_TYPES = {
    "string": "text",
    "integer": "integer",
    "decimal": "float",
    "date": "date",
    "datetime": "partialDatetime",
}
"""SDTM type → ODM DataType. SDTM --DTC values keep the precision collected (ISO 8601 with
the right end cut: a visit's vitals carry a date, an infusion's a date-time), which is ODM
1.3.2's partialDatetime; its datetime would refuse a date alone."""
LAB_UNITS = tuple(sorted({analyte.unit for analyte in ANALYTES.values()}))
UNIT_ITEM = ("LB", "LBSTRESN", "LBSTRESU")
"""The item whose ``ItemData`` names its unit, and the variable holding that unit."""


def event_oid(visit: str) -> str:
    return f"SE.{visit.upper()}"


def unit_oid(unit: str) -> str:
    return f"MU.{unit}"


def item_oid(spec: DomainSpec, variable: Variable) -> str:
    return f"IT.{spec.name}.{variable.name}"


def items(spec: DomainSpec) -> list[Variable]:
    """The variables of ``spec`` written as items (those the hierarchy does not carry)."""
    return [variable for variable in spec.variables if variable.name not in CARRIED]


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(ET.SubElement(parent, tag), "TranslatedText").text = text


def _global(study: ET.Element, study_oid: str, description: str) -> None:
    variables = ET.SubElement(study, "GlobalVariables")
    ET.SubElement(variables, "StudyName").text = study_oid
    ET.SubElement(variables, "StudyDescription").text = description
    ET.SubElement(variables, "ProtocolName").text = study_oid
    units = ET.SubElement(study, "BasicDefinitions")
    for unit in LAB_UNITS:
        element = ET.SubElement(units, "MeasurementUnit", OID=unit_oid(unit), Name=unit)
        _text(element, "Symbol", unit)


def _events(version: ET.Element, visits: list[str]) -> None:
    protocol = ET.SubElement(version, "Protocol")
    events = [(SUBJECT_EVENT, "Subject", "Common", SUBJECT_FORMS)]
    events += [(event_oid(visit), visit, "Scheduled", VISIT_FORMS) for visit in visits]
    for order, (oid, *_rest) in enumerate(events, start=1):
        ET.SubElement(
            protocol, "StudyEventRef", StudyEventOID=oid, OrderNumber=str(order), Mandatory="No"
        )
    for oid, name, kind, forms in events:
        event = ET.SubElement(
            version, "StudyEventDef", OID=oid, Name=name, Repeating="No", Type=kind
        )
        for order, form in enumerate(forms, start=1):
            ET.SubElement(
                event, "FormRef", FormOID=f"F.{form}", OrderNumber=str(order), Mandatory="No"
            )


def _forms(version: ET.Element, specs: Iterable[DomainSpec]) -> None:
    for spec in specs:
        form = ET.SubElement(version, "FormDef", OID=f"F.{spec.name}", Name=spec.label)
        form.set("Repeating", "No")
        ET.SubElement(form, "ItemGroupRef", ItemGroupOID=f"IG.{spec.name}", Mandatory="Yes")
    for spec in specs:
        group = ET.SubElement(version, "ItemGroupDef", OID=f"IG.{spec.name}", Name=spec.name)
        group.set("Repeating", "No" if spec.name == "DM" else "Yes")
        group.set("SASDatasetName", spec.name)
        group.set("Domain", spec.name)
        group.set("Purpose", "Tabulation")
        _text(group, "Description", spec.label)
        for order, variable in enumerate(items(spec), start=1):
            ref = ET.SubElement(group, "ItemRef", ItemOID=item_oid(spec, variable))
            ref.set("OrderNumber", str(order))
            ref.set("Mandatory", "Yes" if variable.name in spec.keys else "No")
            if variable.name in spec.keys:
                ref.set("KeySequence", str(spec.keys.index(variable.name) + 1))


def _closed(codelist: str | None) -> bool:
    return codelist is not None and bool(TERMS.get(codelist))


def _items(version: ET.Element, specs: Iterable[DomainSpec]) -> set[str]:
    """The ItemDefs; returns the codelists they refer to."""
    used: set[str] = set()
    for spec in specs:
        for variable in items(spec):
            item = ET.SubElement(version, "ItemDef", OID=item_oid(spec, variable))
            item.set("Name", variable.name)
            item.set("DataType", DATA_TYPES[variable.data_type])
            item.set("SDSVarName", variable.name)
            _text(item, "Description", variable.label)
            if (spec.name, variable.name) == UNIT_ITEM[:2]:
                for unit in LAB_UNITS:
                    ET.SubElement(item, "MeasurementUnitRef", MeasurementUnitOID=unit_oid(unit))
            if variable.codelist is not None and _closed(variable.codelist):
                ET.SubElement(item, "CodeListRef", CodeListOID=f"CL.{variable.codelist}")
                used.add(variable.codelist)
    return used


def _codelists(version: ET.Element, names: Iterable[str]) -> None:
    for name in sorted(names):
        codelist = ET.SubElement(version, "CodeList", OID=f"CL.{name}", Name=name)
        codelist.set("DataType", "text")
        for value in TERMS[name]:
            entry = ET.SubElement(codelist, "CodeListItem", CodedValue=value)
            _text(entry, "Decode", value)


def study(
    study_oid: str, visit_numbers: Mapping[str, int], specs: Mapping[str, DomainSpec] = DOMAINS
) -> ET.Element:
    """The ``Study`` element: global variables, units and the metadata version."""
    element = ET.Element("Study", OID=study_oid)
    _global(element, study_oid, "lupus-msc registry: SDTM-style domains as ODM")
    version = ET.SubElement(
        element, "MetaDataVersion", OID=f"MDV.{study_oid}", Name="lupus-msc SDTM-style data"
    )
    _events(version, sorted(visit_numbers, key=lambda code: visit_numbers[code]))
    ordered = [specs[name] for name in (*SUBJECT_FORMS, *VISIT_FORMS) if name in specs]
    _forms(version, ordered)
    _codelists(version, _items(version, ordered))
    return element


def _value(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _group(form: ET.Element, spec: DomainSpec, row: Row) -> None:
    group = ET.SubElement(form, "ItemGroupData", ItemGroupOID=f"IG.{spec.name}")
    if spec.name != "DM":
        group.set("ItemGroupRepeatKey", str(row[f"{spec.name}SEQ"]))
    for variable in items(spec):
        value = row[variable.name]
        if value is None:
            continue
        data = ET.SubElement(
            group, "ItemData", ItemOID=item_oid(spec, variable), Value=_value(value)
        )
        if (spec.name, variable.name) == UNIT_ITEM[:2] and row[UNIT_ITEM[2]] is not None:
            ET.SubElement(data, "MeasurementUnitRef", MeasurementUnitOID=unit_oid(row["LBSTRESU"]))


def _event(subject: ET.Element, oid: str, forms: Mapping[str, list[Row]]) -> None:
    event = ET.SubElement(subject, "StudyEventData", StudyEventOID=oid)
    for name, rows in forms.items():
        form = ET.SubElement(event, "FormData", FormOID=f"F.{name}")
        for row in rows:
            _group(form, DOMAINS[name], row)


def subject_data(
    usubjid: str, rows: Mapping[str, list[Row]], visit_numbers: Mapping[str, int]
) -> ET.Element:
    """One patient's ``SubjectData`` from their rows of each domain (by domain name)."""
    subject = ET.Element("SubjectData", SubjectKey=usubjid)
    common = {name: rows[name] for name in SUBJECT_FORMS if rows.get(name)}
    if common:
        _event(subject, SUBJECT_EVENT, common)
    visits: dict[str, dict[str, list[Row]]] = defaultdict(dict)
    for name in VISIT_FORMS:
        for row in rows.get(name, ()):
            visits[row["VISIT"]].setdefault(name, []).append(row)
    for visit in sorted(visits, key=lambda code: visit_numbers[code]):
        _event(subject, event_oid(visit), visits[visit])
    return subject


def subjects(domains: Mapping[str, Domain], visit_numbers: Mapping[str, int]) -> list[ET.Element]:
    """``SubjectData`` of every patient of a batch, in ``USUBJID`` order."""
    by_subject: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for name, domain in domains.items():
        for row in domain.rows:
            by_subject[row["USUBJID"]][name].append(row)
    return [subject_data(key, by_subject[key], visit_numbers) for key in sorted(by_subject)]
