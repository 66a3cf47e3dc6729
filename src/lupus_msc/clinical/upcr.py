"""Urine protein/creatinine ratio in g/g, mg/g and mg/mmol (§10, §16.9).

Conversions are exact, done by ``units`` (pint) with creatinine's molar mass 113.12 g/mol, so
1 g/g = 1000 mg/g = 113.12 mg/mmol. The value is kept exactly in the unit it was reported in; the
other two units are derived from it (a quotient by 113.12 that does not end is shown with 28
significant digits).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from lupus_msc.clinical.common import (
    ExactOut,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
)
from lupus_msc.clinical.units import convert, upcr_g_g_to_mg_mmol, upcr_mg_mmol_to_g_g

UpcrUnit = Literal["g/g", "mg/g", "mg/mg", "mg/mmol"]
MassRatioUnit = Literal["g/g", "mg/g", "mg/mg"]


class UpcrInput(InstrumentInput):
    """One UPCR value and the unit it was reported in (§16.9)."""

    value: NonNegative
    unit: UpcrUnit


class UpcrResult(InstrumentResult):
    instrument: Literal["upcr"] = "upcr"
    section: Literal["§10"] = "§10"
    g_g: ExactOut
    mg_g: ExactOut
    mg_mmol: ExactOut


def from_mass_ratio(value: Decimal, unit: MassRatioUnit) -> tuple[Decimal, Decimal, Decimal]:
    """A mass ratio (g/g, mg/g, mg/mg) as exact (g/g, mg/g, mg/mmol) (§10)."""
    g_g = convert(value, unit, "g/g")
    return g_g, convert(value, unit, "mg/g"), upcr_g_g_to_mg_mmol(g_g)


def from_mg_mmol(value: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """mg protein per mmol creatinine as (g/g, mg/g, mg/mmol), dividing by 113.12 (§10)."""
    g_g = upcr_mg_mmol_to_g_g(value)
    return g_g, convert(g_g, "g/g", "mg/g"), value


def score(inp: UpcrInput) -> UpcrResult:
    """The UPCR in all three units (§10; contract §16.9)."""
    if inp.unit == "mg/mmol":
        g_g, mg_g, mg_mmol = from_mg_mmol(inp.value)
    else:
        g_g, mg_g, mg_mmol = from_mass_ratio(inp.value, inp.unit)
    return UpcrResult(g_g=g_g, mg_g=mg_g, mg_mmol=mg_mmol)


INSTRUMENT = Instrument(
    name="upcr",
    section="§10",
    title="Urine protein/creatinine ratio unit conversion (g/g, mg/g, mg/mmol)",
    input_model=UpcrInput,
    result_model=UpcrResult,
    score=score,
)
