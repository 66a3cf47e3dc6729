"""De-identified FHIR resources (Safe Harbor, as ``interop.deidentify`` documents it), issue 8.

Applied to a resource's JSON form with the key of the patient it belongs to (``FhirKey``):

* **Patient** — keeps ``gender`` only, plus an identifier in ``PSEUDONYM_SYSTEM`` holding the
  pseudonym, which is also its id. Names, the study code, the date of birth (Safe Harbor (A),
  (C), (R)) and anything else are dropped. The age stays, as the tabular, SDTM and REDCap
  de-identified exports keep it: the extension ``AGE_EXTENSION`` holds the completed years of
  age on the day of the first infusion (``FhirKey.first_infusion``, the analysis dataset's
  ``age_years``) as an R4 ``valueAge`` in UCUM years (``a``). An age above 89 is sent as
  ``>= 90``, never the real one (Safe Harbor (C): ages over 89 aggregated into one category of
  90 or older). A patient never infused has no age at the first infusion, so no extension.
* **Ids and references** — the Patient's id is the pseudonym; every other resource's id is
  ``<pseudonym>-<UUID>``, the UUID derived (UUID5) from the record's id under the patient's
  secret key id, which never leaves the database. So ids are stable from one export to the
  next, the registry's own ids are never shown, and a reader can tell whose resource it is
  without learning who. ``ResearchStudy`` (a protocol, not a person) keeps its id.
* **Identifiers** of other resources — dropped: the lot's chain-of-identity code (item (R),
  a unique code linked to the patient); the consent form version is kept (it names a form).
* **Dates** — every date and date-time anywhere in the resource moves by the patient's offset
  (days; a date-time keeps its time of day), so intervals stay exact. FHIR has no "day n"
  form, so the ``days`` form of the tabular exports has no FHIR counterpart.
* **Free text** — any word of a string that is one of the patient's identifying words (names,
  study code, record number: ``identifiers``) becomes ``[redacted]``; codes, systems and
  references are not free text and are left alone.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from fhir.resources.R4B.age import Age

from lupus_msc.interop.fhir_common import BASE, UCUM_SYSTEM, Part, Shared
from lupus_msc.interop.free_text import WORD, scrub
from lupus_msc.interop.sdtm import age_on
from lupus_msc.interop.sdtm_deidentify import AGED_OVER, OLDEST_AGE

PSEUDONYM_SYSTEM = f"{BASE}/sid/pseudonym"
AGE_EXTENSION = f"{BASE}/StructureDefinition/age-at-first-infusion"
"""De-identified Patient extension, ``valueAge``: the age on the first infusion day (module doc)."""
YEARS = "a"
"""UCUM's year (annum), the unit and code of the age."""
KEEPS_IDS = frozenset({"ResearchStudy"})
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T.*)?$")
REFERENCE = re.compile(r"^([A-Za-z]+)/(.+)$")
NOT_TEXT = frozenset({"system", "code", "reference", "url", "resourceType", "id", "status"})
"""Keys whose string values are codes or links, not text: never scrubbed."""
CACHED = 16_384
"""Strings whose shifted, rewritten or split form is kept (they repeat: codes, displays, a
patient's visit dates and references); bounded, so memory stays flat over a long export."""


@dataclass(frozen=True)
class FhirKey:
    """A patient's de-identification key as the FHIR view uses it."""

    patient_id: uuid.UUID
    pseudonym: str
    offset_days: int
    secret: uuid.UUID
    identifiers: frozenset[str] = frozenset()
    """The patient's identifying words, lower case (names, study code, record number)."""
    first_infusion: dt.date | None = None
    """The day of the patient's first infusion (UTC), the reference of the age; None if never
    infused."""


def resource_id(key: FhirKey, original: str) -> str:
    """The de-identified id of a resource of the patient whose original id is ``original``."""
    return f"{key.pseudonym}-{uuid.uuid5(key.secret, original)}"


@lru_cache(maxsize=CACHED)
def _shift(text: str, days: int) -> str:
    if text[4:5] != "-":  # DATE needs it: most strings are not dates, and skip the regex
        return text
    match = DATE.match(text)
    if match is None:
        return text
    try:
        day = dt.date.fromisoformat(match[1])
    except ValueError:
        return text
    return (day + dt.timedelta(days=days)).isoformat() + (match[2] or "")


@lru_cache(maxsize=CACHED)
def _reference(text: str, key: FhirKey) -> str:
    match = REFERENCE.match(text)
    if match is None or match[1] in KEEPS_IDS:
        return text
    if match[1] == "Patient" and match[2] == str(key.patient_id):
        return f"Patient/{key.pseudonym}"
    return f"{match[1]}/{resource_id(key, match[2])}"


@lru_cache(maxsize=CACHED)
def _words(text: str) -> frozenset[str]:
    return frozenset(word.lower() for word in WORD.findall(text))


def _string(text: str, name: str, key: FhirKey) -> str:
    if name == "reference":
        return _reference(text, key)
    shifted = _shift(text, key.offset_days)
    if shifted != text or name in NOT_TEXT:
        return shifted
    # scrub changes only the words that are identifiers: none, nothing to scrub
    return text if _words(text).isdisjoint(key.identifiers) else scrub(text, key.identifiers)


Memo = dict[tuple[int, int], tuple[Shared, "FhirKey", dict[str, Any]]]
"""De-identified copies of shared elements (``fhir_common.Shared``: a Part's JSON form) by the
element's and the key's identity; each entry holds both, so neither id can be reused while
the memo lives. The walk is a function of the element and the key alone, and a shared element
is never mutated, so a copy made once serves every resource of the patient that uses it."""


def _walk(value: Any, key: FhirKey, name: str, memo: Memo | None) -> Any:
    kind = type(value)
    if kind is str:
        return _string(value, name, key)
    if kind is Shared and memo is not None:
        slot = (id(value), id(key))
        found = memo.get(slot)
        if found is not None and found[0] is value and found[1] is key:
            return found[2]
        copy = {k: _walk(v, key, k, memo) for k, v in value.items() if k != "identifier"}
        memo[slot] = (value, key, copy)
        return copy
    if isinstance(value, dict):
        return {k: _walk(v, key, k, memo) for k, v in value.items() if k != "identifier"}
    if isinstance(value, list):
        return [_walk(item, key, name, memo) for item in value]
    return value


@lru_cache(maxsize=AGED_OVER + 1)
def _age(years: int) -> Shared:
    """The R4 Age of ``years`` whole years, at most ``AGED_OVER``, which is sent as ``>= 90``."""
    comparator = ">=" if years > OLDEST_AGE else None
    age = Age(
        value=Decimal(years), comparator=comparator, unit=YEARS, system=UCUM_SYSTEM, code=YEARS
    )
    return Part(age).json


def _age_extension(patient: dict[str, Any], key: FhirKey) -> list[dict[str, Any]]:
    """The Patient's ``AGE_EXTENSION``, in a list; empty without a first infusion or a full
    birth date."""
    born = patient.get("birthDate")
    if key.first_infusion is None or born is None or len(born) != len("YYYY-MM-DD"):
        return []
    years = age_on(dt.date.fromisoformat(born), key.first_infusion)
    return [{"url": AGE_EXTENSION, "valueAge": _age(min(years, AGED_OVER))}]


def deidentify(resource: dict[str, Any], key: FhirKey, memo: Memo | None = None) -> dict[str, Any]:
    """The de-identified copy of ``resource`` (JSON form) of the patient ``key`` belongs to;
    ``resource`` itself is left as it was (its elements may be shared with other resources).
    With a ``memo`` (the bulk export keeps one per batch), shared elements are de-identified
    once per patient, and copies made with the same memo share those elements."""
    kind = resource["resourceType"]
    if kind == "Patient":
        age = _age_extension(resource, key)
        return {
            "resourceType": "Patient",
            "id": key.pseudonym,
            **({"extension": age} if age else {}),
            "identifier": [{"system": PSEUDONYM_SYSTEM, "value": key.pseudonym}],
            **({"gender": resource["gender"]} if "gender" in resource else {}),
        }
    copy: dict[str, Any] = {}
    for name, value in resource.items():
        if name == "identifier":
            if kind == "Consent" and value:  # the form version: it names a form, not a person
                copy[name] = value
        elif name == "id" and kind not in KEEPS_IDS:
            copy[name] = resource_id(key, value)
        else:
            copy[name] = _walk(value, key, name, memo)
    return copy
