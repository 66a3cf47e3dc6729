"""CTCAE v5.0 grades for the nine laboratory and vital-sign terms of §12 (contract §16.12).

Every term's cut-offs are kept as a table of intervals (``TABLES``), each interval tagged with
the grade it gives; a value equal to a cut-off belongs to the milder grade (§12, as the admiral
code S58 does). Intervals of the increased terms are multiples of the ULN or of the baseline.
Laboratory terms have no grade 5 (D18); anemia grades 4–5 and the infusion-related and allergic
reactions are clinical judgements, entered by a clinician and not scored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from lupus_msc.clinical import units
from lupus_msc.clinical.common import (
    Exact,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    Positive,
)

Term = Literal[
    "neutrophil_count_decreased",
    "white_blood_cell_decreased",
    "platelet_count_decreased",
    "lymphocyte_count_decreased",
    "anemia",
    "alt_increased",
    "ast_increased",
    "creatinine_increased",
    "fever",
]
Unit = Literal["10*9/L", "/mm3", "g/dL", "g/L", "mmol/L", "U/L", "mg/dL", "umol/L", "Cel"]
Basis = Literal["absolute", "lln", "uln", "baseline"]
CTCAE_VERSION: Literal["5.0"] = "5.0"


@dataclass(frozen=True)
class Interval:
    """Values from ``low`` to ``high`` (None = unbounded) give ``grade``; ends open or closed."""

    grade: int
    low: Decimal | None
    high: Decimal | None
    low_closed: bool
    high_closed: bool

    def contains(self, value: Decimal, scale: Decimal = Decimal(1)) -> bool:
        """Whether ``value`` lies in the interval, its ends multiplied by ``scale`` (ULN, …)."""
        if self.low is not None:
            low = self.low * scale
            if value < low or (value == low and not self.low_closed):
                return False
        if self.high is not None:
            high = self.high * scale
            if value > high or (value == high and not self.high_closed):
                return False
        return True


def _below(grade: int, low: str, high: str | None) -> Interval:
    """``[low, high)``: the decreased terms' "< high – low" (a cut-off goes to the milder grade)."""
    return Interval(grade, Decimal(low), None if high is None else Decimal(high), True, False)


def _above(grade: int, low: str, high: str | None) -> Interval:
    """``(low, high]``: the increased terms' "> low – high"."""
    return Interval(grade, Decimal(low), None if high is None else Decimal(high), False, True)


def _decreased(grade_4: str, grade_3: str, grade_2: str) -> tuple[Interval, ...]:
    """Grades 4, 3, 2 from absolute cut-offs; at or above the grade-2 cut-off, grade 1 if < LLN."""
    return (
        _below(4, "0", grade_4),
        _below(3, grade_4, grade_3),
        _below(2, grade_3, grade_2),
        _below(1, grade_2, None),
    )


TABLES: dict[str, tuple[Interval, ...]] = {
    # §12 decreased counts, 10⁹/L; the last interval is grade 1 only below the LLN, else 0.
    "neutrophil_count_decreased": _decreased("0.5", "1.0", "1.5"),
    "white_blood_cell_decreased": _decreased("1.0", "2.0", "3.0"),
    "platelet_count_decreased": _decreased("25.0", "50.0", "75.0"),
    "lymphocyte_count_decreased": _decreased("0.2", "0.5", "0.8"),
    # §12 anemia: the CTCAE's own g/dL and mmol/L cut-offs (grade 3 is the worst derived here).
    "anemia_g_dl": (_below(3, "0", "8.0"), _below(2, "8.0", "10.0"), _below(1, "10.0", None)),
    "anemia_mmol_l": (_below(3, "0", "4.9"), _below(2, "4.9", "6.2"), _below(1, "6.2", None)),
    # §12 ALT/AST, multiples of the ULN (normal baseline) or of an abnormal baseline.
    "aminotransferase_uln": (
        Interval(0, Decimal(0), Decimal(1), True, True),
        _above(1, "1", "3.0"),
        _above(2, "3.0", "5.0"),
        _above(3, "5.0", "20.0"),
        _above(4, "20.0", None),
    ),
    "aminotransferase_baseline": (
        Interval(0, Decimal(0), Decimal("1.5"), True, False),
        Interval(1, Decimal("1.5"), Decimal("3.0"), True, True),
        _above(2, "3.0", "5.0"),
        _above(3, "5.0", "20.0"),
        _above(4, "20.0", None),
    ),
    # §12 creatinine, multiples of the ULN and (grades 2–3 only) of the baseline.
    "creatinine_uln": (
        Interval(0, Decimal(0), Decimal(1), True, True),
        _above(1, "1", "1.5"),
        _above(2, "1.5", "3.0"),
        _above(3, "3.0", "6.0"),
        _above(4, "6.0", None),
    ),
    "creatinine_baseline": (
        Interval(0, Decimal(0), Decimal("1.5"), True, True),
        _above(2, "1.5", "3.0"),
        _above(3, "3.0", None),
    ),
    # §12 fever, °C (D19); above 40.0 °C the grade is 3 or 4 by the hours spent above 40.
    "fever_c": (
        Interval(0, None, Decimal("38.0"), False, False),
        Interval(1, Decimal("38.0"), Decimal("39.0"), True, True),
        _above(2, "39.0", "40.0"),
        _above(3, "40.0", None),
    ),
    "fever_hours_above_40": (
        Interval(3, Decimal(0), Decimal(24), True, True),
        _above(4, "24", None),
    ),
}
"""The §12 cut-offs of every term; tests check each table is contiguous without overlap."""

COUNT_TERMS = frozenset(
    {
        "neutrophil_count_decreased",
        "white_blood_cell_decreased",
        "platelet_count_decreased",
        "lymphocyte_count_decreased",
    }
)
TERM_UNITS: dict[str, tuple[Unit, ...]] = {
    **{term: ("10*9/L", "/mm3") for term in COUNT_TERMS},
    "anemia": ("g/dL", "g/L", "mmol/L"),
    "alt_increased": ("U/L",),
    "ast_increased": ("U/L",),
    "creatinine_increased": ("mg/dL", "umol/L"),
    "fever": ("Cel",),
}
"""§16.12: the units each term accepts."""

_RANGES: dict[str, tuple[Unit, Decimal, Decimal | None]] = {
    "platelet_count_decreased": ("10*9/L", Decimal(0), Decimal(2000)),
    "white_blood_cell_decreased": ("10*9/L", Decimal(0), Decimal(500)),
    "neutrophil_count_decreased": ("10*9/L", Decimal(0), Decimal(500)),
    "lymphocyte_count_decreased": ("10*9/L", Decimal(0), Decimal(500)),
    "fever": ("Cel", Decimal(25), Decimal(45)),
}
"""§16.0 physiological ranges (in the unit named); other values need only be ≥ 0."""
_HEMOGLOBIN_G_DL_MAX = Decimal(25)
_HEMOGLOBIN_MMOL_L_MAX = Decimal("15.5")
"""§16.0's 25 g/dL in mmol/L by the CTCAE's own pairing (10.0 g/dL ↔ 6.2 mmol/L): 25 × 0.62."""


class CtcaeInput(InstrumentInput):
    """One result to grade; ``lln``, ``uln`` and ``baseline`` are in the unit of ``value``."""

    term: Term
    unit: Unit
    value: Exact
    lln: NonNegative | None = None
    uln: Positive | None = None
    baseline: Positive | None = None
    hours_above_40: NonNegative | None = None

    @field_validator("unit")
    @classmethod
    def _unit_fits_term(cls, unit: Unit, info: ValidationInfo) -> Unit:
        term = info.data.get("term")
        if term is not None and unit not in TERM_UNITS[term]:
            raise PydanticCustomError(
                "unit_mismatch",
                "{unit} is not a unit for {term}; use one of {allowed}",
                {"unit": unit, "term": term, "allowed": ", ".join(TERM_UNITS[term])},
            )
        return unit

    @field_validator("value")
    @classmethod
    def _value_in_range(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        term, unit = info.data.get("term"), info.data.get("unit")
        if term is None or unit is None:
            return value  # already refused for its term or unit
        low, high = _range(term, unit)
        if value < low or (high is not None and value > high):
            limit = f"{low}–{high}" if high is not None else f"≥ {low}"
            raise PydanticCustomError(
                "out_of_range",
                "{value} {unit} is outside the range {limit} for {term}",
                {"value": str(value), "unit": unit, "limit": limit, "term": term},
            )
        return value


def _range(term: str, unit: Unit) -> tuple[Decimal, Decimal | None]:
    """The accepted range of ``value`` for ``term``, expressed in ``unit``."""
    if term in _RANGES:
        range_unit, low, high = _RANGES[term]
        if unit != range_unit and high is not None:
            return units.convert(low, range_unit, unit), units.convert(high, range_unit, unit)
        return low, high
    if term == "anemia" and unit in ("g/dL", "g/L"):
        return Decimal(0), units.convert(_HEMOGLOBIN_G_DL_MAX, "g/dL", unit)
    if term == "anemia":
        return Decimal(0), _HEMOGLOBIN_MMOL_L_MAX
    return Decimal(0), None


class CtcaeResult(InstrumentResult):
    instrument: Literal["ctcae"] = "ctcae"
    section: Literal["§12"] = "§12"
    grade: int | None
    basis: Basis
    ctcae_version: Literal["5.0"] = CTCAE_VERSION


Graded = tuple[int | None, Basis, list[str]]
"""A grade (None when undecidable), what it rests on, and the inputs that would decide it."""


def interval_grade(table: tuple[Interval, ...], value: Decimal, scale: Decimal = Decimal(1)) -> int:
    """The grade of the one interval of ``table`` that holds ``value`` (§12)."""
    for interval in table:
        if interval.contains(value, scale):
            return interval.grade
    raise ValueError(f"{value} lies outside every interval")  # inputs are range-checked


def _decreased_table(inp: CtcaeInput) -> tuple[tuple[Interval, ...], Decimal, Decimal | None]:
    """The term's table and ``value``/``lln`` converted to the table's unit."""
    if inp.term == "anemia":
        if inp.unit == "mmol/L":
            return TABLES["anemia_mmol_l"], inp.value, inp.lln
        table, table_unit = TABLES["anemia_g_dl"], "g/dL"
    else:
        table, table_unit = TABLES[inp.term], "10*9/L"
    lln = None if inp.lln is None else units.convert(inp.lln, inp.unit, table_unit)
    return table, units.convert(inp.value, inp.unit, table_unit), lln


def grade_decreased(inp: CtcaeInput) -> Graded:
    """Decreased counts and anemia: grades 2+ from absolute cut-offs, grade 1 below LLN (§12)."""
    table, value, lln = _decreased_table(inp)
    grade = interval_grade(table, value)
    if grade >= 2:
        return grade, "absolute", []
    if lln is None:
        return None, "lln", ["lln"]
    return (1 if value < lln else 0), "lln", []


def grade_aminotransferase(inp: CtcaeInput) -> Graded:
    """ALT/AST: multiples of the ULN, or of the baseline when the baseline is above ULN (§12)."""
    if inp.uln is None:
        return None, "uln", ["uln"]
    if inp.baseline is not None and inp.baseline > inp.uln:
        by_baseline = interval_grade(TABLES["aminotransferase_baseline"], inp.value, inp.baseline)
        return by_baseline, "baseline", []
    return interval_grade(TABLES["aminotransferase_uln"], inp.value, inp.uln), "uln", []


def grade_creatinine(inp: CtcaeInput) -> Graded:
    """Creatinine: the higher of the ULN grade and, given a baseline, the baseline grade (§12).

    Both are ratios of values in the same unit, so µmol/L and mg/dL grade alike unconverted.
    """
    if inp.uln is None:
        return None, "uln", ["uln"]
    by_uln = interval_grade(TABLES["creatinine_uln"], inp.value, inp.uln)
    if inp.baseline is None:
        return by_uln, "uln", []
    by_baseline = interval_grade(TABLES["creatinine_baseline"], inp.value, inp.baseline)
    if by_baseline > by_uln:
        return by_baseline, "baseline", []
    return by_uln, "uln", []


def grade_fever(inp: CtcaeInput) -> Graded:
    """Fever: 38.0–39.0 °C grade 1, > 39.0–40.0 grade 2, > 40.0 grade 3 or 4 by duration (§12)."""
    grade = interval_grade(TABLES["fever_c"], inp.value)
    if grade < 3:
        return grade, "absolute", []
    if inp.hours_above_40 is None:
        return None, "absolute", ["hours_above_40"]
    return interval_grade(TABLES["fever_hours_above_40"], inp.hours_above_40), "absolute", []


def score(inp: CtcaeInput) -> CtcaeResult:
    """CTCAE v5.0 grade of one result (§12; contract §16.12).

    A grade that needs a missing reference value is None and ``missing`` names it; reference
    values a term does not use (e.g. ``uln`` for platelets) are ignored.
    """
    if inp.term in COUNT_TERMS or inp.term == "anemia":
        grade, basis, missing = grade_decreased(inp)
    elif inp.term in ("alt_increased", "ast_increased"):
        grade, basis, missing = grade_aminotransferase(inp)
    elif inp.term == "creatinine_increased":
        grade, basis, missing = grade_creatinine(inp)
    else:
        grade, basis, missing = grade_fever(inp)
    return CtcaeResult(grade=grade, basis=basis, missing=missing)


INSTRUMENT = Instrument(
    name="ctcae",
    section="§12",
    title="CTCAE v5.0 grade (blood counts, anemia, ALT/AST, creatinine, fever)",
    input_model=CtcaeInput,
    result_model=CtcaeResult,
    score=score,
)
