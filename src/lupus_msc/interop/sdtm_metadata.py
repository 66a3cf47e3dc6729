"""Variable metadata of the SDTM-style domains DM, AE, EX and LB (issue 8, CDISC).

Every variable a domain emits is declared here once — name, label, Dataset-JSON ``dataType``
and, when its values are controlled, the codelist they come from — and the define-style file
(``sdtm_write.define``) is written from these declarations, so no variable can reach the data
without its metadata (a builder writes its rows only through the declared columns).

Labels follow the SDTMIG wording as far as it is known here; codelist names are CDISC CT names
(``SEX``, ``AGEU``, ``ROUTE``, ``OUT``, ``NY``) where the values are those of CDISC controlled
terminology, and ``LUPUS-MSC.*`` for the project's own lists. The values were written from
knowledge of CDISC CT, not checked against a CT release: treat them as unverified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DataType = Literal["string", "integer", "decimal", "date", "datetime"]


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    data_type: DataType
    codelist: str | None = None


@dataclass(frozen=True)
class DomainSpec:
    name: str
    label: str
    variables: tuple[Variable, ...]
    keys: tuple[str, ...]
    """Key variables, in key order (Dataset-JSON ``keySequence``)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(variable.name for variable in self.variables)


def _v(
    name: str, label: str, data_type: DataType = "string", codelist: str | None = None
) -> Variable:
    return Variable(name, label, data_type, codelist)


_IDS = (
    _v("STUDYID", "Study Identifier"),
    _v("DOMAIN", "Domain Abbreviation"),
    _v("USUBJID", "Unique Subject Identifier"),
)

DM = DomainSpec(
    "DM",
    "Demographics",
    (
        *_IDS,
        _v("SUBJID", "Subject Identifier for the Study"),
        _v("RFSTDTC", "Subject Reference Start Date/Time", "datetime"),
        _v("RFENDTC", "Subject Reference End Date/Time", "datetime"),
        _v("RFXSTDTC", "Date/Time of First Study Treatment", "datetime"),
        _v("RFXENDTC", "Date/Time of Last Study Treatment", "datetime"),
        _v("RFICDTC", "Date/Time of Informed Consent", "date"),
        _v("SITEID", "Study Site Identifier"),
        _v("BRTHDTC", "Date/Time of Birth", "date"),
        _v("AGE", "Age", "integer"),
        _v("AGEU", "Age Units", codelist="AGEU"),
        _v("SEX", "Sex", codelist="SEX"),
        _v("ARMCD", "Planned Arm Code", codelist="LUPUS-MSC.ARMCD"),
        _v("ARM", "Description of Planned Arm"),
        _v("ACTARMCD", "Actual Arm Code", codelist="LUPUS-MSC.ARMCD"),
        _v("ACTARM", "Description of Actual Arm"),
    ),
    ("STUDYID", "USUBJID"),
)

AE = DomainSpec(
    "AE",
    "Adverse Events",
    (
        *_IDS,
        _v("AESEQ", "Sequence Number", "integer"),
        _v("AETERM", "Reported Term for the Adverse Event"),
        _v("AEDECOD", "Dictionary-Derived Term", codelist="LUPUS-MSC.CTCAE-TERM"),
        _v("AETOXGR", "Standard Toxicity Grade", codelist="LUPUS-MSC.CTCAE-GRADE"),
        _v("AESER", "Serious Event", codelist="NY"),
        _v("AEREL", "Causality", codelist="LUPUS-MSC.REL"),
        _v("AEOUT", "Outcome of Adverse Event", codelist="OUT"),
        _v("AESTDTC", "Start Date/Time of Adverse Event", "date"),
        _v("AEENDTC", "End Date/Time of Adverse Event", "date"),
        _v("AESTDY", "Study Day of Start of Adverse Event", "integer"),
        _v("AEENDY", "Study Day of End of Adverse Event", "integer"),
    ),
    ("STUDYID", "USUBJID", "AESEQ"),
)

EX = DomainSpec(
    "EX",
    "Exposure",
    (
        *_IDS,
        _v("EXSEQ", "Sequence Number", "integer"),
        _v("EXTRT", "Name of Treatment"),
        _v("EXDOSE", "Dose", "decimal"),
        _v("EXDOSU", "Dose Units", codelist="LUPUS-MSC.EXDOSU"),
        _v("EXROUTE", "Route of Administration", codelist="ROUTE"),
        _v("EXLOT", "Lot Number"),
        _v("EXSTDTC", "Start Date/Time of Treatment", "datetime"),
        _v("EXENDTC", "End Date/Time of Treatment", "datetime"),
        _v("EXSTDY", "Study Day of Start of Treatment", "integer"),
        _v("EXENDY", "Study Day of End of Treatment", "integer"),
    ),
    ("STUDYID", "USUBJID", "EXSEQ"),
)

LB = DomainSpec(
    "LB",
    "Laboratory Test Results",
    (
        *_IDS,
        _v("LBSEQ", "Sequence Number", "integer"),
        _v("LBTESTCD", "Lab Test or Examination Short Name", codelist="LUPUS-MSC.LBTESTCD"),
        _v("LBTEST", "Lab Test or Examination Name", codelist="LUPUS-MSC.LBTEST"),
        _v("LBSPEC", "Specimen Type", codelist="SPECTYPE"),
        _v("LBORRES", "Result or Finding in Original Units"),
        _v("LBORRESU", "Original Units", codelist="UNIT"),
        _v("LBORNRLO", "Reference Range Lower Limit in Orig Unit"),
        _v("LBORNRHI", "Reference Range Upper Limit in Orig Unit"),
        _v("LBSTRESC", "Character Result/Finding in Std Format"),
        _v("LBSTRESN", "Numeric Result/Finding in Standard Units", "decimal"),
        _v("LBSTRESU", "Standard Units", codelist="UNIT"),
        _v("LBLOINC", "LOINC Code", codelist="LOINC"),
        _v("VISITNUM", "Visit Number", "integer"),
        _v("VISIT", "Visit Name"),
        _v("VISITDY", "Planned Study Day of Visit", "integer"),
        _v("LBDTC", "Date/Time of Specimen Collection", "date"),
        _v("LBDY", "Study Day of Specimen Collection", "integer"),
    ),
    ("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM", "LBSEQ"),
)

DOMAINS: dict[str, DomainSpec] = {spec.name: spec for spec in (DM, AE, EX, LB)}

CODELISTS: dict[str, str] = {
    "SEX": "CDISC CT SEX: F, M",
    "AGEU": "CDISC CT AGEU: YEARS",
    "NY": "CDISC CT NY: Y, N",
    "OUT": "CDISC CT OUT: RECOVERED/RESOLVED, RECOVERING/RESOLVING, NOT RECOVERED/NOT "
    "RESOLVED, RECOVERED/RESOLVED WITH SEQUELAE, FATAL, UNKNOWN",
    "ROUTE": "CDISC CT ROUTE: INTRAVENOUS, INTRA-ARTERIAL (renal artery), INTRALESIONAL "
    "(local injection)",
    "SPECTYPE": "CDISC CT SPECTYPE: SERUM, BLOOD, URINE",
    "UNIT": "Units as reported (LBORRESU) and canonical (LBSTRESU), UCUM spellings of the registry",
    "LOINC": "LOINC codes of instruments.md §15 (empty where §15 gives none)",
    "LUPUS-MSC.ARMCD": "MSC = the protocol's cell-therapy arm; "
    "NOTASSGN = not assigned (no consent); NOTTRT = assigned, not treated (no infusion)",
    "LUPUS-MSC.CTCAE-TERM": "CTCAE v5.0 term of the §12 graded terms (empty when the event has "
    "no CTCAE term in the registry)",
    "LUPUS-MSC.CTCAE-GRADE": "CTCAE v5.0 grade 1-5",
    "LUPUS-MSC.REL": "Relatedness to the cell product: NOT RELATED, UNLIKELY, POSSIBLE, PROBABLE, "
    "DEFINITE",
    "LUPUS-MSC.EXDOSU": "cells/kg (viable MSC per kg body weight)",
    "LUPUS-MSC.LBTESTCD": "Test codes of sdtm.LAB_TESTS (SDTM-style, not checked against CT)",
    "LUPUS-MSC.LBTEST": "Test names of sdtm.LAB_TESTS",
}
"""Every codelist named by a variable, with its values or their description."""
