"""eGFR CKD-EPI 2021 over a prepared visit table (§9; contract §16.8), equal to ``clinical.egfr``.

Result columns (prefix ``egfr-ckdepi2021.``): ``egfr_cr`` and ``egfr_cr_cys`` (Float64, full
precision), ``category`` and ``loinc`` (enums), and ``missing`` (bit mask over ``MISSING_NAMES``).
Which side of a kink a value lies on (Scr/κ < 1, Scys/0.8 < 1) is decided exactly on the
fixed-point integers; only the real powers are taken in Float64, as the single-record version does.

A row the single-record version refuses gets null results: sex, age or creatinine not given, age
below 18 (the adult equations, §9), or a creatinine or cystatin C of 0 (both must be positive).
For such a row ``missing`` names the inputs among sex, age and creatinine that are not given.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from lupus_msc.clinical.batch.frame import exact_value, fixed_threshold
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.egfr import (
    CATEGORY_FLOORS,
    CREATININE_2021,
    CREATININE_CYSTATIN_2021,
    CYSTATIN_EXPONENT_ABOVE,
    CYSTATIN_EXPONENT_BELOW,
    CYSTATIN_KINK_MG_L,
    KAPPA,
    LOINC_CR,
    LOINC_CR_CYS,
    Equation,
)

PREFIX = "egfr-ckdepi2021."
CATEGORIES = pl.Enum([*(category for category, _ in CATEGORY_FLOORS), "G5"])
LOINCS = pl.Enum([LOINC_CR, LOINC_CR_CYS])
MISSING_NAMES = ("sex", "age_years", "creatinine_mg_dl")
"""Bit i of ``missing`` ↔ MISSING_NAMES[i]: the inputs without which no eGFR is computed (§9)."""
MIN_AGE_YEARS = 18
"""§9 [IMPL], §16.0: the 2021 equations are for adults, age 18–120."""

_LABS = ("creatinine_mg_dl", "cystatin_c_mg_l")
_FEMALE = pl.col("sex") == "female"
_SCR = pl.col("creatinine_mg_dl")
_SCYS = pl.col("cystatin_c_mg_l")


def _scorable() -> pl.Expr:
    """The rows the single-record version accepts (§16.8 input rules, §16.0 age range)."""
    given = pl.col("sex").is_not_null() & pl.col("age_years").is_not_null() & _SCR.is_not_null()
    in_range = (pl.col("age_years") >= MIN_AGE_YEARS) & (_SCR > 0) & (_SCYS.is_null() | (_SCYS > 0))
    return given & in_range


def _by_sex(female: float, male: float) -> pl.Expr:
    return pl.when(_FEMALE).then(pl.lit(female)).otherwise(pl.lit(male))


def _spline(value: pl.Expr, kink: pl.Expr | int, *, below: pl.Expr, above: pl.Expr) -> pl.Expr:
    """min(v/kink, 1)^below × max(v/kink, 1)^above; the side is chosen on the exact integers."""
    ratio = value.cast(pl.Float64) / kink
    return ratio.pow(pl.when(value < kink).then(below).otherwise(above))


def _common_factors(equation: Equation) -> pl.Expr:
    """Multiplier × creatinine term × age term × sex factor, in the single-record order (§9)."""
    kappa = (
        pl.when(_FEMALE)
        .then(fixed_threshold("creatinine_mg_dl", KAPPA["female"]))
        .otherwise(fixed_threshold("creatinine_mg_dl", KAPPA["male"]))
    )
    creatinine = _spline(
        _SCR,
        kappa,
        below=_by_sex(equation.alpha["female"], equation.alpha["male"]),
        above=pl.lit(equation.exponent_above_kappa),
    )
    age = pl.lit(equation.age_base).pow(pl.col("age_years").cast(pl.Float64))
    return pl.lit(equation.multiplier) * creatinine * age * _by_sex(equation.female_factor, 1.0)


def _category(egfr: pl.Expr) -> pl.Expr:
    """KDIGO category of the float eGFR: G1 ≥ 90 … G4 ≥ 15, else G5 (§9, §16.8)."""
    chain: Any = pl
    for category, floor in CATEGORY_FLOORS:
        chain = chain.when(egfr >= floor).then(pl.lit(category))
    return chain.otherwise(pl.lit("G5")).cast(CATEGORIES)  # type: ignore[no-any-return]


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the CKD-EPI 2021 result columns to a prepared visit table (§9, §16.8)."""
    scorable = _scorable()
    cystatin = _spline(
        _SCYS,
        fixed_threshold("cystatin_c_mg_l", CYSTATIN_KINK_MG_L),
        below=pl.lit(CYSTATIN_EXPONENT_BELOW),
        above=pl.lit(CYSTATIN_EXPONENT_ABOVE),
    )
    by_creatinine = pl.when(scorable).then(_common_factors(CREATININE_2021))
    by_both = pl.when(scorable).then(_common_factors(CREATININE_CYSTATIN_2021) * cystatin)
    with_values = frame.with_columns(
        by_creatinine.alias(PREFIX + "egfr_cr"), by_both.alias(PREFIX + "egfr_cr_cys")
    )
    cr, cr_cys = pl.col(PREFIX + "egfr_cr"), pl.col(PREFIX + "egfr_cr_cys")
    loinc = pl.when(cr_cys.is_not_null()).then(pl.lit(LOINC_CR_CYS)).otherwise(pl.lit(LOINC_CR))
    return with_values.with_columns(
        pl.when(cr.is_not_null())
        .then(_category(pl.coalesce(cr_cys, cr)))
        .alias(PREFIX + "category"),
        pl.when(cr.is_not_null()).then(loinc).cast(LOINCS).alias(PREFIX + "loinc"),
        mask_expr([(bit, pl.col(name).is_null()) for bit, name in enumerate(MISSING_NAMES)]).alias(
            PREFIX + "missing"
        ),
    )


def result_fields(row: dict[str, Any]) -> dict[str, Any]:
    """One scored row in the single-record result's shape (§16.8); all null if unscorable."""
    return {
        "egfr_cr": row[PREFIX + "egfr_cr"],
        "egfr_cr_cys": row[PREFIX + "egfr_cr_cys"],
        "category": row[PREFIX + "category"],
        "loinc": row[PREFIX + "loinc"],
        "missing": names_in(row[PREFIX + "missing"], MISSING_NAMES),
    }


def single_record_input(row: dict[str, Any]) -> dict[str, Any] | None:
    """The single-record input (§16.8) for one scored row; None where the batch's results are
    null (the single-record version refuses the row)."""
    if row[PREFIX + "egfr_cr"] is None:
        return None
    given = {name: exact_value(row, name) for name in ("sex", "age_years", *_LABS)}
    return {name: value for name, value in given.items() if value is not None}
