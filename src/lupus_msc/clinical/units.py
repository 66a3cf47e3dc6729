"""Unit conversions for the instruments, done by pint rather than by scattered constants (§0.3).

Only two factors are not pure dimensional analysis, and both are fixed by instruments.md itself:
serum creatinine µmol/L → mg/dL divides by 88.4 (§9, the equation's own factor), and urine
protein/creatinine ratios in mg/mmol use creatinine's molar mass 113.12 g/mol (§10).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import pint

CREATININE_MOLAR_MASS_G_PER_MOL = Decimal("113.12")
"""§10: 1 g/g = 113.12 mg/mmol."""

SERUM_CREATININE_UMOL_L_PER_MG_DL = Decimal("88.4")
"""§9: µmol/L → mg/dL divides by 88.4 (not 10 000 / 113.12 = 88.402)."""

# Spellings used by instruments.md §16 (UCUM-like) mapped to pint expressions.
_PINT_SPELLING = {
    "10*9/L": "1 / nanoliter",  # 10⁹ per litre is one per nanolitre
    "/mm3": "1 / millimeter ** 3",
    "g/dL": "gram / deciliter",
    "g/L": "gram / liter",
    "mg/dL": "milligram / deciliter",
    "g/g": "gram / gram",
    "mg/g": "milligram / gram",
    "mg/mg": "milligram / milligram",
    "mg/mmol": "milligram / millimole",
    "umol/L": "micromole / liter",
}


@cache
def _registry() -> pint.UnitRegistry[Decimal]:
    return pint.UnitRegistry(non_int_type=Decimal)


@cache
def factor(from_unit: str, to_unit: str) -> Decimal:
    """The exact multiplier that turns a value in ``from_unit`` into ``to_unit``.

    Units are the §16 spellings (e.g. ``"/mm3"``, ``"10*9/L"``, ``"g/L"``, ``"g/dL"``). Raises
    ``pint.DimensionalityError`` for incompatible units, ``KeyError`` for unknown spellings.
    """
    ureg = _registry()
    one = ureg.Quantity(Decimal(1), _PINT_SPELLING[from_unit])
    return Decimal(one.to(_PINT_SPELLING[to_unit]).magnitude)


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (same dimension)."""
    if from_unit == to_unit:
        return value
    return value * factor(from_unit, to_unit)


def creatinine_umol_l_to_mg_dl(value: Decimal) -> Decimal:
    """Serum creatinine µmol/L → mg/dL by the §9 factor (÷ 88.4)."""
    return value / SERUM_CREATININE_UMOL_L_PER_MG_DL


def upcr_g_g_to_mg_mmol(value_g_g: Decimal) -> Decimal:
    """Protein/creatinine mass ratio (g/g) → mg protein per mmol creatinine (§10)."""
    ureg = _registry()
    ratio = ureg.Quantity(value_g_g, "gram / gram")
    per_mole = ratio * ureg.Quantity(CREATININE_MOLAR_MASS_G_PER_MOL, "gram / mole")
    return Decimal(per_mole.to("milligram / millimole").magnitude)


def upcr_mg_mmol_to_g_g(value_mg_mmol: Decimal) -> Decimal:
    """mg protein per mmol creatinine → g/g (§10)."""
    return value_mg_mmol / upcr_g_g_to_mg_mmol(Decimal(1))
