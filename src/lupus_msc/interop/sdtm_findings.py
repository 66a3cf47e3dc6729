"""SDTM-style findings recorded at the protocol visits: VS, QS and RS (issue 8, CDISC).

Pure functions over ``sdtm.Records``; only visits that took place (``visit_date`` set) give
records, each with ``VISITNUM``/``VISIT``/``VISITDY`` and the study day as LB has them.

* VS — the visit's ``vitals`` findings (``services.visit_findings.Vitals``), one record per
  measurement, in the one unit the registry records it in (``sdtm_terms.VITAL_SIGNS``).
* QS — FACIT-Fatigue (§13), a questionnaire the patient answers: one record per answered item,
  ``QSTESTCD`` the §13 item code and the response 0–4 as given (not reverse-scored); 8 or 9 are
  kept in ``QSORRES`` with ``QSSTAT`` NOT DONE (§13 step 1 treats them as missing); and the total
  (``FACITTOT``, derived, the visit's stored §13 score), NOT DONE when fewer than 7 items were
  answered (§13 step 4).
* RS — the clinician's disease-activity ratings, SLEDAI-2K (§1) and PGA (§3): SDTMIG 3.3 puts
  clinical classifications in RS and leaves QS to the subject's questionnaires (the reasoning is
  in ``sdtm_metadata.RS``). SLEDAI-2K gives one record per descriptor as the visit's stored score
  counted it (``SLED01``–``SLED24``: Y with ``RSSTRESN`` its §1 weight, N with 0, NOT DONE when
  unassessed) and the total (``SLEDTOT``, derived); the PGA its recorded 0–3 value.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from lupus_msc.clinical.sledai2k import DESCRIPTORS
from lupus_msc.interop.sdtm import (
    Domain,
    Records,
    Row,
    checked_domain,
    identifiers,
    number_text,
    sequenced,
    subjects,
    visit_numbers,
    visit_timing,
)
from lupus_msc.interop.sdtm_metadata import QS, RS, VS, DomainSpec
from lupus_msc.interop.sdtm_terms import (
    FACIT_CATEGORY,
    FACIT_NOT_ANSWERED,
    FACIT_TESTS,
    FACIT_TOTAL,
    NOT_DONE,
    PGA_CATEGORY,
    PGA_TEST,
    SLEDAI_CATEGORY,
    SLEDAI_TESTS,
    SLEDAI_TOTAL,
    VITAL_SIGNS,
)
from lupus_msc.store import models


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _visits(records: Records, spec: DomainSpec) -> Iterator[tuple[models.Visit, Row]]:
    """Each visit that took place, with its identifiers and timing variables for ``spec``."""
    found = subjects(records)
    numbers = visit_numbers(records)
    for visit in records.visits:
        if visit.visit_date is None:
            continue
        subject = found[visit.patient_id]
        yield visit, {**identifiers(subject, spec), **visit_timing(spec, subject, visit, numbers)}


def _result(prefix: str, value: Decimal | None, status: str | None = None) -> Row:
    text = number_text(value)
    return {
        f"{prefix}ORRES": text,
        f"{prefix}STRESC": text,
        f"{prefix}STRESN": value,
        f"{prefix}STAT": status,
    }


def vs(records: Records) -> Domain:
    """One record per vital sign recorded at a visit."""
    rows = []
    for visit, base in _visits(records, VS):
        for field, value in (visit.findings.get("vitals") or {}).items():
            if value is None or field not in VITAL_SIGNS:
                continue
            testcd, test, unit = VITAL_SIGNS[field]
            number = _decimal(value)
            text = number_text(number)
            rows.append(
                {
                    **base,
                    "VSTESTCD": testcd,
                    "VSTEST": test,
                    "VSORRES": text,
                    "VSORRESU": unit,
                    "VSSTRESC": text,
                    "VSSTRESN": number,
                    "VSSTRESU": unit,
                }
            )
    return checked_domain(VS, sequenced(VS, rows, ("VSDTC", "VSTESTCD")))


def _facit_rows(base: Row, visit: models.Visit) -> list[Row]:
    answers = visit.findings.get("facit_f")
    if not answers:
        return []
    rows = []
    category = {**base, "QSCAT": FACIT_CATEGORY}
    for item, test in FACIT_TESTS.items():
        answer = answers.get(item)
        if answer is None:
            continue
        given = {"QSTESTCD": item, "QSTEST": test}
        if int(answer) in FACIT_NOT_ANSWERED:
            rows.append({**category, **given, "QSORRES": str(answer), "QSSTAT": NOT_DONE})
        else:
            rows.append({**category, **given, **_result("QS", _decimal(answer))})
    score = (visit.scores.get("facit_f") or {}).get("score")
    total = None if score is None else _decimal(score)
    rows.append(
        {
            **category,
            "QSTESTCD": FACIT_TOTAL[0],
            "QSTEST": FACIT_TOTAL[1],
            **_result("QS", total, NOT_DONE if total is None else None),
            "QSDRVFL": "Y",
        }
    )
    return rows


def qs(records: Records) -> Domain:
    """FACIT-Fatigue item answers and total, per visit where it was recorded."""
    rows = [row for visit, base in _visits(records, QS) for row in _facit_rows(base, visit)]
    return checked_domain(QS, sequenced(QS, rows, ("QSDTC", "QSCAT", "QSTESTCD")))


def _sledai_rows(base: Row, visit: models.Visit) -> list[Row]:
    score = visit.scores.get("sledai2k")
    if not isinstance(score, dict) or score.get("total") is None:
        return []
    counted = score.get("contributions") or {}
    unassessed = set(score.get("missing") or ())
    category = {**base, "RSCAT": SLEDAI_CATEGORY, "RSEVAL": "INVESTIGATOR"}
    rows = []
    for descriptor in DESCRIPTORS:
        testcd, test = SLEDAI_TESTS[descriptor.key]
        given = {**category, "RSTESTCD": testcd, "RSTEST": test}
        if descriptor.key in counted:
            points = Decimal(int(counted[descriptor.key]))
            rows.append({**given, "RSORRES": "Y", "RSSTRESC": "Y", "RSSTRESN": points})
        elif descriptor.key in unassessed:
            rows.append({**given, "RSSTAT": NOT_DONE})
        else:
            rows.append({**given, "RSORRES": "N", "RSSTRESC": "N", "RSSTRESN": Decimal(0)})
    rows.append(
        {
            **category,
            "RSTESTCD": SLEDAI_TOTAL[0],
            "RSTEST": SLEDAI_TOTAL[1],
            **_result("RS", Decimal(int(score["total"]))),
            "RSDRVFL": "Y",
        }
    )
    return rows


def _pga_rows(base: Row, visit: models.Visit) -> list[Row]:
    value = visit.findings.get("pga")
    if value is None:
        return []
    return [
        {
            **base,
            "RSCAT": PGA_CATEGORY,
            "RSEVAL": "INVESTIGATOR",
            "RSTESTCD": PGA_TEST[0],
            "RSTEST": PGA_TEST[1],
            **_result("RS", _decimal(value)),
        }
    ]


def rs(records: Records) -> Domain:
    """SLEDAI-2K descriptors and total, and the PGA, per visit where they were recorded."""
    rows = [
        row
        for visit, base in _visits(records, RS)
        for row in (*_sledai_rows(base, visit), *_pga_rows(base, visit))
    ]
    return checked_domain(RS, sequenced(RS, rows, ("RSDTC", "RSCAT", "RSTESTCD")))
