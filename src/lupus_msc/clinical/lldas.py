"""Lupus Low Disease Activity State, the five criteria of Franklyn 2016 (§5, §16.4).

Criterion 2 ("no new features") follows Oon et al. (D11): compared with the previous
assessment, not with baseline.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from lupus_msc.clinical.common import (
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    Pga,
    Tri,
    all_of,
)
from lupus_msc.clinical.prednisone_equivalent import LLDAS_MAX_MG_DAY
from lupus_msc.clinical.sledai2k import WEIGHTS, DescriptorKey, sledai_total

SLEDAI_MAX = 4
"""§5 criterion 1: SLEDAI-2K ≤ 4."""
PGA_MAX = Decimal(1)
"""§5 criterion 3: PGA ≤ 1."""

MAJOR_ORGAN: frozenset[str] = frozenset(
    {
        # CNS
        "seizure",
        "psychosis",
        "organic_brain_syndrome",
        "visual_disturbance",
        "cranial_nerve_disorder",
        "lupus_headache",
        "cva",
        # vasculitis
        "vasculitis",
        # renal
        "urinary_casts",
        "hematuria",
        "proteinuria",
        "pyuria",
        # cardiopulmonary
        "pleurisy",
        "pericarditis",
        # fever
        "fever",
    }
)
"""§5 mapping of criterion 1: descriptors of major-organ activity, disallowed if present."""
ALLOWED: frozenset[str] = frozenset(WEIGHTS) - MAJOR_ORGAN
"""§5 mapping: the descriptors that may contribute to a SLEDAI-2K of at most 4."""


class LldasInput(InstrumentInput):
    """This visit's SLEDAI-2K descriptors, the previous visit's, PGA, dose and drugs (§16.4)."""

    sledai_descriptors: list[DescriptorKey]
    """Descriptors present at this visit; the assessment is taken as complete."""
    previous_sledai_descriptors: list[DescriptorKey] | None = None
    new_features: bool | None = None
    """The clinician's judgement of new activity since the previous assessment (e.g. BILAG)."""
    pga: Pga
    prednisone_mg_day: NonNegative
    hemolytic_anemia: bool = False
    gi_activity: bool = False
    investigational_drug: bool = False
    immunosuppressants_tolerated: bool = True


class LldasResult(InstrumentResult):
    instrument: Literal["lldas"] = "lldas"
    section: Literal["§5"] = "§5"
    lldas: bool | None
    failed_criteria: list[int]
    sledai_total: int


def low_activity(inp: LldasInput) -> bool:
    """§5 criterion 1: SLEDAI-2K ≤ 4, no major-organ descriptor, no haemolysis or GI activity."""
    present: set[str] = set(inp.sledai_descriptors)
    return (
        sledai_total(present) <= SLEDAI_MAX
        and not present & MAJOR_ORGAN
        and not inp.hemolytic_anemia
        and not inp.gi_activity
    )


def no_new_features(inp: LldasInput) -> Tri:
    """§5 criterion 2, Oon reading (D11; §16.4): nothing new since the previous assessment.

    Fails when the clinician reports new features or a descriptor is present now that was
    absent at the previous assessment; undecided when neither input is given.
    """
    if inp.new_features is True:
        return False
    if inp.previous_sledai_descriptors is not None:
        return not set(inp.sledai_descriptors) - set(inp.previous_sledai_descriptors)
    return None if inp.new_features is None else True


def criteria(inp: LldasInput) -> dict[int, Tri]:
    """The five §5 criteria, numbered as in Franklyn 2016 Table 1."""
    return {
        1: low_activity(inp),
        2: no_new_features(inp),
        3: inp.pga <= PGA_MAX,
        4: inp.prednisone_mg_day <= LLDAS_MAX_MG_DAY,
        5: not inp.investigational_drug and inp.immunosuppressants_tolerated,
    }


def score(inp: LldasInput) -> LldasResult:
    """LLDAS at one visit (§5; contract §16.4): all five criteria, three-valued AND (§16.0).

    ``failed_criteria`` lists the criteria known to fail. ``lldas`` is None only when criterion
    2 is undecided (no previous assessment and no clinician judgement) and nothing fails; then
    ``missing`` names the two inputs either of which would decide it.
    """
    found = criteria(inp)
    lldas = all_of(found.values())
    return LldasResult(
        lldas=lldas,
        failed_criteria=[number for number, met in found.items() if met is False],
        sledai_total=sledai_total(inp.sledai_descriptors),
        missing=["previous_sledai_descriptors", "new_features"] if lldas is None else [],
    )


INSTRUMENT = Instrument(
    name="lldas",
    section="§5",
    title="Lupus Low Disease Activity State (LLDAS)",
    input_model=LldasInput,
    result_model=LldasResult,
    score=score,
)
