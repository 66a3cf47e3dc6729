"""Lab results received as a FHIR R4 Bundle of Observations (issue 8): ``parse`` reads and maps
the Bundle, without the database; ``import_bundle`` hands the results to ``services.lab_import``,
which places them on visits and writes them.

Every entry is read with the ``fhir.resources`` **R4B** models (the package's default is R5) and
checked against the registry's own lab rules, and *every* problem is collected, each naming its
entry and field (``Bundle.entry[3].resource.valueQuantity.code``), so a sender fixes a Bundle in
one round. The rules:

* ``Bundle.type`` is ``batch``, ``transaction`` or ``collection`` (FHIR R4 Bundle); an entry's
  ``request`` is not read: each Observation is a result the registry does not have yet.
* An entry is an Observation, or a Patient that an Observation's subject points to. A Patient
  entry only identifies (it must carry the study code); the import never creates or changes a
  patient. Any other resource is refused.
* ``status`` is ``final``, ``amended`` or ``corrected``: results not yet final, cancelled or
  entered in error are refused (FHIR R4 ObservationStatus). ``amended``/``corrected`` results may
  replace a different stored result of the same analyte (``services.lab_import``).
* ``subject`` names the patient by study code (``fhir_common.STUDY_CODE_SYSTEM``): as
  ``subject.identifier``, as a conditional reference ``Patient?identifier=<system>|<code>``
  (FHIR R4 RESTful API, conditional references), or as a reference to a Patient entry of the
  Bundle (its ``fullUrl``, or ``Patient/<id>``). A sender's resource id alone means nothing
  here and is refused.
* ``code``: a LOINC coding that instruments.md §15 assigns to an analyte the registry records
  (``services.visit_labs.ANALYTES``; §15's alternative ESR code too), or the local lab code
  (``fhir_common.LAB_SYSTEM``, the analyte key). Codings of other systems are ignored beside a
  recognised one. Codes §15 records as misused for a concept (D20) are refused with the reason;
  eGFR is refused because the registry computes it from creatinine (§9).
* ``valueQuantity`` with a UCUM code (``http://unitsofmeasure.org``) that the registry accepts
  for the analyte (``fhir_common.UCUM`` spells the registry's units in UCUM); a value with a
  comparator (``<5``) is refused: the registry keeps exact numbers (§0.3, values as reported).
  Every analyte the registry records is a number, so ``valueString`` and the like are refused.
  The value must be plausible (``visit_labs.check``).
* The date is ``effectiveDateTime`` (or ``effectiveInstant``, ``effectivePeriod.start``), a full
  date; a date-time counts on the calendar day written in it (the sender's local day, not UTC).
* ``referenceRange``: at most one, its ``low``/``high`` in the value's unit; carried into the
  result's reference range (SLEDAI-2K reads the lab's own limits, §1).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qs

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from pydantic import ValidationError

from lupus_msc.clinical import codes
from lupus_msc.interop.fhir_common import LAB_SYSTEM, STUDY_CODE_SYSTEM, UCUM_SYSTEM, ucum
from lupus_msc.services import lab_import
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import Invalid
from lupus_msc.services.lab_import import ImportSummary, LabEntry, Problem
from lupus_msc.services.visit_labs import ANALYTES, LabIn, check
from lupus_msc.store.database import Database

BUNDLE_TYPES = ("batch", "transaction", "collection")
STATUSES = ("final", "amended", "corrected")
CORRECTIONS = ("amended", "corrected")
EGFR = ("egfr_ckdepi2021_cr", "egfr_ckdepi2021_cr_cys")
T = TypeVar("T")


@dataclass(frozen=True)
class ParsedBundle:
    bundle_id: str | None
    labs: tuple[LabEntry, ...]
    problems: tuple[Problem, ...]


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class _Reading:
    """The Patients of the Bundle (by fullUrl and by ``Patient/<id>``) and the problems found."""

    patients: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, entry: int | None, field: str, message: str) -> None:
        place = _where(entry)
        path = f"{place}.{field}" if field else place
        self.problems.append(Problem(path, message, -1 if entry is None else entry))


def _where(entry: int | None) -> str:
    return "Bundle" if entry is None else f"Bundle.entry[{entry}].resource"


def _loinc_analytes() -> dict[str, str]:
    found: dict[str, str] = {}
    for key, analyte in ANALYTES.items():
        if analyte.concept is not None:
            for code in (
                codes.LOINC[analyte.concept].code,
                *codes.ALSO_ACCEPTED.get(analyte.concept, ()),
            ):
                found[code] = key
    return found


LOINC_ANALYTES = _loinc_analytes()
"""LOINC code → registry analyte (§15 codes of the analytes ``ANALYTES`` records)."""


def parse(document: str | Mapping[str, Any]) -> ParsedBundle:
    """The Bundle's lab results, or every problem that keeps it from being imported."""
    reading = _Reading()
    raw = _document(document, reading)
    if raw is None:
        return ParsedBundle(None, (), tuple(reading.problems))
    entries = _entries(raw, reading)
    observations = _resources(entries, reading)
    if entries and not any(_kind(item) == "Observation" for item in entries):
        reading.add(None, "entry", "holds no Observation: there is nothing to import")
    labs = []
    for index, observation in observations:
        lab = _lab_entry(index, observation, reading)
        if lab is not None:
            labs.append(lab)
    bundle_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    problems = sorted(reading.problems, key=lambda problem: problem.order)
    return ParsedBundle(bundle_id, tuple(labs), tuple(problems))


def import_bundle(
    database: Database,
    actor: Actor | None,
    bundle: str | Mapping[str, Any],
    *,
    dry_run: bool = False,
) -> ImportSummary:
    """Import the Bundle's lab results (this module's rules and ``services.lab_import``'s), or
    raise ``lab_import.ImportRefused`` (HTTP 422) listing every problem, nothing written;
    ``Forbidden`` for an actor who may not record visits. ``actor`` None: the system (CLI)."""
    parsed = parse(bundle)
    source = f"FHIR Bundle {parsed.bundle_id or '(no id)'}"
    return lab_import.record_results(
        database, actor, parsed.labs, parsed.problems, source=source, dry_run=dry_run
    )


def _document(document: str | Mapping[str, Any], reading: _Reading) -> Mapping[str, Any] | None:
    if isinstance(document, str):
        try:
            document = json.loads(document, parse_float=Decimal)
        except json.JSONDecodeError as error:
            reading.add(None, "", f"is not JSON: {error}")
            return None
    if not isinstance(document, Mapping) or document.get("resourceType") != "Bundle":
        reading.add(None, "resourceType", "must be Bundle")
        return None
    return document


def _entries(raw: Mapping[str, Any], reading: _Reading) -> list[Any]:
    """The entries, once the Bundle around them is a valid R4 Bundle of an accepted type."""
    entries = raw.get("entry")
    entries = [] if entries is None else entries
    listed = isinstance(entries, list)
    shell = {**raw, "entry": [_without_resource(item) for item in entries] if listed else entries}
    try:
        kind = Bundle.model_validate(shell).type
    except ValidationError as error:
        for detail in error.errors():
            reading.add(None, _dotted(detail["loc"]), detail["msg"])
        kind = raw.get("type")
    if kind not in BUNDLE_TYPES:
        reading.add(None, "type", f"{kind} is not imported; send a {', '.join(BUNDLE_TYPES)}")
    if listed and not entries:
        reading.add(None, "entry", "is empty: there is nothing to import")
    return entries if listed else []


def _without_resource(item: Any) -> Any:
    return {k: v for k, v in item.items() if k != "resource"} if isinstance(item, dict) else item


def _dotted(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _resources(entries: list[Any], reading: _Reading) -> list[tuple[int, Observation]]:
    """Each entry's resource read with its R4B model: Patients noted, Observations returned."""
    observations = []
    for index, item in enumerate(entries):
        kind = _kind(item)
        if kind not in ("Observation", "Patient"):
            what = "no resource" if kind is None else f"a {kind}"
            reading.add(
                index,
                "resourceType",
                f"{what} is not imported: only Observations "
                "(lab results) and the Patients they refer to",
            )
            continue
        model = Observation if kind == "Observation" else Patient
        try:
            parsed = model.model_validate(item["resource"])
        except ValidationError as error:
            for detail in error.errors():
                reading.add(index, _dotted(detail["loc"]), detail["msg"])
            continue
        if isinstance(parsed, Observation):
            observations.append((index, parsed))
        else:
            _note_patient(index, item.get("fullUrl"), parsed, reading)
    return observations


def _kind(item: Any) -> Any:
    resource = item.get("resource") if isinstance(item, dict) else None
    return resource.get("resourceType") if isinstance(resource, dict) else None


def _note_patient(index: int, full_url: Any, patient: Patient, reading: _Reading) -> None:
    found = [i.value for i in patient.identifier or [] if i.system == STUDY_CODE_SYSTEM and i.value]
    if not found:
        reading.add(index, "identifier", f"carries no study code (system {STUDY_CODE_SYSTEM})")
        return
    if isinstance(full_url, str):
        reading.patients[full_url] = found[0]
    if patient.id:
        reading.patients[f"Patient/{patient.id}"] = found[0]


def _lab_entry(index: int, observation: Observation, reading: _Reading) -> LabEntry | None:
    """One Observation as a lab result, or None with each rule it breaks noted."""

    def attempt(step: Callable[[], T]) -> T | None:
        try:
            return step()
        except _Refused as refused:
            reading.add(index, refused.field, refused.message)
            return None

    status = attempt(lambda: _status(observation))
    study_code = attempt(lambda: _study_code(observation.subject, reading))
    coded = attempt(lambda: _analyte(observation))
    lab = None if coded is None else attempt(lambda: _lab(observation, *coded))
    dated = attempt(lambda: _day(observation))
    if status is None or study_code is None or lab is None or dated is None:
        return None
    day_field, day = dated
    return LabEntry(index, _where(index), study_code, day, day_field, lab, status in CORRECTIONS)


def _status(observation: Observation) -> str:
    if observation.status is None:
        raise _Refused("status", f"is required: {', '.join(STATUSES)}")
    if observation.status not in STATUSES:
        raise _Refused(
            "status",
            f"{observation.status} results are not imported; only {', '.join(STATUSES)}",
        )
    return observation.status


def _lab(observation: Observation, analyte: str, loinc: str | None) -> LabIn:
    """The result as the registry's lab input, checked by the registry's own lab rules."""
    value, unit, code = _value(observation, analyte)
    low, high = _range(observation, code)
    given = {"analyte": analyte, "value": value, "unit": unit, "loinc": loinc}
    try:
        lab = LabIn.model_validate({**given, "reference_low": low, "reference_high": high})
        check([lab])
    except ValidationError as error:
        detail = error.errors()[0]
        name = str(detail["loc"][0])
        raise _Refused(_LAB_FIELDS.get(name, "value[x]"), detail["msg"]) from error
    except Invalid as error:
        name, message = error.fields[0]
        raise _Refused(_LAB_FIELDS.get(name.split(".")[-1], "value[x]"), message) from error
    return lab


_LAB_FIELDS = {
    "value": "valueQuantity.value",
    "unit": "valueQuantity.code",
    "reference_low": "referenceRange[0].low.value",
    "reference_high": "referenceRange[0].high.value",
    "loinc": "code.coding",
}
"""Registry lab field → the Observation element it came from (to name it in a refusal)."""


def _study_code(subject: Reference | None, reading: _Reading) -> str:
    if subject is None:
        raise _Refused("subject", "is required: the patient, by study code")
    if subject.type not in (None, "Patient"):
        raise _Refused("subject.type", f"must be Patient, not {subject.type}")
    named = []
    if subject.identifier is not None:
        if subject.identifier.system != STUDY_CODE_SYSTEM or not subject.identifier.value:
            raise _Refused(
                "subject.identifier", f"must be a study code (system {STUDY_CODE_SYSTEM})"
            )
        named.append(subject.identifier.value)
    if subject.reference is not None:
        named.append(_referenced(subject.reference, reading))
    if not named:
        raise _Refused("subject", "names no patient: give the study code")
    if len(set(named)) > 1:
        raise _Refused("subject", f"names two patients ({' and '.join(named)})")
    return named[0]


def _referenced(reference: str, reading: _Reading) -> str:
    if reference.startswith("Patient?"):
        wanted = parse_qs(reference.removeprefix("Patient?")).get("identifier", [])
        system, _, value = wanted[0].rpartition("|") if len(wanted) == 1 else ("", "", "")
        if system != STUDY_CODE_SYSTEM or not value:
            raise _Refused(
                "subject.reference", f"must search identifier={STUDY_CODE_SYSTEM}|<study code>"
            )
        return value
    if reference in reading.patients:
        return reading.patients[reference]
    raise _Refused(
        "subject.reference",
        f"{reference} is no Patient of this Bundle; name the patient "
        f"by study code (subject.identifier, system {STUDY_CODE_SYSTEM})",
    )


def _analyte(observation: Observation) -> tuple[str, str | None]:
    """The registry analyte the code names, and the LOINC code it was sent with."""
    found: dict[str, str | None] = {}
    for position, coding in enumerate(observation.code.coding or []):
        where = f"code.coding[{position}]"
        if coding.system == codes.LOINC_SYSTEM and coding.code:
            found.setdefault(_loinc_analyte(where, coding.code), coding.code)
        elif coding.system == LAB_SYSTEM and coding.code:
            if coding.code not in ANALYTES:
                raise _Refused(where, f"{coding.code} is not an analyte the registry records")
            found.setdefault(coding.code, None)
    if len(found) > 1:
        raise _Refused("code.coding", f"names several analytes ({', '.join(sorted(found))})")
    if not found:
        given = [f"{c.system}|{c.code}" for c in observation.code.coding or []] or ["no coding"]
        raise _Refused("code", f"no LOINC (§15) or registry lab code: {', '.join(given)}")
    return next(iter(found.items()))


def _loinc_analyte(where: str, code: str) -> str:
    if code in LOINC_ANALYTES:
        return LOINC_ANALYTES[code]
    for (concept, misused), reason in codes.KNOWN_MISUSES.items():
        if misused == code:
            raise _Refused(where, f"LOINC {code} refused for {concept}: {reason}")
    named = [c for c, known in codes.LOINC.items() if known.code == code]
    if named and named[0] in EGFR:
        raise _Refused(
            where,
            f"LOINC {code} (eGFR) is not imported: the registry computes eGFR from creatinine (§9)",
        )
    if named:
        raise _Refused(where, f"LOINC {code} ({named[0]}) is not a result the registry records")
    raise _Refused(where, f"LOINC {code} is not an analyte the registry records")


def _value(observation: Observation, analyte: str) -> tuple[Decimal, str, str]:
    """The value, the registry's spelling of its unit, and the UCUM code it came with."""
    quantity = observation.valueQuantity
    if quantity is None:
        sent = [
            name for name, value in observation if name.startswith("value") and value is not None
        ]
        what = f"{sent[0]} was sent" if sent else "no value was sent"
        raise _Refused("valueQuantity", f"is required: {analyte} is a number ({what})")
    if quantity.comparator is not None:
        raise _Refused(
            "valueQuantity.comparator",
            f"{quantity.comparator} values are not "
            "recorded: the registry keeps exact numbers as reported",
        )
    if quantity.value is None:
        raise _Refused("valueQuantity.value", "is required")
    return quantity.value, *_unit(quantity, analyte, "valueQuantity")


def _unit(quantity: Quantity, analyte: str, where: str) -> tuple[str, str]:
    accepted = {ucum(unit): unit for unit in ANALYTES[analyte].accepted}
    if quantity.system not in (None, UCUM_SYSTEM):
        raise _Refused(f"{where}.system", f"must be {UCUM_SYSTEM} (UCUM), not {quantity.system}")
    if not quantity.code:
        raise _Refused(f"{where}.code", f"a UCUM code is required: {', '.join(accepted)}")
    if quantity.code not in accepted:
        raise _Refused(
            f"{where}.code",
            f"{quantity.code} is not accepted for {analyte}; "
            f"accepted UCUM units: {', '.join(accepted)}",
        )
    return accepted[quantity.code], quantity.code


def _range(observation: Observation, code: str) -> tuple[Decimal | None, Decimal | None]:
    ranges = observation.referenceRange or []
    if len(ranges) > 1:
        raise _Refused("referenceRange", "holds several ranges; the registry keeps one per result")
    if not ranges:
        return None, None
    bounds = []
    for name in ("low", "high"):
        bound = getattr(ranges[0], name)
        if bound is not None and bound.code is not None and bound.code != code:
            raise _Refused(
                f"referenceRange[0].{name}.code",
                f"{bound.code} differs from the value's unit {code}",
            )
        bounds.append(None if bound is None else bound.value)
    return bounds[0], bounds[1]


def _day(observation: Observation) -> tuple[str, dt.date]:
    period = observation.effectivePeriod
    for where, moment in (
        ("effectiveDateTime", observation.effectiveDateTime),
        ("effectiveInstant", observation.effectiveInstant),
        ("effectivePeriod.start", period.start if period is not None else None),
    ):
        if isinstance(moment, dt.datetime):
            return where, moment.date()
        if isinstance(moment, dt.date):
            return where, moment
        if moment is not None:
            raise _Refused(where, f"{moment} is not a full date (YYYY-MM-DD)")
    raise _Refused(
        "effectiveDateTime", "is required (or effectivePeriod.start): the day the sample was taken"
    )
