"""Variable metadata of the SDTM-style domains DM, AE, CM, EX, LB, VS, QS and RS (issue 8, CDISC).

Every variable a domain emits is declared here once — name, label, Dataset-JSON ``dataType``
and, when its values are controlled, the codelist they come from — and the define-style file
(``sdtm_write.define``) is written from these declarations, so no variable can reach the data
without its metadata (a builder writes its rows only through the declared columns).

Labels follow the SDTMIG wording as far as it is known here; codelist names are CDISC CT names
(``SEX``, ``AGEU``, ``ROUTE``, ``OUT``, ``NY``) where the values are those of CDISC controlled
terminology, and ``LUPUS-MSC.*`` for the project's own lists. The values were written from
knowledge of CDISC CT, not checked against a CT release: treat them as unverified. A codelist
whose values are a closed list carries its terms (``TERMS``, from ``sdtm_terms``) for the define
file and the ODM ``CodeList`` elements.

Where the disease-activity scores go (``RS``): SDTMIG 3.3 moved the clinical classifications —
ratings a clinician assigns from observation, such as disease-activity indexes — out of QS into
the RS domain (Disease Response and Clin Classification); QS keeps questionnaires the subject
answers. SLEDAI-2K (§1, a clinician's descriptor checklist with lab input) and the PGA (§3, the
physician's rating) are therefore RS records (``RSCAT`` "SLEDAI-2K" / "PGA"), and FACIT-Fatigue
(§13, answered by the patient) is QS. The same reasoning is written into ``define.json``.

One variable is not an SDTMIG variable: ``CMPDNEQ``, the §11 prednisone-equivalent mg/day the
registry derives; a conformant submission moves it to SUPPCM (QNAM ``CMPDNEQ``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lupus_msc.interop import sdtm_terms as terms

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
    comment: str | None = None
    """Why the domain holds what it holds (written into the define file)."""

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

_VISIT = (
    _v("VISITNUM", "Visit Number", "integer"),
    _v("VISIT", "Visit Name", codelist="LUPUS-MSC.VISIT"),
    _v("VISITDY", "Planned Study Day of Visit", "integer"),
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
        *_VISIT,
        _v("LBDTC", "Date/Time of Specimen Collection", "date"),
        _v("LBDY", "Study Day of Specimen Collection", "integer"),
    ),
    ("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM", "LBSEQ"),
)

CM = DomainSpec(
    "CM",
    "Concomitant/Concomitant Medications",
    (
        *_IDS,
        _v("CMSEQ", "Sequence Number", "integer"),
        _v("CMTRT", "Reported Name of Drug, Med, or Therapy"),
        _v("CMCAT", "Category for Medication", codelist="LUPUS-MSC.CMCAT"),
        _v("CMDOSE", "Dose per Administration", "decimal"),
        _v("CMDOSU", "Dose Units", codelist="LUPUS-MSC.CMDOSU"),
        _v("CMDOSFRQ", "Dosing Frequency per Interval", codelist="FREQ"),
        _v("CMROUTE", "Route of Administration", codelist="ROUTE"),
        _v("CMSTDTC", "Start Date/Time of Medication", "date"),
        _v("CMENDTC", "End Date/Time of Medication", "date"),
        _v("CMSTDY", "Study Day of Start of Medication", "integer"),
        _v("CMENDY", "Study Day of End of Medication", "integer"),
        _v("CMPDNEQ", "Prednisone-Equivalent Dose (mg/day)", "decimal"),
    ),
    ("STUDYID", "USUBJID", "CMTRT", "CMSTDTC", "CMSEQ"),
    "One record per medication record of the registry. CMPDNEQ (not an SDTMIG variable; "
    "SUPPCM in a conformant submission) is the prednisone-equivalent mg/day of instruments.md "
    "section 11, present for systemic glucocorticoids only.",
)

VS = DomainSpec(
    "VS",
    "Vital Signs",
    (
        *_IDS,
        _v("VSSEQ", "Sequence Number", "integer"),
        _v("VSTESTCD", "Vital Signs Test Short Name", codelist="VSTESTCD"),
        _v("VSTEST", "Vital Signs Test Name", codelist="VSTEST"),
        _v("VSORRES", "Result or Finding in Original Units"),
        _v("VSORRESU", "Original Units", codelist="UNIT"),
        _v("VSSTRESC", "Character Result/Finding in Std Format"),
        _v("VSSTRESN", "Numeric Result/Finding in Standard Units", "decimal"),
        _v("VSSTRESU", "Standard Units", codelist="UNIT"),
        *_VISIT,
        _v("VSDTC", "Date/Time of Measurements", "date"),
        _v("VSDY", "Study Day of Vital Signs", "integer"),
    ),
    ("STUDYID", "USUBJID", "VSTESTCD", "VISITNUM", "VSSEQ"),
    "Vital signs and weight recorded at the protocol visits (visit findings 'vitals').",
)

QS = DomainSpec(
    "QS",
    "Questionnaires",
    (
        *_IDS,
        _v("QSSEQ", "Sequence Number", "integer"),
        _v("QSTESTCD", "Question Short Name", codelist="LUPUS-MSC.QSTESTCD"),
        _v("QSTEST", "Question Name", codelist="LUPUS-MSC.QSTEST"),
        _v("QSCAT", "Category of Question", codelist="LUPUS-MSC.QSCAT"),
        _v("QSORRES", "Finding in Original Units"),
        _v("QSSTRESC", "Character Result/Finding in Std Format"),
        _v("QSSTRESN", "Numeric Finding in Standard Units", "decimal"),
        _v("QSSTAT", "Completion Status", codelist="ND"),
        _v("QSDRVFL", "Derived Flag", codelist="NY"),
        *_VISIT,
        _v("QSDTC", "Date/Time of Finding", "date"),
        _v("QSDY", "Study Day of Finding", "integer"),
    ),
    ("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "VISITNUM", "QSSEQ"),
    "FACIT-Fatigue (instruments.md section 13), answered by the patient: one record per item "
    "answer (QSTESTCD = the section 13 item code, the response 0-4 as given, not "
    "reverse-scored; 8 or 9 = not answered, QSSTAT NOT DONE) and the total score (FACITTOT, "
    "0-52, higher = less fatigue, QSDRVFL Y). Item wording is licensed and not exported.",
)

RS = DomainSpec(
    "RS",
    "Disease Response and Clin Classification",
    (
        *_IDS,
        _v("RSSEQ", "Sequence Number", "integer"),
        _v("RSTESTCD", "Assessment Short Name", codelist="LUPUS-MSC.RSTESTCD"),
        _v("RSTEST", "Assessment Name", codelist="LUPUS-MSC.RSTEST"),
        _v("RSCAT", "Category for Assessment", codelist="LUPUS-MSC.RSCAT"),
        _v("RSORRES", "Result or Finding in Original Units"),
        _v("RSSTRESC", "Character Result/Finding in Std Format"),
        _v("RSSTRESN", "Numeric Result/Finding in Standard Units", "decimal"),
        _v("RSSTAT", "Completion Status", codelist="ND"),
        _v("RSDRVFL", "Derived Flag", codelist="NY"),
        _v("RSEVAL", "Evaluator", codelist="EVAL"),
        *_VISIT,
        _v("RSDTC", "Date/Time of Assessment", "date"),
        _v("RSDY", "Study Day of Assessment", "integer"),
    ),
    ("STUDYID", "USUBJID", "RSCAT", "RSTESTCD", "VISITNUM", "RSSEQ"),
    "Clinician-rated disease activity: SLEDAI-2K (instruments.md section 1) and the physician "
    "global assessment (section 3). SDTMIG 3.3 places clinical classifications (ratings a "
    "clinician assigns from observation) in RS, questionnaires answered by the subject in QS. "
    "SLEDAI-2K: one record per descriptor as the visit's score counted it (SLED01-SLED24 in "
    "the section 1 table order; Y counted, N not counted, NOT DONE when the visit left it "
    "unassessed) and the total (SLEDTOT, 0-105, derived; unassessed descriptors count as "
    "absent, section 1 'score_observed'). PGA: the 0-3 rating with two decimals.",
)

DOMAINS: dict[str, DomainSpec] = {spec.name: spec for spec in (DM, AE, CM, EX, LB, VS, QS, RS)}

CODELISTS: dict[str, str] = {
    "SEX": "CDISC CT SEX",
    "AGEU": "CDISC CT AGEU",
    "NY": "CDISC CT NY",
    "ND": "CDISC CT ND (completion status)",
    "EVAL": "CDISC CT EVAL",
    "OUT": "CDISC CT OUT",
    "ROUTE": "CDISC CT ROUTE: INTRA-ARTERIAL is the renal-artery infusion, INTRALESIONAL the "
    "local injection",
    "FREQ": "CDISC CT FREQ",
    "SPECTYPE": "CDISC CT SPECTYPE",
    "UNIT": "Units as reported and canonical, UCUM spellings of the registry (VS: the one unit "
    "each vital sign is recorded in)",
    "LOINC": "LOINC codes of instruments.md section 15 (empty where section 15 gives none)",
    "VSTESTCD": "CDISC CT VSTESTCD",
    "VSTEST": "CDISC CT VSTEST",
    "LUPUS-MSC.ARMCD": "MSC = the protocol's cell-therapy arm; NOTASSGN = not assigned (no "
    "consent); NOTTRT = assigned, not treated (no infusion)",
    "LUPUS-MSC.CTCAE-TERM": "CTCAE v5.0 term of the section 12 graded terms (empty when the "
    "event has no CTCAE term in the registry)",
    "LUPUS-MSC.CTCAE-GRADE": "CTCAE v5.0 grade 1-5",
    "LUPUS-MSC.REL": "Relatedness to the cell product",
    "LUPUS-MSC.EXDOSU": "cells/kg (viable MSC per kg body weight)",
    "LUPUS-MSC.CMDOSU": "Medication dose units (CDISC CT UNIT spellings)",
    "LUPUS-MSC.CMCAT": "SYSTEMIC GLUCOCORTICOID for a medication with a prednisone equivalent "
    "(section 11), else empty",
    "LUPUS-MSC.LBTESTCD": "Lab test codes (SDTM-style, not checked against CT)",
    "LUPUS-MSC.LBTEST": "Lab test names",
    "LUPUS-MSC.VISIT": "Visit codes of the protocol schedules (and of any visit the registry "
    "holds outside them), numbered by planned study day in VISITNUM",
    "LUPUS-MSC.QSCAT": "FACIT-F",
    "LUPUS-MSC.QSTESTCD": "FACIT-Fatigue item codes of instruments.md section 13, and FACITTOT",
    "LUPUS-MSC.QSTEST": "FACIT-Fatigue item and total names",
    "LUPUS-MSC.RSCAT": "SLEDAI-2K, PGA",
    "LUPUS-MSC.RSTESTCD": "SLED01-SLED24 (SLEDAI-2K descriptors, section 1 order), SLEDTOT, PGA",
    "LUPUS-MSC.RSTEST": "SLEDAI-2K descriptor, total and PGA names",
}
"""Every codelist named by a variable, with its description."""

TERMS: dict[str, tuple[str, ...]] = {
    "SEX": ("F", "M"),
    "AGEU": ("YEARS",),
    "NY": ("Y", "N"),
    "ND": (terms.NOT_DONE,),
    "EVAL": ("INVESTIGATOR",),
    "OUT": tuple(terms.OUTCOMES.values()),
    "ROUTE": tuple(dict.fromkeys(terms.ROUTES.values())),
    "FREQ": tuple(terms.FREQUENCIES.values()),
    "SPECTYPE": tuple(dict.fromkeys(spec for _, _, spec in terms.LAB_TESTS.values())),
    "VSTESTCD": tuple(code for code, _, _ in terms.VITAL_SIGNS.values()),
    "VSTEST": tuple(name for _, name, _ in terms.VITAL_SIGNS.values()),
    "LUPUS-MSC.ARMCD": ("MSC", "NOTASSGN", "NOTTRT"),
    "LUPUS-MSC.CTCAE-GRADE": ("1", "2", "3", "4", "5"),
    "LUPUS-MSC.REL": terms.RELATEDNESS,
    "LUPUS-MSC.EXDOSU": ("cells/kg",),
    "LUPUS-MSC.CMDOSU": tuple(terms.DOSE_UNITS.values()),
    "LUPUS-MSC.CMCAT": (terms.GLUCOCORTICOID,),
    "LUPUS-MSC.LBTESTCD": tuple(dict.fromkeys(code for code, _, _ in terms.LAB_TESTS.values())),
    "LUPUS-MSC.LBTEST": tuple(dict.fromkeys(name for _, name, _ in terms.LAB_TESTS.values())),
    "LUPUS-MSC.QSCAT": (terms.FACIT_CATEGORY,),
    "LUPUS-MSC.QSTESTCD": (*terms.FACIT_TESTS, terms.FACIT_TOTAL[0]),
    "LUPUS-MSC.QSTEST": (*terms.FACIT_TESTS.values(), terms.FACIT_TOTAL[1]),
    "LUPUS-MSC.RSCAT": (terms.SLEDAI_CATEGORY, terms.PGA_CATEGORY),
    "LUPUS-MSC.RSTESTCD": (
        *(code for code, _ in terms.SLEDAI_TESTS.values()),
        terms.SLEDAI_TOTAL[0],
        terms.PGA_TEST[0],
    ),
    "LUPUS-MSC.RSTEST": (
        *(name for _, name in terms.SLEDAI_TESTS.values()),
        terms.SLEDAI_TOTAL[1],
        terms.PGA_TEST[1],
    ),
}
"""The closed codelists' terms (the others — units, LOINC, CTCAE terms, visits — are open)."""
