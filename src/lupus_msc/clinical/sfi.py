"""Classic SELENA-SLEDAI Flare Index: the current visit against the previous one (§2, §16.2).

Every criterion of the §2 table is a key of ``CRITERIA``. A visit is ``severe`` if any severe
criterion fires, else ``mild_moderate`` if any mild/moderate one fires, else ``none``. Numbers
are compared exactly: PGA and dose differences are computed in Decimal without rounding, and
mg/kg/day is compared as ``dose > 0.5 × weight`` so no division is ever rounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Annotated, Literal

from pydantic import Field

from lupus_msc.clinical.common import (
    HemoglobinGdl,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    Pga,
    PlateletsPerNl,
    WeightKg,
)

Flare = Literal["none", "mild_moderate", "severe"]
MildManifestation = Literal[
    "discoid",
    "photosensitive",
    "profundus",
    "cutaneous_vasculitis",
    "bullous",
    "nasopharyngeal_ulcers",
    "pleuritis",
    "pericarditis",
    "arthritis",
    "fever",
]
SevereManifestation = Literal["cns", "vasculitis", "nephritis", "myositis"]
Criterion = Literal[
    "sledai_mild",
    "sledai_severe",
    "pga_mild",
    "pga_severe",
    "prednisone_mild",
    "prednisone_severe",
    "manifestation_mild",
    "manifestation_severe",
    "platelets_severe",
    "hemolysis_severe",
    "drug_mild",
    "drug_severe",
    "hospitalization_severe",
]
CRITERIA: tuple[Criterion, ...] = (
    "sledai_mild",
    "sledai_severe",
    "pga_mild",
    "pga_severe",
    "prednisone_mild",
    "prednisone_severe",
    "manifestation_mild",
    "manifestation_severe",
    "platelets_severe",
    "hemolysis_severe",
    "drug_mild",
    "drug_severe",
    "hospitalization_severe",
)
"""The §16.2 criterion keys, in the order of the §2 table."""
SEVERE: frozenset[Criterion] = frozenset(key for key in CRITERIA if key.endswith("_severe"))
TREATMENT: frozenset[Criterion] = frozenset(
    {"prednisone_mild", "prednisone_severe", "drug_mild", "drug_severe", "hospitalization_severe"}
)
"""Left out of ``flare_clinical_only`` (§2 note on Thanou 2014: medication inflates severity)."""

SLEDAI_RISE = 3
SLEDAI_SEVERE_ABOVE = 12
PGA_RISE = Decimal("1.0")
PGA_SEVERE_ABOVE = Decimal("2.5")
PREDNISONE_SEVERE_ABOVE_MG_KG_DAY = Decimal("0.5")
PLATELETS_SEVERE_BELOW = Decimal(60)
HEMOGLOBIN_SEVERE_BELOW = Decimal(7)
HEMOGLOBIN_FALL_SEVERE_ABOVE = Decimal(3)
"""D7: a fall of more than 3 g/dL (S15's "≤ 3 g/dL" rejected)."""

_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
"""Sums and products of decimals are exact at this precision (no rounding ever happens)."""

SledaiScore = Annotated[int, Field(ge=0, le=105)]


class SfiInput(InstrumentInput):
    """Two consecutive assessments and what changed between them (§16.2); all optional."""

    sledai_previous: SledaiScore | None = None
    sledai_current: SledaiScore | None = None
    pga_previous: Pga | None = None
    pga_current: Pga | None = None
    prednisone_mg_day_previous: NonNegative | None = None
    prednisone_mg_day_current: NonNegative | None = None
    weight_kg: WeightKg | None = None
    new_mild_manifestations: list[MildManifestation] | None = None
    new_severe_manifestations: list[SevereManifestation] | None = None
    platelets_10e9_l: PlateletsPerNl | None = None
    hemoglobin_g_dl: HemoglobinGdl | None = None
    """Haemoglobin of a haemolytic anaemia (§2 severe row)."""
    hemoglobin_fall_g_dl: HemoglobinGdl | None = None
    """Fall of haemoglobin in a haemolytic anaemia, g/dL (0–25)."""
    added_nsaid_or_hydroxychloroquine: bool | None = None
    added_cyclophosphamide_azathioprine_methotrexate: bool | None = None
    hospitalized_for_sle: bool | None = None


class SfiResult(InstrumentResult):
    instrument: Literal["sfi"] = "sfi"
    section: Literal["§2"] = "§2"
    flare: Flare | None
    criteria_met: list[Criterion]
    flare_clinical_only: Flare | None
    flare_at_least: Flare


def sledai_criteria(previous: int, current: int) -> dict[Criterion, bool]:
    """§2 score row: mild = rise ≥ 3 to ≤ 12; severe = rise to > 12."""
    return {
        "sledai_mild": current - previous >= SLEDAI_RISE and current <= SLEDAI_SEVERE_ABOVE,
        "sledai_severe": current > SLEDAI_SEVERE_ABOVE and current > previous,
    }


def pga_criteria(previous: Decimal, current: Decimal) -> dict[Criterion, bool]:
    """§2 PGA row (D6): mild = rise ≥ 1.0 to ≤ 2.5; severe = rise to > 2.5."""
    rise = _EXACT.subtract(current, previous)
    return {
        "pga_mild": rise >= PGA_RISE and current <= PGA_SEVERE_ABOVE,
        "pga_severe": current > PGA_SEVERE_ABOVE and current > previous,
    }


def prednisone_criteria(
    *, previous: Decimal, current: Decimal, weight_kg: Decimal
) -> dict[Criterion, bool]:
    """§2 prednisone row: an increase, severe when the new dose is > 0.5 mg/kg/day.

    ``current / weight_kg > 0.5`` is decided as ``current > 0.5 × weight_kg`` (exact).
    """
    above = current > _EXACT.multiply(PREDNISONE_SEVERE_ABOVE_MG_KG_DAY, weight_kg)
    increased = current > previous
    return {"prednisone_mild": increased and not above, "prednisone_severe": increased and above}


def _below(value: Decimal | None, limit: Decimal) -> bool:
    return value is not None and value < limit


def _above(value: Decimal | None, limit: Decimal) -> bool:
    return value is not None and value > limit


def other_criteria(inp: SfiInput) -> dict[Criterion, bool]:
    """§2 manifestation, laboratory, drug and hospitalisation criteria; absent = not present.

    Haemolysis (D7): Hb < 7 g/dL or a fall of more than 3 g/dL.
    """
    hemolysis = _below(inp.hemoglobin_g_dl, HEMOGLOBIN_SEVERE_BELOW) or _above(
        inp.hemoglobin_fall_g_dl, HEMOGLOBIN_FALL_SEVERE_ABOVE
    )
    return {
        "manifestation_mild": bool(inp.new_mild_manifestations),
        "manifestation_severe": bool(inp.new_severe_manifestations),
        "platelets_severe": _below(inp.platelets_10e9_l, PLATELETS_SEVERE_BELOW),
        "hemolysis_severe": hemolysis,
        "drug_mild": inp.added_nsaid_or_hydroxychloroquine is True,
        "drug_severe": inp.added_cyclophosphamide_azathioprine_methotrexate is True,
        "hospitalization_severe": inp.hospitalized_for_sle is True,
    }


def criteria_met(inp: SfiInput) -> list[Criterion]:
    """The §2 criteria that fire; a criterion whose inputs are not all given does not fire."""
    found = other_criteria(inp)
    if inp.sledai_previous is not None and inp.sledai_current is not None:
        found.update(sledai_criteria(inp.sledai_previous, inp.sledai_current))
    if inp.pga_previous is not None and inp.pga_current is not None:
        found.update(pga_criteria(inp.pga_previous, inp.pga_current))
    previous, current, weight = (
        inp.prednisone_mg_day_previous,
        inp.prednisone_mg_day_current,
        inp.weight_kg,
    )
    if previous is not None and current is not None and weight is not None:
        found.update(prednisone_criteria(previous=previous, current=current, weight_kg=weight))
    return [key for key in CRITERIA if found.get(key)]


def flare_at_least(met: Iterable[Criterion]) -> Flare:
    """The mildest category the criteria met already establish (§2 classification rule)."""
    keys = set(met)
    if keys & SEVERE:
        return "severe"
    return "mild_moderate" if keys else "none"


def classify(met: Iterable[Criterion], missing: list[str]) -> Flare | None:
    """§2 classification with its missing-data rule: a severe criterion suffices; otherwise an
    incomplete SLEDAI or PGA pair (``missing``) leaves the category undecided."""
    at_least = flare_at_least(met)
    if at_least == "severe" or not missing:
        return at_least
    return None


def missing_pairs(inp: SfiInput) -> list[str]:
    """Absent fields of the SLEDAI and PGA pairs: each makes its pair not evaluable (§2)."""
    pairs = ("sledai_previous", "sledai_current", "pga_previous", "pga_current")
    return [name for name in pairs if getattr(inp, name) is None]


def score(inp: SfiInput) -> SfiResult:
    """Classify the change since the previous visit with the classic SFI (§2; contract §16.2).

    ``flare`` is ``severe`` as soon as one severe criterion fires; otherwise it is None while
    the SLEDAI or PGA pair is incomplete. The prednisone criteria need both doses and the weight
    and are simply not evaluated without them. ``flare_clinical_only`` repeats the classification
    without the prednisone, drug and hospitalisation criteria. ``missing`` names the absent
    pair fields whenever one of the two classifications is undecided.
    """
    met = criteria_met(inp)
    clinical = [key for key in met if key not in TREATMENT]
    absent = missing_pairs(inp)
    flare = classify(met, absent)
    flare_clinical_only = classify(clinical, absent)
    return SfiResult(
        flare=flare,
        criteria_met=met,
        flare_clinical_only=flare_clinical_only,
        flare_at_least=flare_at_least(met),
        missing=absent if flare_clinical_only is None else [],
    )


INSTRUMENT = Instrument(
    name="sfi",
    section="§2",
    title="SELENA-SLEDAI Flare Index (classic SFI)",
    input_model=SfiInput,
    result_model=SfiResult,
    score=score,
)
