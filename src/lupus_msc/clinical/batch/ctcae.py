"""CTCAE v5.0 grades over a prepared visit table (§12, §16.12), equal to ``clinical.ctcae``.

For each term the visit table carries (``TERMS``), three result columns with the prefix
``ctcae.<term>.``: ``grade`` (Int8, null when undecidable), ``basis`` (enum of the §16.12 bases)
and ``missing`` (bit mask over ``MISSING_NAMES``, the single-record input fields that would decide a
null grade). Every cut-off comes from ``clinical.ctcae.TABLES`` and is compared on the fixed-point
integers: a multiple ``p/q × ULN`` is decided as ``value × q`` against ``ULN × p``, never a ratio.

ALT, AST and creatinine take as baseline the value at the patient's baseline visit (the visit
flagged ``is_baseline``, else the first visit; ``longitudinal``), kept with the grade as
``ctcae.<term>.baseline`` (exact, in the value's unit; §12 stores the inputs of a grade). A row
gets no result at all
(grade, basis and missing null) where the single-record version cannot be called or refuses the
input: the value is not given, or the ULN or the baseline value is 0 (both must be positive).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import polars as pl

from lupus_msc.clinical.batch.frame import decimal_column, exact_value
from lupus_msc.clinical.batch.longitudinal import add_positions, baseline
from lupus_msc.clinical.batch.masks import names_in
from lupus_msc.clinical.batch.schema import BY_NAME
from lupus_msc.clinical.ctcae import CTCAE_VERSION, TABLES, Interval, Unit

PREFIX = "ctcae."
BASES = pl.Enum(["absolute", "lln", "uln", "baseline"])
MISSING_NAMES = ("lln", "uln", "hours_above_40")
"""Bit i of ``missing`` ↔ MISSING_NAMES[i] (§16.12 input names)."""
_LLN, _ULN, _HOURS = (1 << bit for bit in range(len(MISSING_NAMES)))


@dataclass(frozen=True)
class TermColumns:
    """The visit-table columns one term is graded from, and the unit they are in (§16.12)."""

    value: str
    unit: Unit
    lln: str | None = None
    uln: str | None = None
    hours: str | None = None

    @property
    def has_baseline(self) -> bool:
        """ALT, AST and creatinine compare with the baseline visit's value (§12)."""
        return self.uln is not None


def _counts(value: str, lln: str) -> TermColumns:
    return TermColumns(value, "10*9/L", lln=lln)


TERMS: dict[str, TermColumns] = {
    "neutrophil_count_decreased": _counts("neutrophils_10e9_l", "neutrophils_lln_10e9_l"),
    "white_blood_cell_decreased": _counts("wbc_10e9_l", "wbc_lln_10e9_l"),
    "platelet_count_decreased": _counts("platelets_10e9_l", "platelets_lln_10e9_l"),
    "lymphocyte_count_decreased": _counts("lymphocytes_10e9_l", "lymphocytes_lln_10e9_l"),
    "anemia": TermColumns("hemoglobin_g_dl", "g/dL", lln="hemoglobin_lln_g_dl"),
    "alt_increased": TermColumns("alt_u_l", "U/L", uln="alt_uln_u_l"),
    "ast_increased": TermColumns("ast_u_l", "U/L", uln="ast_uln_u_l"),
    "creatinine_increased": TermColumns("creatinine_mg_dl", "mg/dL", uln="creatinine_uln_mg_dl"),
    "fever": TermColumns("temperature_c", "Cel", hours="hours_above_40"),
}
"""§16.12 terms graded per visit, with their columns (value and reference in one unit)."""


def _check_scales() -> None:
    """A value and its LLN/ULN must keep the same decimals: they are compared as integers."""
    for columns in TERMS.values():
        references = [name for name in (columns.lln, columns.uln) if name is not None]
        if any(BY_NAME[name].scale != BY_NAME[columns.value].scale for name in references):
            raise RuntimeError(f"{columns.value}: its reference limit must keep the same decimals")


_check_scales()


def _baseline_column(term: str) -> str:
    return f"_ctcae_baseline_{term}"


def _reaches(value: pl.Expr, interval: Interval, unit: pl.Expr | int) -> pl.Expr:
    """``value`` at or past the lower end of ``interval`` (× ``unit``), on integers (§12)."""
    if interval.low is None:
        raise ValueError("only a table's first interval may be open below")
    p, q = interval.low.as_integer_ratio()
    if isinstance(unit, int) and unit * p % q == 0:
        bound: pl.Expr | int = unit * p // q  # an exact threshold in the column's units
    else:
        value, bound = value * q, unit * p  # cross-multiplied: value × q against unit × p
    return value >= bound if interval.low_closed else value > bound


def _check_contiguous(name: str) -> None:
    """Each interval must start where the previous one ends (the single-record tests check it)."""
    for previous, interval in pairwise(TABLES[name]):
        if previous.high != interval.low or previous.high_closed == interval.low_closed:
            raise RuntimeError(f"CTCAE table {name} is not contiguous at {interval.low}")


def table_grade(table: str, value: pl.Expr, unit: pl.Expr | int) -> pl.Expr:
    """The grade of the interval of ``TABLES[table]`` holding ``value`` (§12), as the first
    interval's grade plus the step at each cut-off ``value`` reaches (null if value is null)."""
    _check_contiguous(table)
    intervals = TABLES[table]
    grade = pl.lit(intervals[0].grade, dtype=pl.Int8)
    for previous, interval in pairwise(intervals):
        reached = _reaches(value, interval, unit).cast(pl.Int8)
        grade = grade + reached * (interval.grade - previous.grade)
    return grade.cast(pl.Int8)


Graded = tuple[pl.Expr, pl.Expr, pl.Expr]
"""Grade, basis and missing-mask expressions of one term."""


def _fixed_one(column: str) -> int:
    return int(10 ** BY_NAME[column].scale)


def _grade_decreased(term: str, columns: TermColumns) -> Graded:
    """Counts and anemia: grades 2–4 from absolute cut-offs, grade 1 below the LLN (§12)."""
    value, lln = pl.col(columns.value), pl.col(str(columns.lln))
    absolute = table_grade(
        "anemia_g_dl" if term == "anemia" else term, value, _fixed_one(columns.value)
    )
    by_cutoff = absolute >= 2
    grade = (
        pl.when(by_cutoff)
        .then(absolute)
        .when(lln.is_null())
        .then(None)
        .otherwise((value < lln).cast(pl.Int8))
    )
    basis = pl.when(by_cutoff).then(pl.lit("absolute")).otherwise(pl.lit("lln"))
    missing = pl.when(~by_cutoff & lln.is_null()).then(_LLN).otherwise(0)
    return grade, basis, missing


def _grade_aminotransferase(columns: TermColumns, reference: pl.Expr) -> Graded:
    """ALT/AST: multiples of the ULN, or of the baseline when it is above the ULN (§12)."""
    value, uln = pl.col(columns.value), pl.col(str(columns.uln))
    abnormal = reference.is_not_null() & (reference > uln)
    grade = (
        pl.when(uln.is_null())
        .then(None)
        .when(abnormal)
        .then(table_grade("aminotransferase_baseline", value, reference))
        .otherwise(table_grade("aminotransferase_uln", value, uln))
    )
    basis = pl.when(abnormal).then(pl.lit("baseline")).otherwise(pl.lit("uln"))
    return grade, basis, pl.when(uln.is_null()).then(_ULN).otherwise(0)


def _grade_creatinine(columns: TermColumns, reference: pl.Expr) -> Graded:
    """Creatinine: the higher of the ULN grade and the baseline grade (§12)."""
    value, uln = pl.col(columns.value), pl.col(str(columns.uln))
    by_uln = table_grade("creatinine_uln", value, uln)
    by_baseline = table_grade("creatinine_baseline", value, reference)
    higher = reference.is_not_null() & (by_baseline > by_uln)
    grade = pl.when(uln.is_null()).then(None).when(higher).then(by_baseline).otherwise(by_uln)
    basis = pl.when(higher).then(pl.lit("baseline")).otherwise(pl.lit("uln"))
    return grade, basis, pl.when(uln.is_null()).then(_ULN).otherwise(0)


def _grade_fever(columns: TermColumns) -> Graded:
    """Fever: grades 1–2 by temperature; above 40.0 °C grade 3 or 4 by the hours (§12)."""
    value, hours = pl.col(columns.value), pl.col(str(columns.hours))
    by_temperature = table_grade("fever_c", value, _fixed_one(columns.value))
    by_hours = table_grade("fever_hours_above_40", hours, _fixed_one(str(columns.hours)))
    undecided = (by_temperature >= 3) & hours.is_null()
    grade = (
        pl.when(by_temperature < 3)
        .then(by_temperature)
        .when(hours.is_null())
        .then(None)
        .otherwise(by_hours)
    )
    return grade, pl.lit("absolute"), pl.when(undecided).then(_HOURS).otherwise(0)


def _graded(term: str, columns: TermColumns) -> Graded:
    if columns.lln is not None:
        return _grade_decreased(term, columns)
    if columns.hours is not None:
        return _grade_fever(columns)
    reference = pl.col(_baseline_column(term))
    if term == "creatinine_increased":
        return _grade_creatinine(columns, reference)
    return _grade_aminotransferase(columns, reference)


def _accepted(term: str, columns: TermColumns) -> pl.Expr:
    """Rows the single-record version accepts: a value, and a positive ULN and baseline."""
    accepted = pl.col(columns.value).is_not_null()
    if columns.uln is not None:
        uln, reference = pl.col(columns.uln), pl.col(_baseline_column(term))
        accepted = accepted & ~(uln == 0).fill_null(False) & ~(reference == 0).fill_null(False)
    return accepted


def term_results(term: str) -> list[pl.Expr]:
    """The grade, basis and missing columns of one term, and its baseline (§12, §16.12)."""
    columns = TERMS[term]
    accepted = _accepted(term, columns)
    grade, basis, missing = _graded(term, columns)
    name = f"{PREFIX}{term}."
    results = [
        pl.when(accepted).then(grade).cast(pl.Int8).alias(name + "grade"),
        pl.when(accepted).then(basis).cast(BASES).alias(name + "basis"),
        pl.when(accepted).then(missing).cast(pl.Int8).alias(name + "missing"),
    ]
    if columns.has_baseline:
        reference = pl.col(_baseline_column(term))
        exact = decimal_column(reference, BY_NAME[columns.value].scale)
        results.append(exact.alias(name + "baseline"))
    return results


@cache
def _expressions() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The baseline-value columns, then every term's result columns (built once)."""
    references = [
        baseline(columns.value).alias(_baseline_column(term))
        for term, columns in TERMS.items()
        if columns.has_baseline
    ]
    return references, [expr for term in TERMS for expr in term_results(term)]


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add every term's CTCAE result columns to a prepared visit table (§12, §16.12)."""
    positioned = add_positions(frame)
    added = [column for column in positioned.columns if column not in frame.columns]
    references, results = _expressions()
    temporary = [*added, *(_baseline_column(t) for t, c in TERMS.items() if c.has_baseline)]
    return positioned.with_columns(references).with_columns(results).drop(temporary)


def result_fields(row: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """One scored row as term → the single-record result's shape (§16.12), None when no result."""
    fields: dict[str, dict[str, Any] | None] = {}
    for term in TERMS:
        name = f"{PREFIX}{term}."
        if row[name + "basis"] is None:
            fields[term] = None
            continue
        fields[term] = {
            "grade": row[name + "grade"],
            "basis": row[name + "basis"],
            "ctcae_version": CTCAE_VERSION,
            "missing": names_in(row[name + "missing"], MISSING_NAMES),
        }
    return fields


def single_record_inputs(row: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Term → the single-record input (§16.12) for one scored row, None where the batch gives no
    result (no value, or an input the single-record version refuses)."""
    inputs: dict[str, dict[str, Any] | None] = {}
    for term, columns in TERMS.items():
        if row[f"{PREFIX}{term}.basis"] is None:
            inputs[term] = None
            continue
        given = {
            "value": exact_value(row, columns.value),
            "lln": None if columns.lln is None else exact_value(row, columns.lln),
            "uln": None if columns.uln is None else exact_value(row, columns.uln),
            "baseline": row[f"{PREFIX}{term}.baseline"] if columns.has_baseline else None,
            "hours_above_40": None if columns.hours is None else exact_value(row, columns.hours),
        }
        inputs[term] = {
            "term": term,
            "unit": columns.unit,
            **{key: value for key, value in given.items() if value is not None},
        }
    return inputs
