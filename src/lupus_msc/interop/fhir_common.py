"""What every FHIR builder shares: the project's identifier and code-system URIs, references,
codings and UCUM quantities (issue 8, FHIR R4 exchange view; codes from instruments.md §15).

Resources are built with the ``fhir.resources`` **R4B** models on purpose: the package's default
models are R5. A resource's ``id`` is the registry record's UUID, so references are stable.

Project URIs (ours; none is registered with HL7):

* ``STUDY_CODE_SYSTEM`` — Patient.identifier: the study code (``S01-0001``-style) assigned at
  referral; it identifies the participant across sites and exports.
* ``CHAIN_OF_IDENTITY_SYSTEM`` — BiologicallyDerivedProduct.identifier: the lot's
  chain-of-identity code (``cells.identity``).
* ``SCORE_SYSTEM`` — the local CodeSystem for scores with no LOINC code (§15: SLEDAI-2K,
  FACIT-Fatigue; the PGA too) and their components: ``urn:lupus-msc:score``, the system §15
  names and ``clinical.codes`` uses, so the registry and its FHIR view code scores alike.
* ``LAB_SYSTEM`` — the local CodeSystem for analytes §15 gives no LOINC code for (cystatin C,
  lymphocyte subsets); the code is the registry's analyte key.
* ``CTCAE_GRADE_EXTENSION`` — AdverseEvent extension, ``valueInteger`` 1–5: the CTCAE v5.0
  grade (§12). FHIR R4 has no grade element (R4 ``severity`` is mild/moderate/severe only).

How a resource is built (the bulk export builds about 380 per patient, so this is its hot path):
a builder returns a ``Draft`` — the resource's elements in JSON form, where a coded element,
a Quantity or a Reference is a ``Part``: an R4B element validated by its model once and kept
with its JSON form (``model_dump(mode="json", by_alias=True, exclude_none=True)``), so the
hundreds of identical codings of a batch are validated once, not hundreds of times. Every
resource is still validated by its R4B model (``Draft.resource`` / ``Draft.document``): the
model's own validation of its elements, given the Parts' already validated models, as a
resource built with the R4B constructors was. ``document`` returns the JSON form the model
would dump, assembled from the Draft without dumping it (fhir_core's dump is a Python-level
walk, the slowest step of the export); tests/interop/test_fhir_fast_path.py checks, resource by
resource, that it is what the model parsed from it dumps.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, TypeVar

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic_core import to_jsonable_python

from lupus_msc.clinical.codes import LOCAL_SCORE_SYSTEM, Code

BASE = "https://lupus-msc.org/fhir"
STUDY_CODE_SYSTEM = f"{BASE}/sid/study-code"
CHAIN_OF_IDENTITY_SYSTEM = f"{BASE}/sid/chain-of-identity"
SCORE_SYSTEM = LOCAL_SCORE_SYSTEM
LAB_SYSTEM = f"{BASE}/CodeSystem/labs"
CTCAE_TERM_SYSTEM = f"{BASE}/CodeSystem/ctcae-terms"
TISSUE_SOURCE_EXTENSION = f"{BASE}/StructureDefinition/tissue-source"
CTCAE_GRADE_EXTENSION = f"{BASE}/StructureDefinition/ctcae-grade"
UCUM_SYSTEM = "http://unitsofmeasure.org"

UCUM: dict[str, str] = {
    "IU/mL": "[IU]/mL",
    "g/24h": "g/(24.h)",
    "mg/24h": "mg/(24.h)",
    "mL/min/1.73m2": "mL/min/{1.73_m2}",
}
"""Registry unit spellings that are not valid UCUM, with their UCUM code (and the eGFR's unit,
§9, mL/min per 1.73 m² of body surface); every other unit the registry accepts
(``services.visit_labs.ANALYTES``) is already UCUM (``g/L``, ``10*9/L``, ``/[HPF]``, ``mm/h``…)."""

CACHED = 16_384
"""Parts kept per kind (references, quantities…): about a batch's references (200 patients'
visits), so memory stays bounded; the codings of a registry are far fewer."""

R = TypeVar("R", bound=Resource)
Json = dict[str, Any]


class Shared(dict[str, Any]):
    """A Part's JSON form: shared by the resources that use the Part, so never mutated (the
    de-identification copies one once per patient: ``fhir_deidentify.Memo``)."""

    __slots__ = ()


class Part:
    """An R4B element validated once by its model, with its JSON form (never to be mutated:
    one Part is shared by every resource that uses it). The JSON form is the model's dump;
    ``json`` may give it instead only where it is plainly the same (a Reference's one string),
    which tests/interop/test_fhir_fast_path.py checks on every line written."""

    __slots__ = ("json", "model")

    def __init__(self, model: FHIRAbstractModel, json: Json | None = None) -> None:
        self.model = model
        if json is None:
            json = model.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.json = Shared(json)


def _model_side(value: Any) -> Any:
    kind = type(value)
    if kind is Part:
        return value.model
    if kind is dict:
        return {k: _model_side(v) for k, v in value.items()}
    if kind is list:
        return [_model_side(item) for item in value]
    return value


def _json_side(value: Any) -> Any:
    kind = type(value)
    if kind is Part:
        return value.json
    if kind is dict:
        return {k: _json_side(v) for k, v in value.items()}
    if kind is list:
        return [_json_side(item) for item in value]
    return value


def element(**fields: Any) -> Json:
    """A nested element in JSON form, its fields in the order given (the R4B dump's order, so
    the documents match it byte for byte), unset (None) fields and empty lists left out."""
    return {k: v for k, v in fields.items() if v is not None and v != []}


@cache
def _sequence(model: type[Resource]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The resource's elements in the order its model dumps them (FHIR's element order)."""
    names = tuple(model.elements_sequence())
    return names, frozenset(names)


class Draft:
    """A resource's elements in JSON form (Parts for the validated shared elements), not yet
    validated. ``resource`` validates it into its R4B model; ``document`` validates it and
    returns its JSON form."""

    __slots__ = ("fields", "model")

    def __init__(self, model: type[Resource], **fields: Any) -> None:
        self.model = model
        self.fields = element(**fields)
        unknown = self.fields.keys() - _sequence(model)[1]
        if unknown:  # the JSON name (``class``, not ``class_fhir``), or it would not be written
            raise ValueError(f"{self.kind} has no element {', '.join(sorted(unknown))}")

    @property
    def kind(self) -> str:
        return self.model.get_resource_type()

    def resource(self) -> Resource:
        """The R4B model, validated (ValidationError names the element that is invalid)."""
        return self.model.model_validate(_model_side(self.fields))

    def document(self) -> Json:
        """The JSON form of the validated resource, in its model's element order."""
        self.resource()
        fields = self.fields
        ordered = {"resourceType": self.kind}
        ordered.update(
            (name, _json_side(fields[name])) for name in _sequence(self.model)[0] if name in fields
        )
        return ordered


def built(model: type[R], draft: Draft) -> R:
    """The draft's validated resource, typed as the builder's model (``draft.model``)."""
    if draft.model is not model:
        raise TypeError(f"a {draft.kind} draft is not a {model.get_resource_type()}")
    return model.model_validate(_model_side(draft.fields))


def date(day: dt.date | None) -> str | None:
    """A FHIR date (``YYYY-MM-DD``), or None."""
    return None if day is None else day.isoformat()


def instant(moment: dt.datetime | None) -> str | None:
    """A FHIR dateTime with its offset, as the R4B model dumps it (UTC as ``Z``). Registry
    datetimes are UTC; SQLite returns them naive, FHIR wants an offset."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    text: str = to_jsonable_python(aware)
    return text


def ucum(unit: str) -> str:
    """The UCUM code for a registry unit spelling."""
    return UCUM.get(unit, unit)


@lru_cache(maxsize=CACHED)
def reference(kind: str, record_id: uuid.UUID | str) -> Part:
    """``Patient/<uuid>``: a literal reference to a resource built from a registry record."""
    text = f"{kind}/{record_id}"
    return Part(Reference(reference=text), {"reference": text})


@lru_cache(maxsize=CACHED)
def period(start: str | None, end: str | None) -> Part:
    """A Period of FHIR dates or dateTimes (``date``, ``instant``); either end may be open."""
    return Part(Period(start=start, end=end))


@lru_cache(maxsize=CACHED)
def _concept(system: str | None, code: str | None, display: str | None, text: str | None) -> Part:
    if code is None:
        return Part(CodeableConcept(text=text))
    coding = Coding(system=system, code=code, display=display)
    return Part(CodeableConcept(coding=[coding], text=text or display))


def concept(code: Code, text: str | None = None) -> Part:
    """A CodeableConcept of one coding, its text the given one or the code's display."""
    return _concept(code.system, code.code, code.display, text)


def local(system: str, code: str, display: str) -> Part:
    return _concept(system, code, display, None)


def undisplayed(code: Code, text: str) -> Part:
    """A coding whose display the sources did not give (§15), so none is claimed: the concept's
    text says what it is."""
    return _concept(code.system, code.code, None, text)


def text(value: str) -> Part:
    """A CodeableConcept that is text only (no code system holds the value)."""
    return _concept(None, None, None, value)


@lru_cache(maxsize=CACHED)
def _quantity(value: str, unit: str) -> Part:
    return Part(Quantity(value=Decimal(value), unit=unit, system=UCUM_SYSTEM, code=ucum(unit)))


def quantity(value: Decimal, unit: str) -> Part:
    """A UCUM quantity: the unit as reported for humans, its UCUM code for machines. Cached by
    the value's spelling: ``30`` and ``30.0`` are equal Decimals but dump as 30 and 30.0."""
    return _quantity(str(value), unit)
