"""Glucocorticoid prednisone-equivalent daily dose and EULAR dose band (§11, §16.11).

Each drug's factor is derived from its equivalent anti-inflammatory dose (the dose equal to
prednisone 5 mg) as the exact ratio ``5 / equivalent``, so dexamethasone counts 5/0.75 = 20/3 and
never a rounded 6.667. Doses are summed as exact fractions; the band and the LLDAS/DORIS dose
checks are decided on those fractions, so 1.125 mg dexamethasone is exactly 7.5 mg (low band,
LLDAS dose met). A total that does not end in decimal (1 mg dexamethasone = 6.666…) is shown with
28 significant digits; a total that does end is shown exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Context, Decimal
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lupus_msc.clinical.common import (
    ExactOut,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    WeightKg,
)

Drug = Literal[
    "prednisone",
    "prednisolone",
    "methylprednisolone",
    "hydrocortisone",
    "dexamethasone",
    "betamethasone",
    "deflazacort",
    "cortisone",
    "triamcinolone",
]
Band = Literal["none", "low", "medium", "high", "very_high"]

PREDNISONE_REFERENCE_MG = Decimal(5)
"""§11: the equivalences are stated against prednisone/prednisolone 5 mg."""

EQUIVALENT_DOSE_MG: Mapping[Drug, Decimal] = {
    "prednisone": Decimal(5),
    "prednisolone": Decimal(5),
    "methylprednisolone": Decimal(4),
    "hydrocortisone": Decimal(20),
    "dexamethasone": Decimal("0.75"),
    "betamethasone": Decimal("0.75"),  # D15: BNF and FDA label; US tables give 0.6 mg
    "deflazacort": Decimal(6),
    "cortisone": Decimal(25),
    "triamcinolone": Decimal(4),
}
"""§11 table: the dose of each drug equal to prednisone 5 mg, systemic (oral/IV) use only."""

DOSE_BANDS: tuple[tuple[Band, Decimal | None], ...] = (
    ("none", Decimal(0)),
    ("low", Decimal("7.5")),
    ("medium", Decimal(30)),
    ("high", Decimal(100)),
    ("very_high", None),
)
"""§11 EULAR nomenclature (Buttgereit 2002): each band's inclusive upper limit, mg/day."""

LLDAS_MAX_MG_DAY = Decimal("7.5")
"""§5 criterion 4: prednisolone ≤ 7.5 mg/day."""
DORIS_MAX_MG_DAY = Decimal(5)
"""§6 (D9): prednisolone ≤ 5 mg/day."""

_DECIMAL = Context(prec=28)


def factor(drug: Drug, equivalents: Mapping[Drug, Decimal] = EQUIVALENT_DOSE_MG) -> Fraction:
    """Multiplier turning mg of ``drug`` into mg of prednisone: 5 / equivalent dose (§11).

    ``equivalents`` can replace the §11 table, e.g. betamethasone 0.6 mg (the D15 alternative).
    """
    return Fraction(PREDNISONE_REFERENCE_MG) / Fraction(equivalents[drug])


def as_decimal(value: Fraction) -> Decimal:
    """A fraction as a Decimal: exact when it ends in decimal, else 28 significant digits."""
    denominator = value.denominator
    twos_and_fives = 0
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
            twos_and_fives += 1
    if denominator == 1:
        scale = 10**twos_and_fives  # a power of ten the denominator divides
        return Decimal(value.numerator * scale // value.denominator).scaleb(-twos_and_fives)
    return _DECIMAL.divide(Decimal(value.numerator), Decimal(value.denominator))


def dose_band(mg_day: Fraction | Decimal) -> Band:
    """EULAR dose band of a prednisone-equivalent daily dose (§11), decided exactly."""
    exact = Fraction(mg_day)
    for band, upper in DOSE_BANDS:
        if upper is None or exact <= Fraction(upper):
            return band
    raise AssertionError("the last band has no upper limit")  # pragma: no cover


class Medication(InstrumentInput):
    """One systemic glucocorticoid regimen (§11 inputs; §16.11)."""

    drug: Drug
    dose_mg: NonNegative
    doses_per_day: Annotated[int, Field(ge=1)] = 1
    every_days: Annotated[int, Field(ge=1)] = 1
    """2 for an alternate-day regimen, which is averaged over 48 h (§11 [IMPL])."""


class PrednisoneEquivalentInput(InstrumentInput):
    """All systemic glucocorticoids taken, and optionally body weight (§16.11)."""

    medications: list[Medication]
    weight_kg: WeightKg | None = None


class DrugDose(BaseModel):
    """One medication's contribution, in input order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drug: Drug
    prednisone_mg_day: ExactOut


class PrednisoneEquivalentResult(InstrumentResult):
    instrument: Literal["prednisone-equivalent"] = "prednisone-equivalent"
    section: Literal["§11"] = "§11"
    prednisone_mg_day: ExactOut
    per_drug: list[DrugDose]
    band: Band
    mg_kg_day: ExactOut | None
    lldas_dose_ok: bool
    doris_dose_ok: bool


def daily_prednisone_mg(medication: Medication) -> Fraction:
    """dose_mg × factor × doses_per_day ÷ every_days, as an exact fraction (§11)."""
    per_dose = Fraction(medication.dose_mg) * factor(medication.drug)
    return per_dose * medication.doses_per_day / medication.every_days


def score(inp: PrednisoneEquivalentInput) -> PrednisoneEquivalentResult:
    """Prednisone-equivalent mg/day, band, mg/kg/day and the LLDAS/DORIS dose checks (§11).

    Worked examples of §11: methylprednisolone 16 mg → 20 mg; dexamethasone 1.5 mg → 10 mg.
    """
    daily = [daily_prednisone_mg(medication) for medication in inp.medications]
    total = sum(daily, Fraction(0))
    per_kg = None if inp.weight_kg is None else as_decimal(total / Fraction(inp.weight_kg))
    return PrednisoneEquivalentResult(
        prednisone_mg_day=as_decimal(total),
        per_drug=[
            DrugDose(drug=medication.drug, prednisone_mg_day=as_decimal(mg))
            for medication, mg in zip(inp.medications, daily, strict=True)
        ],
        band=dose_band(total),
        mg_kg_day=per_kg,
        lldas_dose_ok=total <= Fraction(LLDAS_MAX_MG_DAY),
        doris_dose_ok=total <= Fraction(DORIS_MAX_MG_DAY),
    )


INSTRUMENT = Instrument(
    name="prednisone-equivalent",
    section="§11",
    title="Glucocorticoid prednisone-equivalent dose and EULAR dose band",
    input_model=PrednisoneEquivalentInput,
    result_model=PrednisoneEquivalentResult,
    score=score,
)
