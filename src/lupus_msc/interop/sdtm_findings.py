"""SDTM-style findings recorded at the protocol visits: VS, QS and RS (issue 8, CDISC).

Pure functions over ``sdtm.Records``; only visits that took place (``visit_date`` set) give
records, each with ``VISITNUM``/``VISIT``/``VISITDY`` and the study day as LB has them.

* VS — the visit's ``vitals`` findings (``services.visit_findings.Vitals``), one record per
  measurement, in the one unit the registry records it in (``sdtm_terms.VITAL_SIGNS``); and the
  vitals of each infusion (``Infusion.vitals_before``/``vitals_after``,
  ``services.infusions.Vitals``), timed around it as SDTMIG 3.x section 4.4.10 times findings
  planned around a reference point such as a dose (``infusion_vs_rows``).
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

import functools
import uuid
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
    iso_date,
    iso_datetime,
    number_text,
    planned_day,
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
    INFUSION_TIME_POINTS,
    INFUSION_VITALS,
    NOT_DONE,
    PGA_CATEGORY,
    PGA_TEST,
    SLEDAI_CATEGORY,
    SLEDAI_TESTS,
    SLEDAI_TOTAL,
    VITAL_SIGNS,
)
from lupus_msc.protocol.loading import ProtocolError, load_protocol
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


def _measured(base: Row, vitals: dict[str, Any], fields: dict[str, str]) -> list[Row]:
    """One row per recorded vital sign of ``vitals``; ``fields`` maps its field names to the
    ``VITAL_SIGNS`` keys (fields it does not map are not vital signs)."""
    rows = []
    for field, value in vitals.items():
        if value is None or field not in fields:
            continue
        testcd, test, unit = VITAL_SIGNS[fields[field]]
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
    return rows


@functools.cache
def _infusion_visits(source_yaml: str) -> dict[int, tuple[str, int]]:
    """Infusion number → (visit code, schedule day) in a protocol: the n-th infusion is due on
    the n-th of ``Dosing.infusion_days``, and the protocol has a visit on each of those days
    (``protocol.model.Protocol`` refuses a schedule without one)."""
    try:
        protocol = load_protocol(source_yaml)
    except ProtocolError:  # a stored protocol was checked on load; never expected
        return {}
    codes = {visit.day: visit.code for visit in protocol.visits}
    days = enumerate(protocol.dosing.infusion_days(), start=1)
    return {number: (codes[day], day) for number, day in days if day in codes}


def _schedules(records: Records) -> dict[uuid.UUID, dict[int, tuple[str, int]]]:
    """``_infusion_visits`` of each infused patient's protocol, by patient id."""
    sources = {protocol.id: protocol.source_yaml for protocol in records.protocols}
    infused = {infusion.patient_id for infusion in records.infusions}
    return {
        patient.id: _infusion_visits(sources[patient.protocol_version_id])
        for patient in records.patients
        if patient.id in infused
    }


def _infusion_visit(
    schedule: dict[int, tuple[str, int]], number: int, numbers: dict[str, int]
) -> Row:
    """``VISITNUM``/``VISIT``/``VISITDY`` of the protocol visit of the ``number``-th infusion,
    all empty when the patient's protocol schedules no visit for it."""
    code, day = schedule.get(number, ("", 0))
    if code not in numbers:
        return {"VISITNUM": None, "VISIT": None, "VISITDY": None}
    return {"VISITNUM": numbers[code], "VISIT": code, "VISITDY": planned_day(day)}


def infusion_vs_rows(records: Records) -> list[Row]:
    """The vital signs of every infusion, as SDTMIG 3.x (section 4.4.10, timing variables)
    times findings planned around a reference point: ``VSTPTREF`` names the infusion
    ("INFUSION <n>", the registry's ``Infusion.number``: one EX record each), ``VSRFTDTC`` its
    start, ``VSTPT``/``VSTPTNUM`` PRE-INFUSION 1 (``vitals_before``) and POST-INFUSION 2
    (``vitals_after``). ``VSELTM`` is the *planned* elapsed time and the protocol plans none, so
    it is not given.

    ``VSDTC``: the before-vitals at the infusion start; the after-vitals at its end, the moment
    they follow, as the record holds no time of their own; without a recorded end, only the
    start's date — SDTM writes a date/time at the precision collected and never imputes a time
    (SDTMIG 3.x section 4.4, ISO 8601 dates). ``VSDY`` by the study-day rule (``study_day``)."""
    found = subjects(records)
    numbers = visit_numbers(records)
    schedules = _schedules(records)
    rows = []
    for infusion in records.infusions:
        subject = found[infusion.patient_id]
        reference = {
            **identifiers(subject, VS),
            **_infusion_visit(schedules[infusion.patient_id], infusion.number, numbers),
            "VSTPTREF": f"INFUSION {infusion.number}",
            "VSRFTDTC": iso_datetime(infusion.started_at),
        }
        start, end = infusion.started_at, infusion.ended_at
        before = (iso_datetime(start), start.date())
        after = (iso_datetime(end), end.date()) if end else (iso_date(start.date()), start.date())
        taken = ((infusion.vitals_before, before), (infusion.vitals_after, after))
        for number, (vitals, (when, day)) in enumerate(taken, start=1):
            timing = {
                "VSDTC": when,
                "VSDY": subject.day(day),
                "VSTPT": INFUSION_TIME_POINTS[number - 1],
                "VSTPTNUM": number,
            }
            rows.extend(_measured({**reference, **timing}, vitals or {}, INFUSION_VITALS))
    return rows


def _in_time(row: Row) -> tuple[str, str, int, str]:
    """Day, then infusion start (visit vitals first), time point, test."""
    return (row["VSDTC"][:10], row.get("VSRFTDTC") or "", row.get("VSTPTNUM") or 0, row["VSTESTCD"])


def vs(records: Records) -> Domain:
    """One record per vital sign recorded at a visit or around an infusion; ``VSSEQ`` in the
    order they were taken."""
    visit_fields = {field: field for field in VITAL_SIGNS}
    rows = [
        row
        for visit, base in _visits(records, VS)
        for row in _measured(base, visit.findings.get("vitals") or {}, visit_fields)
    ]
    rows.extend(infusion_vs_rows(records))
    rows.sort(key=_in_time)
    return checked_domain(VS, sequenced(VS, rows, ()))  # sequenced's sort is stable


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
