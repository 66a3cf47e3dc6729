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
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

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
}
"""Registry unit spellings that are not valid UCUM, with their UCUM code; every other unit the
registry accepts (``services.visit_labs.ANALYTES``) is already UCUM (``g/L``, ``10*9/L``,
``/[HPF]``, ``mm/h``…)."""


def ucum(unit: str) -> str:
    """The UCUM code for a registry unit spelling."""
    return UCUM.get(unit, unit)


def reference(kind: str, record_id: uuid.UUID) -> Reference:
    """``Patient/<uuid>``: a literal reference to a resource built from a registry record."""
    return Reference(reference=f"{kind}/{record_id}")


def concept(code: Code, text: str | None = None) -> CodeableConcept:
    coding = Coding(system=code.system, code=code.code, display=code.display)
    return CodeableConcept(coding=[coding], text=text or code.display)


def local(system: str, code: str, display: str) -> CodeableConcept:
    return concept(Code(system, code, display))


def quantity(value: Decimal, unit: str) -> Quantity:
    """A UCUM quantity: the unit as reported for humans, its UCUM code for machines."""
    return Quantity(value=value, unit=unit, system=UCUM_SYSTEM, code=ucum(unit))


def instant(moment: dt.datetime) -> dt.datetime:
    """Registry datetimes are UTC; SQLite returns them naive, FHIR wants an offset."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
