"""FACIT-Fatigue (version 4) score, 0–52, higher = less fatigue (§13, §16.13).

Scoring follows FACTscorer (S63): 8, 9, null and absent answers are missing; every item but An5
and An7 is reversed (4 − answer); score = mean of the answered items × 13, rounded to 3 decimals;
no score unless at least 7 of the 13 items are answered. Item wording is licensed and never
stored here, only the item codes.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

from lupus_msc.clinical.common import (
    ExactOut,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    Num,
    WholeNumberOnly,
)

ITEMS: tuple[str, ...] = (
    "HI7",
    "HI12",
    "An1",
    "An2",
    "An3",
    "An4",
    "An5",
    "An7",
    "An8",
    "An12",
    "An14",
    "An15",
    "An16",
)
"""§13 item codes, in questionnaire order."""
POSITIVE_ITEMS = frozenset({"An5", "An7"})
"""§13: the two positively worded items, scored as answered; the other eleven are reversed."""
NOT_ANSWERED = frozenset({8, 9})
"""§13 step 1: 8 and 9 mean "not answered"."""
MIN_ANSWERED = 7
"""§13 step 4: the score is missing when answered/13 ≤ 0.5, i.e. fewer than 7 answers."""
MAX_ITEM_SCORE = 4
MCID = Decimal(4)
"""§13: minimal clinically important difference in SLE (Strand 2019), used for ``improved``."""


Answer = Annotated[Literal[0, 1, 2, 3, 4, 8, 9] | None, WholeNumberOnly]


class FacitResponses(InstrumentInput):
    """Answers by item code: 0–4, or 8/9/null/absent for not answered (§16.13)."""

    HI7: Answer = None
    HI12: Answer = None
    An1: Answer = None
    An2: Answer = None
    An3: Answer = None
    An4: Answer = None
    An5: Answer = None
    An7: Answer = None
    An8: Answer = None
    An12: Answer = None
    An14: Answer = None
    An15: Answer = None
    An16: Answer = None


class FacitFInput(InstrumentInput):
    """One FACIT-Fatigue questionnaire and, optionally, the baseline score to compare with."""

    responses: FacitResponses
    baseline_score: Annotated[Decimal, Num(ge=0, le=52)] | None = None


class FacitFResult(InstrumentResult):
    instrument: Literal["facit-f"] = "facit-f"
    section: Literal["§13"] = "§13"
    score: ExactOut | None
    answered: int
    change: ExactOut | None
    improved: bool | None


def item_scores(responses: FacitResponses) -> dict[str, int]:
    """Scored answered items: reversed (4 − answer) except An5 and An7 (§13 steps 1–2)."""
    scored: dict[str, int] = {}
    for item in ITEMS:
        answer = getattr(responses, item)
        if answer is None or answer in NOT_ANSWERED:
            continue
        scored[item] = answer if item in POSITIVE_ITEMS else MAX_ITEM_SCORE - answer
    return scored


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` (≥ 0) rounded to ``places`` decimals, halves away from zero, exactly."""
    scale = 10**places
    scaled = value * scale + Fraction(1, 2)
    return Decimal(scaled.numerator // scaled.denominator).scaleb(-places)


def score(inp: FacitFInput) -> FacitFResult:
    """FACIT-F score (§13; contract §16.13), change from baseline and MCID improvement.

    Hand-worked example: HI7 1, HI12 2, An1 0, An2 3, An3 1, An4 2, An5 3, An7 2, An8 9,
    An12 1, An14 null, An15 4, An16 0. An8 (9) and An14 (null) are not answered: 11 answered.
    Reversed: HI7 3, HI12 2, An1 4, An2 1, An3 3, An4 2, An12 3, An15 0, An16 4 (sum 22); An5 3
    and An7 2 as answered (sum 5). Mean 27/11 × 13 = 351/11 = 31.9090… → score 31.909.
    """
    scored = item_scores(inp.responses)
    answered = len(scored)
    missing = [] if inp.baseline_score is not None else ["baseline_score"]
    if answered < MIN_ANSWERED:
        unanswered = [f"responses.{item}" for item in ITEMS if item not in scored]
        return FacitFResult(
            score=None, answered=answered, change=None, improved=None, missing=unanswered + missing
        )
    total = round_half_up(Fraction(sum(scored.values()) * len(ITEMS), answered), 3)
    if inp.baseline_score is None:
        return FacitFResult(
            score=total, answered=answered, change=None, improved=None, missing=missing
        )
    change = total - inp.baseline_score
    return FacitFResult(score=total, answered=answered, change=change, improved=change >= MCID)


INSTRUMENT = Instrument(
    name="facit-f",
    section="§13",
    title="FACIT-Fatigue (0–52, higher = less fatigue)",
    input_model=FacitFInput,
    result_model=FacitFResult,
    score=score,
)
