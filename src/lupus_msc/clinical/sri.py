"""SLE Responder Index SRI-4 / SRI-n and the modified SRI without BILAG (§4, §16.3).

A responder has all of: a SLEDAI reduction of at least n points from baseline, no new BILAG A
and at most one new BILAG B domain, and no PGA worsening of 0.3 or more. The PGA change is
computed exactly in Decimal, so 1.8 − 1.5 is 0.3 (a worsening), never 0.30000000000000004.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from lupus_msc.clinical.common import (
    ExactOut,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    Pga,
    Tri,
    all_of,
)

PGA_WORSENING = Decimal("0.3")
"""§4 component 3: an increase of ≥ 0.3 points is a worsening."""
MAX_NEW_BILAG_A = 0
MAX_NEW_BILAG_B = 1
"""§4 component 2: no new BILAG A and no more than one new BILAG B ("not 1A/2B new")."""
BILAG_DOMAINS = 9
"""§4: BILAG-2004 grades nine organ domains, so at most nine can be new."""

_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
"""A difference of two decimals is exact at this precision (no rounding ever happens)."""

SledaiScore = Annotated[int, Field(ge=0, le=105)]
NewBilagCount = Annotated[int, Field(ge=0, le=BILAG_DOMAINS)]


class SriInput(InstrumentInput):
    """Baseline and current assessment, new BILAG counts when collected, and n (§16.3)."""

    sledai_baseline: SledaiScore
    sledai_current: SledaiScore
    pga_baseline: Pga
    pga_current: Pga
    bilag_new_a: NewBilagCount | None = None
    bilag_new_b: NewBilagCount | None = None
    n: Annotated[int, Field(ge=4, le=20)] = 4
    """SLEDAI reduction required: 4 for SRI-4, 5 for SRI-5 and so on (§4 SRI-n)."""


class SriComponents(BaseModel):
    """The three §4 components; ``no_new_bilag`` is None when BILAG was not collected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sledai_reduction_met: bool
    no_pga_worsening: bool
    no_new_bilag: bool | None


class SriResult(InstrumentResult):
    instrument: Literal["sri"] = "sri"
    section: Literal["§4"] = "§4"
    responder: bool | None
    msri: bool
    sledai_reduction: int
    pga_change: ExactOut
    components: SriComponents
    n: int


def no_new_bilag(new_a: int | None, new_b: int | None) -> Tri:
    """§4 component 2, three-valued: False as soon as one given count breaks it."""
    return all_of(
        [
            None if new_a is None else new_a <= MAX_NEW_BILAG_A,
            None if new_b is None else new_b <= MAX_NEW_BILAG_B,
        ]
    )


def pga_change(baseline: Decimal, current: Decimal) -> Decimal:
    """Current minus baseline PGA, exactly (§0.2); positive means worse."""
    return _EXACT.subtract(current, baseline)


def score(inp: SriInput) -> SriResult:
    """SRI-n responder status and the modified SRI (§4; contract §16.3).

    ``responder`` is the three-valued AND of the three components (§16.0): False as soon as one
    component fails, None when the others hold and the BILAG counts needed are absent (missing
    BILAG is never read as "no new A/B"). ``msri`` leaves BILAG out (Connelly et al., §4).
    ``missing`` names the BILAG counts whenever ``no_new_bilag`` is undecided.
    """
    reduction = inp.sledai_baseline - inp.sledai_current
    change = pga_change(inp.pga_baseline, inp.pga_current)
    components = SriComponents(
        sledai_reduction_met=reduction >= inp.n,
        no_pga_worsening=change < PGA_WORSENING,
        no_new_bilag=no_new_bilag(inp.bilag_new_a, inp.bilag_new_b),
    )
    undecided = components.no_new_bilag is None
    return SriResult(
        responder=all_of(
            [
                components.sledai_reduction_met,
                components.no_pga_worsening,
                components.no_new_bilag,
            ]
        ),
        msri=components.sledai_reduction_met and components.no_pga_worsening,
        sledai_reduction=reduction,
        pga_change=change,
        components=components,
        n=inp.n,
        missing=[
            name
            for name in ("bilag_new_a", "bilag_new_b")
            if undecided and getattr(inp, name) is None
        ],
    )


INSTRUMENT = Instrument(
    name="sri",
    section="§4",
    title="SLE Responder Index (SRI-4, SRI-n) and modified SRI",
    input_model=SriInput,
    result_model=SriResult,
    score=score,
)
