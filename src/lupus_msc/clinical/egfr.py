"""eGFR by the race-free CKD-EPI 2021 equations, creatinine and creatinine–cystatin C (§9, §16.8).

The constants are those printed in §9. Which side of the kink an input falls on (Scr/κ below 1 or
not, Scys/0.8 below 1 or not) is decided on exact decimals; the real exponents are then taken in
binary floating point, and the eGFR is returned at full float precision (§9: store full
precision, display rounded). References: Inker LA et al., N Engl J Med 2021;385:1737–1749.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import model_validator

from lupus_msc.clinical.common import (
    Instrument,
    InstrumentInput,
    InstrumentResult,
    Num,
    Positive,
)
from lupus_msc.clinical.units import creatinine_umol_l_to_mg_dl

Sex = Literal["female", "male"]
Category = Literal["G1", "G2", "G3a", "G3b", "G4", "G5"]
Loinc = Literal["98979-8", "98980-6"]

AdultAge = Annotated[Decimal, Num(ge=18, le=120)]
"""§16.0: age_years 18–120 for eGFR (§9: adult equations only)."""

KAPPA: dict[Sex, Decimal] = {"female": Decimal("0.7"), "male": Decimal("0.9")}
"""§9: κ, the creatinine kink in mg/dL, shared by both 2021 equations."""

CYSTATIN_KINK_MG_L = Decimal("0.8")
"""§9: the cystatin C kink (Scys / 0.8) of the creatinine–cystatin C equation."""
CYSTATIN_EXPONENT_BELOW = -0.323
CYSTATIN_EXPONENT_ABOVE = -0.778

LOINC_CR: Loinc = "98979-8"
"""§15: eGFR CKD-EPI 2021, creatinine-based."""
LOINC_CR_CYS: Loinc = "98980-6"
"""§15: eGFR CKD-EPI 2021, creatinine + cystatin C."""


@dataclass(frozen=True)
class Equation:
    """The constants of one CKD-EPI 2021 equation (§9)."""

    multiplier: float
    alpha: dict[Sex, float]
    """Exponent of min(Scr/κ, 1)."""
    exponent_above_kappa: float
    """Exponent of max(Scr/κ, 1)."""
    age_base: float
    female_factor: float


CREATININE_2021 = Equation(
    multiplier=142.0,
    alpha={"female": -0.241, "male": -0.302},
    exponent_above_kappa=-1.200,
    age_base=0.9938,
    female_factor=1.012,
)
"""§9 eGFRcr 2021."""

CREATININE_CYSTATIN_2021 = Equation(
    multiplier=135.0,
    alpha={"female": -0.219, "male": -0.144},
    exponent_above_kappa=-0.544,
    age_base=0.9961,
    female_factor=0.963,
)
"""§9 eGFRcr-cys 2021."""

CATEGORY_FLOORS: tuple[tuple[Category, int], ...] = (
    ("G1", 90),
    ("G2", 60),
    ("G3a", 45),
    ("G3b", 30),
    ("G4", 15),
)
"""§9/§16.8 KDIGO GFR categories: each category's inclusive lower limit; below 15 is G5."""


def _spline(ratio: Decimal, *, below: float, above: float) -> float:
    """min(ratio, 1)^below × max(ratio, 1)^above; the branch is chosen on the exact ratio."""
    return math.pow(float(ratio), below if ratio < 1 else above)


def _common_factors(equation: Equation, *, sex: Sex, age_years: Decimal, scr: Decimal) -> float:
    """The multiplier, creatinine, age and sex terms of a 2021 equation (§9)."""
    creatinine = _spline(
        scr / KAPPA[sex], below=equation.alpha[sex], above=equation.exponent_above_kappa
    )
    sex_factor = equation.female_factor if sex == "female" else 1.0
    return (
        equation.multiplier
        * creatinine
        * math.pow(equation.age_base, float(age_years))
        * sex_factor
    )


def egfr_cr(*, sex: Sex, age_years: Decimal, creatinine_mg_dl: Decimal) -> float:
    """eGFRcr 2021 in mL/min/1.73 m² (§9): 142 × min(Scr/κ,1)^α × max(Scr/κ,1)^−1.200 × 0.9938^age
    × 1.012 if female."""
    return _common_factors(CREATININE_2021, sex=sex, age_years=age_years, scr=creatinine_mg_dl)


def egfr_cr_cys(
    *, sex: Sex, age_years: Decimal, creatinine_mg_dl: Decimal, cystatin_c_mg_l: Decimal
) -> float:
    """eGFRcr-cys 2021 in mL/min/1.73 m² (§9): 135 × creatinine terms (α, −0.544) ×
    min(Scys/0.8,1)^−0.323 × max(Scys/0.8,1)^−0.778 × 0.9961^age × 0.963 if female."""
    cystatin = _spline(
        cystatin_c_mg_l / CYSTATIN_KINK_MG_L,
        below=CYSTATIN_EXPONENT_BELOW,
        above=CYSTATIN_EXPONENT_ABOVE,
    )
    base = _common_factors(
        CREATININE_CYSTATIN_2021, sex=sex, age_years=age_years, scr=creatinine_mg_dl
    )
    return base * cystatin


def gfr_category(egfr: float) -> Category:
    """KDIGO GFR category of an eGFR at full precision (§9, §16.8): G1 ≥ 90 … G4 ≥ 15, else G5."""
    for category, floor in CATEGORY_FLOORS:
        if egfr >= floor:
            return category
    return "G5"


class EgfrInput(InstrumentInput):
    """Sex, age and one creatinine (mg/dL or µmol/L), optionally cystatin C (§16.8)."""

    sex: Sex
    age_years: AdultAge
    creatinine_mg_dl: Positive | None = None
    creatinine_umol_l: Positive | None = None
    cystatin_c_mg_l: Positive | None = None

    @model_validator(mode="after")
    def _exactly_one_creatinine(self) -> EgfrInput:
        given = (self.creatinine_mg_dl is not None) + (self.creatinine_umol_l is not None)
        if given != 1:
            raise ValueError(
                "give exactly one of creatinine_mg_dl / creatinine_umol_l"
                + (" (both were given)" if given == 2 else " (neither was given)")
            )
        return self

    def creatinine_in_mg_dl(self) -> Decimal:
        """The serum creatinine in mg/dL, converting µmol/L by ÷ 88.4 (§9)."""
        if self.creatinine_mg_dl is not None:
            return self.creatinine_mg_dl
        assert self.creatinine_umol_l is not None  # noqa: S101 - the validator guarantees one
        return creatinine_umol_l_to_mg_dl(self.creatinine_umol_l)


class EgfrResult(InstrumentResult):
    instrument: Literal["egfr-ckdepi2021"] = "egfr-ckdepi2021"
    section: Literal["§9"] = "§9"
    egfr_cr: float
    egfr_cr_cys: float | None
    category: Category
    loinc: Loinc


def score(inp: EgfrInput) -> EgfrResult:
    """CKD-EPI 2021 eGFR and its KDIGO category (§9; contract §16.8).

    The category (and the LOINC code reported with it) comes from eGFRcr-cys when cystatin C is
    given, else from eGFRcr.
    """
    scr = inp.creatinine_in_mg_dl()
    by_creatinine = egfr_cr(sex=inp.sex, age_years=inp.age_years, creatinine_mg_dl=scr)
    by_both = None
    if inp.cystatin_c_mg_l is not None:
        by_both = egfr_cr_cys(
            sex=inp.sex,
            age_years=inp.age_years,
            creatinine_mg_dl=scr,
            cystatin_c_mg_l=inp.cystatin_c_mg_l,
        )
    shown = by_creatinine if by_both is None else by_both
    return EgfrResult(
        egfr_cr=by_creatinine,
        egfr_cr_cys=by_both,
        category=gfr_category(shown),
        loinc=LOINC_CR if by_both is None else LOINC_CR_CYS,
    )


INSTRUMENT = Instrument(
    name="egfr-ckdepi2021",
    section="§9",
    title="eGFR, CKD-EPI 2021 race-free (creatinine; creatinine–cystatin C)",
    input_model=EgfrInput,
    result_model=EgfrResult,
    score=score,
)
