"""Follow-up labs: the analytes a visit records, their units, plausible ranges and LOINC codes
(DESIGN.md pathway step 5), and their storage (a changed result supersedes, never deletes).

Every value is kept exactly as reported, in the unit it was reported in (instruments.md §0.3);
it is converted to the analyte's canonical unit only to check that it is plausible and to feed
the instruments (SLEDAI-2K §1, eGFR §9). Conversions come from ``clinical.units`` (pint, and the
§9/§10 creatinine factors); the few pure SI-prefix steps it has no spelling for are noted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.clinical import codes, units
from lupus_msc.clinical.common import Num
from lupus_msc.services.errors import invalid
from lupus_msc.services.fields import Digits, In, NumberOut, Out
from lupus_msc.store.models import LabResult

Convert = Callable[[Decimal], Decimal]

AnalyteKey = Literal[
    "c3",
    "c4",
    "anti_dsdna",
    "hemoglobin",
    "wbc",
    "lymphocytes",
    "neutrophils",
    "platelets",
    "creatinine",
    "cystatin_c",
    "upcr",
    "urine_protein_24h",
    "urine_rbc_hpf",
    "urine_wbc_hpf",
    "crp",
    "esr",
    "cd4",
    "cd8",
    "cd19",
    "treg_pct",
]


def _same(value: Decimal) -> Decimal:
    return value


def _pint(from_unit: str, to_unit: str) -> Convert:
    return lambda value: units.convert(value, from_unit, to_unit)


def _milli_to_unit(value: Decimal) -> Decimal:
    """mg → g (SI prefix; ``clinical.units`` has no spelling for mg/24 h)."""
    return value.scaleb(-3)


def _per_dl_to_per_l(value: Decimal) -> Decimal:
    """mg/dL → mg/L (1 dL = 0.1 L; ``clinical.units`` has no spelling for mg/L)."""
    return value.scaleb(1)


_COUNT: Mapping[str, Convert] = {"10*9/L": _same, "/mm3": _pint("/mm3", "10*9/L")}


@dataclass(frozen=True)
class Analyte:
    """One analyte: its canonical unit, the units accepted (each with its conversion to the
    canonical unit), the plausible range in the canonical unit, and its §15 LOINC concept."""

    key: AnalyteKey
    unit: str
    accepted: Mapping[str, Convert]
    low: Decimal
    high: Decimal
    concept: codes.LabConcept | None = None

    def canonical(self, value: Decimal, unit: str) -> Decimal:
        return self.accepted[unit](value)


def _analyte(
    key: AnalyteKey,
    unit: str,
    accepted: Mapping[str, Convert],
    plausible: tuple[str, str],
    concept: codes.LabConcept | None = None,
) -> Analyte:
    low, high = plausible
    return Analyte(key, unit, accepted, Decimal(low), Decimal(high), concept)


ANALYTES: Mapping[str, Analyte] = {
    analyte.key: analyte
    for analyte in (
        _analyte("c3", "g/L", {"g/L": _same, "mg/dL": _pint("mg/dL", "g/L")}, ("0", "5"), "c3"),
        _analyte("c4", "g/L", {"g/L": _same, "mg/dL": _pint("mg/dL", "g/L")}, ("0", "2"), "c4"),
        _analyte("anti_dsdna", "IU/mL", {"IU/mL": _same}, ("0", "100000"), "anti_dsdna"),
        _analyte(
            "hemoglobin",
            "g/dL",
            {"g/dL": _same, "g/L": _pint("g/L", "g/dL")},
            ("2", "25"),
            "hemoglobin",
        ),
        _analyte("wbc", "10*9/L", _COUNT, ("0", "500"), "wbc"),
        _analyte("lymphocytes", "10*9/L", _COUNT, ("0", "500"), "lymphocytes"),
        _analyte("neutrophils", "10*9/L", _COUNT, ("0", "500"), "neutrophils"),
        _analyte("platelets", "10*9/L", _COUNT, ("0", "2000"), "platelets"),
        _analyte(
            "creatinine",
            "mg/dL",
            {"mg/dL": _same, "umol/L": units.creatinine_umol_l_to_mg_dl},
            ("0.1", "30"),
            "creatinine",
        ),
        _analyte("cystatin_c", "mg/L", {"mg/L": _same}, ("0.2", "15")),
        _analyte(
            "upcr",
            "g/g",
            {
                "g/g": _same,
                "mg/g": _pint("mg/g", "g/g"),
                "mg/mg": _pint("mg/mg", "g/g"),
                "mg/mmol": units.upcr_mg_mmol_to_g_g,
            },
            ("0", "30"),
            "upcr",
        ),
        _analyte(
            "urine_protein_24h",
            "g/24h",
            {"g/24h": _same, "mg/24h": _milli_to_unit},
            ("0", "40"),
            "urine_protein_24h",
        ),
        _analyte("urine_rbc_hpf", "/[HPF]", {"/[HPF]": _same}, ("0", "1000"), "urine_rbc_hpf"),
        _analyte("urine_wbc_hpf", "/[HPF]", {"/[HPF]": _same}, ("0", "1000"), "urine_wbc_hpf"),
        _analyte("crp", "mg/L", {"mg/L": _same, "mg/dL": _per_dl_to_per_l}, ("0", "1000"), "crp"),
        _analyte("esr", "mm/h", {"mm/h": _same}, ("0", "200"), "esr"),
        _analyte("cd4", "10*9/L", _COUNT, ("0", "10")),
        _analyte("cd8", "10*9/L", _COUNT, ("0", "10")),
        _analyte("cd19", "10*9/L", _COUNT, ("0", "10")),
        _analyte("treg_pct", "%", {"%": _same}, ("0", "100")),
    )
}
"""[PROJECT] plausible ranges, in the canonical unit: C3 0–5 g/L; C4 0–2 g/L; anti-dsDNA
0–100 000 IU/mL; haemoglobin 2–25 g/dL (§16.0's ceiling); WBC, lymphocytes, neutrophils
0–500 × 10⁹/L and platelets 0–2000 × 10⁹/L (§16.0); creatinine 0.1–30 mg/dL; cystatin C
0.2–15 mg/L; UPCR 0–30 g/g; 24-h urine protein 0–40 g/24 h; urine RBC/WBC 0–1000 per HPF;
CRP 0–1000 mg/L; ESR 0–200 mm/h (the Westergren tube); CD4, CD8, CD19 (B cells) 0–10 × 10⁹/L;
regulatory T cells 0–100 % (of CD4 cells)."""


def places(most: int) -> AfterValidator:
    """Refuse a number with more than ``most`` decimal places (``5e-324`` is no measurement)."""
    step = Decimal(1).scaleb(-most)

    def check(value: Decimal) -> Decimal:
        if value != value.quantize(step):
            raise PydanticCustomError(
                "decimal_places", "has more than {most} decimal places", {"most": most}
            )
        return value

    return AfterValidator(check)


LabNumber = Annotated[Decimal, Num(ge=0, le=1_000_000), Digits, places(6)]
Loinc = Annotated[str, Field(pattern=r"^[0-9]{1,7}-[0-9]$")]


class LabIn(In):
    """One result: the analyte, its value and unit as reported, the lab's reference range.

    Accepted units and plausible ranges are listed per analyte in ``ANALYTES``; a LOINC code,
    when sent, must be the §15 code of the analyte (known misuses are refused, D20).
    """

    analyte: AnalyteKey
    value: LabNumber
    unit: Annotated[str, Field(min_length=1, max_length=20)]
    reference_low: LabNumber | None = None
    reference_high: LabNumber | None = None
    loinc: Loinc | None = None


class LabOut(Out):
    id: uuid.UUID
    analyte: str
    loinc: str | None
    value: NumberOut | None
    unit: str
    reference_low: NumberOut | None
    reference_high: NumberOut | None
    superseded: bool


def checked_loinc(index: int, lab: LabIn) -> str | None:
    """The analyte's §15 LOINC code; a code sent with the result must be that code. A result in
    a unit of another kind than the code's (``codes.OTHER_KIND_UNITS``) gets none."""
    concept = ANALYTES[lab.analyte].concept
    if lab.loinc is not None and concept is None:
        raise invalid(f"labs[{index}].loinc", f"no LOINC code is known for {lab.analyte}")
    if concept is None:
        return None
    if lab.loinc is None:
        return codes.LOINC[concept].code if codes.loinc_fits(concept, lab.unit) else None
    try:
        codes.check_loinc(concept, lab.loinc, lab.unit)
    except codes.CodeMismatch as error:
        raise invalid(f"labs[{index}].loinc", str(error)) from error
    return lab.loinc


def check(labs: list[LabIn]) -> None:
    """Each analyte once, in one of its units, within its plausible range; low < high."""
    seen: set[str] = set()
    for index, lab in enumerate(labs):
        analyte = ANALYTES[lab.analyte]
        if lab.analyte in seen:
            raise invalid(f"labs[{index}].analyte", f"{lab.analyte} is given twice")
        seen.add(lab.analyte)
        if lab.unit not in analyte.accepted:
            allowed = ", ".join(analyte.accepted)
            raise invalid(f"labs[{index}].unit", f"{lab.analyte} is reported in {allowed}")
        value = analyte.canonical(lab.value, lab.unit)
        if not analyte.low <= value <= analyte.high:
            raise invalid(
                f"labs[{index}].value",
                f"{lab.value} {lab.unit} is implausible for {lab.analyte} "
                f"(accepted {analyte.low}–{analyte.high} {analyte.unit})",
            )
        low, high = lab.reference_low, lab.reference_high
        if low is not None and high is not None and low >= high:
            raise invalid(f"labs[{index}].reference_high", "must be above reference_low")
        checked_loinc(index, lab)


def active(session: Session, visit_id: uuid.UUID) -> list[LabResult]:
    query = select(LabResult).where(LabResult.visit_id == visit_id, ~LabResult.superseded)
    return list(session.scalars(query.order_by(LabResult.analyte)))


def every(session: Session, visit_id: uuid.UUID) -> list[LabResult]:
    query = select(LabResult).where(LabResult.visit_id == visit_id)
    return list(session.scalars(query.order_by(LabResult.analyte, LabResult.created_at)))


def _same_result(stored: LabResult, index: int, lab: LabIn) -> bool:
    """The stored result is the one given. A result given without a LOINC code keeps the code
    it was stored with (one received from a lab, or one the registry no longer assigns)."""
    return (
        stored.analyte == lab.analyte
        and stored.value == lab.value
        and stored.unit == lab.unit
        and stored.reference_low == lab.reference_low
        and stored.reference_high == lab.reference_high
        and (lab.loinc is None or stored.loinc == checked_loinc(index, lab))
    )


def changes(session: Session, visit_id: uuid.UUID, labs: list[LabIn]) -> bool:
    """Whether ``labs`` differ from the visit's current (unsuperseded) results."""
    current = active(session, visit_id)
    if len(current) != len(labs):
        return True
    return not all(
        any(_same_result(stored, index, lab) for stored in current)
        for index, lab in enumerate(labs)
    )


def replace(session: Session, visit_id: uuid.UUID, labs: list[LabIn]) -> list[LabResult]:
    """Make ``labs`` the visit's current results: a changed or dropped result is superseded
    (flagged, kept), an unchanged one stays as it is, a new one is added."""
    current = active(session, visit_id)
    kept: list[LabResult] = []
    for stored in current:
        if any(_same_result(stored, index, lab) for index, lab in enumerate(labs)):
            kept.append(stored)
        else:
            stored.superseded = True
    for index, lab in enumerate(labs):
        if any(_same_result(stored, index, lab) for stored in kept):
            continue
        result = LabResult(
            visit_id=visit_id,
            analyte=lab.analyte,
            loinc=checked_loinc(index, lab),
            value=lab.value,
            unit=lab.unit,
            reference_low=lab.reference_low,
            reference_high=lab.reference_high,
            superseded=False,
        )
        session.add(result)
        kept.append(result)
    session.flush()
    return kept


def canonical(result: LabResult) -> Decimal | None:
    """A stored result's value in its analyte's canonical unit."""
    if result.value is None:
        return None
    return ANALYTES[result.analyte].canonical(result.value, result.unit)


def canonical_reference(result: LabResult, which: Literal["low", "high"]) -> Decimal | None:
    bound = result.reference_low if which == "low" else result.reference_high
    return None if bound is None else ANALYTES[result.analyte].canonical(bound, result.unit)
