"""Variable metadata of the SDTM-style domains DM, AE, CM, EX, LB, VS, QS and RS (issue 8, CDISC).

Every variable a domain emits is declared here once — name, label, Dataset-JSON ``dataType``
and, when its values are controlled, the codelist they come from — and the define-style file
(``sdtm_write.define``) is written from these declarations, so no variable can reach the data
without its metadata (a builder writes its rows only through the declared columns). A spec
lists only what is the domain's own: ``_domain`` adds the identifiers and ``--SEQ``, and ``--``
stands for the domain prefix as in the SDTMIG tables (``--ORRES`` is ``VSORRES`` in VS).

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

_PREFIX = "--"
"""SDTM's placeholder for the domain prefix: ``--SEQ`` is ``AESEQ`` in AE, ``VSSEQ`` in VS."""

_STANDARD = {
    variable.name: variable
    for variable in (
        _v("--SEQ", "Sequence Number", "integer"),
        _v("--ORRES", "Result or Finding in Original Units"),
        _v("--ORRESU", "Original Units", codelist="UNIT"),
        _v("--STRESC", "Character Result/Finding in Std Format"),
        _v("--STRESN", "Numeric Result/Finding in Standard Units", "decimal"),
        _v("--STRESU", "Standard Units", codelist="UNIT"),
        _v("--STAT", "Completion Status", codelist="ND"),
        _v("--DRVFL", "Derived Flag", codelist="NY"),
    )
}
"""Variables with the same label and type in every domain, named by their placeholder."""


def _named(name: str, domain: str) -> str:
    return name.replace(_PREFIX, domain)


def _own(variable: Variable | str, domain: str) -> Variable:
    """``variable`` (or the standard variable of that placeholder name) in ``domain``."""
    found = _STANDARD[variable] if isinstance(variable, str) else variable
    codelist = None if found.codelist is None else _named(found.codelist, domain)
    return Variable(_named(found.name, domain), found.label, found.data_type, codelist)


def _domain(
    name: str,
    label: str,
    *variables: Variable | str,
    keys: tuple[str, ...] = (),
    comment: str | None = None,
    sequenced: bool = True,
) -> DomainSpec:
    """A domain: the identifiers, ``--SEQ`` (unless not ``sequenced``), then ``variables``;
    its keys ``STUDYID``, ``USUBJID``, ``keys`` and ``--SEQ``. ``--`` in a variable's name
    or codelist stands for the domain's name, and a bare name is a ``_STANDARD`` variable."""
    seq = ("--SEQ",) if sequenced else ()
    return DomainSpec(
        name,
        label,
        (*_IDS, *(_own(variable, name) for variable in (*seq, *variables))),
        tuple(_named(key, name) for key in ("STUDYID", "USUBJID", *keys, *seq)),
        comment,
    )


def _tests(subject: str, codelists: str = "LUPUS-MSC.") -> tuple[Variable, Variable]:
    """``--TESTCD`` and ``--TEST``, labelled "<subject> Short Name" and "<subject> Name",
    with the codelists ``<codelists>--TESTCD`` and ``<codelists>--TEST``."""
    return (
        _v("--TESTCD", f"{subject} Short Name", codelist=f"{codelists}--TESTCD"),
        _v("--TEST", f"{subject} Name", codelist=f"{codelists}--TEST"),
    )


def _at_visit(collected: str, day: str, data_type: DataType = "date") -> tuple[Variable, ...]:
    """The visit variables, ``--DTC`` (labelled ``collected``) and ``--DY`` (``day``)."""
    return (*_VISIT, _v("--DTC", collected, data_type), _v("--DY", day, "integer"))


def _span(of: str, data_type: DataType = "date") -> tuple[Variable, ...]:
    """``--STDTC``, ``--ENDTC``, ``--STDY`` and ``--ENDY`` of ``of`` (e.g. "Medication")."""
    return (
        _v("--STDTC", f"Start Date/Time of {of}", data_type),
        _v("--ENDTC", f"End Date/Time of {of}", data_type),
        _v("--STDY", f"Study Day of Start of {of}", "integer"),
        _v("--ENDY", f"Study Day of End of {of}", "integer"),
    )


DM = _domain(
    "DM",
    "Demographics",
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
    sequenced=False,
)

AE = _domain(
    "AE",
    "Adverse Events",
    _v("--TERM", "Reported Term for the Adverse Event"),
    _v("--DECOD", "Dictionary-Derived Term", codelist="LUPUS-MSC.CTCAE-TERM"),
    _v("--TOXGR", "Standard Toxicity Grade", codelist="LUPUS-MSC.CTCAE-GRADE"),
    _v("--SER", "Serious Event", codelist="NY"),
    _v("--REL", "Causality", codelist="LUPUS-MSC.REL"),
    _v("--OUT", "Outcome of Adverse Event", codelist="OUT"),
    *_span("Adverse Event"),
)

EX = _domain(
    "EX",
    "Exposure",
    _v("--TRT", "Name of Treatment"),
    _v("--DOSE", "Dose", "decimal"),
    _v("--DOSU", "Dose Units", codelist="LUPUS-MSC.EXDOSU"),
    _v("--ROUTE", "Route of Administration", codelist="ROUTE"),
    _v("--LOT", "Lot Number"),
    *_span("Treatment", "datetime"),
)

LB = _domain(
    "LB",
    "Laboratory Test Results",
    *_tests("Lab Test or Examination"),
    _v("--SPEC", "Specimen Type", codelist="SPECTYPE"),
    "--ORRES",
    "--ORRESU",
    _v("--ORNRLO", "Reference Range Lower Limit in Orig Unit"),
    _v("--ORNRHI", "Reference Range Upper Limit in Orig Unit"),
    "--STRESC",
    "--STRESN",
    "--STRESU",
    _v("--LOINC", "LOINC Code", codelist="LOINC"),
    *_at_visit("Date/Time of Specimen Collection", "Study Day of Specimen Collection"),
    keys=("--TESTCD", "VISITNUM"),
)

CM = _domain(
    "CM",
    "Concomitant/Concomitant Medications",
    _v("--TRT", "Reported Name of Drug, Med, or Therapy"),
    _v("--CAT", "Category for Medication", codelist="LUPUS-MSC.CMCAT"),
    _v("--DOSE", "Dose per Administration", "decimal"),
    _v("--DOSU", "Dose Units", codelist="LUPUS-MSC.CMDOSU"),
    _v("--DOSFRQ", "Dosing Frequency per Interval", codelist="FREQ"),
    _v("--ROUTE", "Route of Administration", codelist="ROUTE"),
    *_span("Medication"),
    _v("--PDNEQ", "Prednisone-Equivalent Dose (mg/day)", "decimal"),
    keys=("--TRT", "--STDTC"),
    comment="One record per medication record of the registry. CMPDNEQ (not an SDTMIG "
    "variable; SUPPCM in a conformant submission) is the prednisone-equivalent mg/day of "
    "instruments.md section 11, present for systemic glucocorticoids only.",
)

VS = _domain(
    "VS",
    "Vital Signs",
    *_tests("Vital Signs Test", codelists=""),
    "--ORRES",
    "--ORRESU",
    "--STRESC",
    "--STRESN",
    "--STRESU",
    *_at_visit("Date/Time of Measurements", "Study Day of Vital Signs", "datetime"),
    _v("--TPT", "Planned Time Point Name", codelist="LUPUS-MSC.VSTPT"),
    _v("--TPTNUM", "Planned Time Point Number", "integer"),
    _v("--TPTREF", "Time Point Reference", codelist="LUPUS-MSC.VSTPTREF"),
    _v("--RFTDTC", "Date/Time of Reference Time Point", "datetime"),
    keys=("--TESTCD", "VISITNUM", "--TPTREF", "--TPTNUM"),
    comment="Vital signs and weight recorded at the protocol visits (visit findings 'vitals'; "
    "VSDTC the visit date, no time point), and the vital signs taken before and after each "
    "infusion (VSTPTREF 'INFUSION <n>', the registry's n-th infusion of the patient, the EX "
    "record starting at VSRFTDTC, the infusion start; VSTPT PRE-INFUSION, VSTPTNUM 1, VSDTC "
    "the infusion start; POST-INFUSION, VSTPTNUM 2, VSDTC the infusion end, or only the "
    "start's date when no end is recorded, as no time was collected). VISIT is the protocol "
    "visit on the infusion's scheduled day. VSELTM is not given: the protocol plans no "
    "elapsed time for these vitals.",
)

QS = _domain(
    "QS",
    "Questionnaires",
    *_tests("Question"),
    _v("--CAT", "Category of Question", codelist="LUPUS-MSC.QSCAT"),
    _v("--ORRES", "Finding in Original Units"),
    "--STRESC",
    _v("--STRESN", "Numeric Finding in Standard Units", "decimal"),
    "--STAT",
    "--DRVFL",
    *_at_visit("Date/Time of Finding", "Study Day of Finding"),
    keys=("--CAT", "--TESTCD", "VISITNUM"),
    comment="FACIT-Fatigue (instruments.md section 13), answered by the patient: one record "
    "per item answer (QSTESTCD = the section 13 item code, the response 0-4 as given, not "
    "reverse-scored; 8 or 9 = not answered, QSSTAT NOT DONE) and the total score (FACITTOT, "
    "0-52, higher = less fatigue, QSDRVFL Y). Item wording is licensed and not exported.",
)

RS = _domain(
    "RS",
    "Disease Response and Clin Classification",
    *_tests("Assessment"),
    _v("--CAT", "Category for Assessment", codelist="LUPUS-MSC.RSCAT"),
    "--ORRES",
    "--STRESC",
    "--STRESN",
    "--STAT",
    "--DRVFL",
    _v("--EVAL", "Evaluator", codelist="EVAL"),
    *_at_visit("Date/Time of Assessment", "Study Day of Assessment"),
    keys=("--CAT", "--TESTCD", "VISITNUM"),
    comment="Clinician-rated disease activity: SLEDAI-2K (instruments.md section 1) and the "
    "physician global assessment (section 3). SDTMIG 3.3 places clinical classifications "
    "(ratings a clinician assigns from observation) in RS, questionnaires answered by the "
    "subject in QS. SLEDAI-2K: one record per descriptor as the visit's score counted it "
    "(SLED01-SLED24 in the section 1 table order; Y counted, N not counted, NOT DONE when "
    "the visit left it unassessed) and the total (SLEDTOT, 0-105, derived; unassessed "
    "descriptors count as absent, section 1 'score_observed'). PGA: the 0-3 rating with two "
    "decimals.",
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
    "LUPUS-MSC.VSTPT": "Vital signs time points around an infusion",
    "LUPUS-MSC.VSTPTREF": "INFUSION <n>: the patient's n-th infusion in the registry",
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
    "LUPUS-MSC.VSTPT": terms.INFUSION_TIME_POINTS,
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
