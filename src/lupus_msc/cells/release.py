"""Release of an MSC lot against ISCT identity and a per-protocol specification (§14, §16.14).

The ISCT minimal criteria (Dominici 2006) fix identity: plastic adherence, trilineage
differentiation, ≥ 95 % CD105/CD73/CD90 and ≤ 2 % CD45/CD34/CD14 or CD11b/CD79α or CD19/HLA-DR.
Release adds viability, sterility, mycoplasma and endotoxin. The thresholds form a per-protocol
``spec`` whose defaults are the platform's (§14 [IMPL]; D22): viability ≥ 70 %, positives ≥ 95 %,
negatives ≤ 2 %, endotoxin ≤ 5 EU/kg. Every inequality is inclusive and compared exactly (§0.1).

Readings of the contract chosen here (each pinned by a test):

* ``isct_identity`` is "the ISCT criteria alone": always Dominici's fixed ≥ 95 % / ≤ 2 %, whatever
  the protocol's spec says, so a lot released under a looser programme spec (e.g. ≥ 80 %, S71d)
  still shows that it does not meet the ISCT definition. ``releasable`` and ``failures`` follow the
  spec.
* The endotoxin dose is given directly (``endotoxin_eu_per_kg``) or computed from the three of
  ``endotoxin_eu_ml`` × ``dose_volume_ml`` ÷ ``recipient_weight_kg``. Giving the direct value
  together with any of the three is refused. With only some of the three, endotoxin is undecided
  and ``missing`` names the absent ones; with none of the four, it names ``endotoxin_eu_per_kg``.
* ``missing`` lists every criterion that could not be checked, even when a failure already makes
  the lot not releasable (the lot still needs those results before a second look).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from lupus_msc.clinical.common import (
    ExactOut,
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    Percent,
    Positive,
    Tri,
    WeightKg,
    all_of,
)

TestResult = Literal["negative", "positive"]

POSITIVE_MARKERS = ("cd105_pct", "cd73_pct", "cd90_pct")
"""Expressed by ≥ 95 % of cells under the ISCT criteria (§14)."""
NEGATIVE_MARKERS = ("cd45_pct", "cd34_pct", "cd14_or_cd11b_pct", "cd79a_or_cd19_pct", "hla_dr_pct")
"""Expressed by ≤ 2 % of cells under the ISCT criteria (§14)."""
ENDOTOXIN_PARTS = ("endotoxin_eu_ml", "dose_volume_ml", "recipient_weight_kg")
"""The three inputs from which the endotoxin dose per kg is computed (§16.14)."""


class ReleaseSpec(InstrumentInput):
    """Per-protocol release thresholds; defaults are the platform's (§14 [IMPL], D22)."""

    viability_min_pct: Percent = Decimal(70)
    positive_marker_min_pct: Percent = Decimal(95)
    negative_marker_max_pct: Percent = Decimal(2)
    endotoxin_max_eu_per_kg: NonNegative = Decimal(5)


class ReleaseSpecOut(BaseModel):
    """The thresholds a result was judged against, echoed so the result can be stored with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    viability_min_pct: ExactOut
    positive_marker_min_pct: ExactOut
    negative_marker_max_pct: ExactOut
    endotoxin_max_eu_per_kg: ExactOut


class IsctReleaseInput(InstrumentInput):
    """Results of one MSC lot's identity and safety tests (§16.14); any may be absent."""

    plastic_adherent: bool | None = None
    trilineage_differentiation: bool | None = None
    cd105_pct: Percent | None = None
    cd73_pct: Percent | None = None
    cd90_pct: Percent | None = None
    cd45_pct: Percent | None = None
    cd34_pct: Percent | None = None
    cd14_or_cd11b_pct: Percent | None = None
    cd79a_or_cd19_pct: Percent | None = None
    hla_dr_pct: Percent | None = None
    viability_pct: Percent | None = None
    sterility: TestResult | None = None
    mycoplasma: TestResult | None = None
    endotoxin_eu_per_kg: NonNegative | None = None
    endotoxin_eu_ml: NonNegative | None = None
    dose_volume_ml: Positive | None = None
    recipient_weight_kg: WeightKg | None = None
    spec: ReleaseSpec | None = None

    @model_validator(mode="after")
    def _one_endotoxin_form(self) -> IsctReleaseInput:
        """Refuse the direct endotoxin dose given together with any part of the computed one."""
        parts = [name for name in ENDOTOXIN_PARTS if getattr(self, name) is not None]
        if self.endotoxin_eu_per_kg is not None and parts:
            raise ValueError(
                "give endotoxin_eu_per_kg or all three of endotoxin_eu_ml, dose_volume_ml and "
                f"recipient_weight_kg, not both (got endotoxin_eu_per_kg and {', '.join(parts)})"
            )
        return self


class IsctReleaseResult(InstrumentResult):
    instrument: Literal["isct-release"] = "isct-release"
    section: Literal["§14"] = "§14"
    releasable: bool | None
    isct_identity: bool | None
    failures: list[str]
    endotoxin_eu_per_kg: ExactOut | None
    spec: ReleaseSpecOut


def endotoxin_per_kg(lot: IsctReleaseInput) -> Decimal | None:
    """Endotoxin dose in EU/kg: given, or EU/mL × dose volume (mL) ÷ recipient weight (§16.14)."""
    if lot.endotoxin_eu_per_kg is not None:
        return lot.endotoxin_eu_per_kg
    if lot.endotoxin_eu_ml is None or lot.dose_volume_ml is None:
        return None
    if lot.recipient_weight_kg is None:
        return None
    return lot.endotoxin_eu_ml * lot.dose_volume_ml / lot.recipient_weight_kg


def _at_least(value: Decimal | None, bound: Decimal) -> Tri:
    return None if value is None else value >= bound


def _at_most(value: Decimal | None, bound: Decimal) -> Tri:
    return None if value is None else value <= bound


def _negative(value: TestResult | None) -> Tri:
    return None if value is None else value == "negative"


ISCT_POSITIVE_MIN_PCT = Decimal(95)
ISCT_NEGATIVE_MAX_PCT = Decimal(2)
"""Dominici 2006 minimal criteria (§14), independent of any programme's spec."""


def identity_checks(
    lot: IsctReleaseInput, *, positive_min_pct: Decimal, negative_max_pct: Decimal
) -> dict[str, Tri]:
    """Each identity criterion by input key: met, not met, or not given (§14)."""
    checks: dict[str, Tri] = {
        "plastic_adherent": lot.plastic_adherent,
        "trilineage_differentiation": lot.trilineage_differentiation,
    }
    for key in POSITIVE_MARKERS:
        checks[key] = _at_least(getattr(lot, key), positive_min_pct)
    for key in NEGATIVE_MARKERS:
        checks[key] = _at_most(getattr(lot, key), negative_max_pct)
    return checks


def safety_checks(lot: IsctReleaseInput, spec: ReleaseSpec) -> dict[str, Tri]:
    """Viability, sterility, mycoplasma and endotoxin by input key (§14 release table)."""
    return {
        "viability_pct": _at_least(lot.viability_pct, spec.viability_min_pct),
        "sterility": _negative(lot.sterility),
        "mycoplasma": _negative(lot.mycoplasma),
        "endotoxin_eu_per_kg": _at_most(endotoxin_per_kg(lot), spec.endotoxin_max_eu_per_kg),
    }


def _missing(lot: IsctReleaseInput, checks: dict[str, Tri]) -> list[str]:
    """Input fields that would decide the unchecked criteria (endotoxin: see the module doc)."""
    missing = [key for key, met in checks.items() if met is None and key != "endotoxin_eu_per_kg"]
    if checks["endotoxin_eu_per_kg"] is None:
        absent = [name for name in ENDOTOXIN_PARTS if getattr(lot, name) is None]
        missing += absent if len(absent) < len(ENDOTOXIN_PARTS) else ["endotoxin_eu_per_kg"]
    return missing


def score(lot: IsctReleaseInput) -> IsctReleaseResult:
    """Judge one MSC lot for release (§14; contract §16.14).

    ``releasable`` is the three-valued AND of every criterion against the spec, ``isct_identity``
    that of the ISCT identity criteria alone at their own thresholds; ``failures`` names each input
    key out of the spec.
    """
    spec = lot.spec or ReleaseSpec()
    identity = identity_checks(
        lot,
        positive_min_pct=spec.positive_marker_min_pct,
        negative_max_pct=spec.negative_marker_max_pct,
    )
    isct = identity_checks(
        lot, positive_min_pct=ISCT_POSITIVE_MIN_PCT, negative_max_pct=ISCT_NEGATIVE_MAX_PCT
    )
    checks = identity | safety_checks(lot, spec)
    return IsctReleaseResult(
        releasable=all_of(checks.values()),
        isct_identity=all_of(isct.values()),
        failures=[key for key, met in checks.items() if met is False],
        endotoxin_eu_per_kg=endotoxin_per_kg(lot),
        spec=ReleaseSpecOut(**spec.model_dump()),
        missing=_missing(lot, checks),
    )


INSTRUMENT = Instrument(
    name="isct-release",
    section="§14",
    title="MSC lot release: ISCT identity, viability, sterility, mycoplasma, endotoxin",
    input_model=IsctReleaseInput,
    result_model=IsctReleaseResult,
    score=score,
)
