"""DORIS 2021 definition of remission in SLE, on treatment (§6, §16.5).

Clinical SLEDAI = 0 with serology ignored, PGA < 0.5 (D10), prednisone ≤ 5 mg/day (D9; "lt"
selects the < 5 mg/day of the Table 2 box) and other drugs at stable doses. All inputs the
definition needs are required, so remission is always decided.
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
)
from lupus_msc.clinical.prednisone_equivalent import DORIS_MAX_MG_DAY
from lupus_msc.clinical.sledai2k import SEROLOGY, DescriptorKey, sledai_total

PGA_BELOW = Decimal("0.5")
"""§6 (D10): PGA < 0.5; S30's "≤ 0.5" rejected."""

Component = Literal["clinical_sledai", "pga", "prednisone", "stable_drugs"]


class DorisInput(InstrumentInput):
    """SLEDAI-2K descriptors present, PGA, prednisone dose and drug stability (§16.5)."""

    sledai_descriptors: list[DescriptorKey]
    pga: Pga
    prednisone_mg_day: NonNegative
    other_drugs_stable: bool = True
    """Antimalarials, immunosuppressives and biologics at stable doses ("stable" per protocol)."""
    prednisone_comparator: Literal["le", "lt"] = "le"
    """D9: "le" = ≤ 5 mg/day (abstract, chosen); "lt" = < 5 mg/day (Table 2 box)."""


class DorisResult(InstrumentResult):
    instrument: Literal["doris"] = "doris"
    section: Literal["§6"] = "§6"
    remission: bool
    clinical_sledai: int
    failed_components: list[Component]


def prednisone_ok(mg_day: Decimal, comparator: Literal["le", "lt"]) -> bool:
    """§6 glucocorticoid component against 5 mg/day, with the chosen comparator (D9)."""
    if comparator == "lt":
        return mg_day < DORIS_MAX_MG_DAY
    return mg_day <= DORIS_MAX_MG_DAY


def score(inp: DorisInput) -> DorisResult:
    """DORIS 2021 remission at a single time point (§6; contract §16.5).

    The clinical SLEDAI drops low complement and increased DNA binding (§1, D5 DORIS meaning).
    """
    present: set[str] = set(inp.sledai_descriptors)
    clinical = sledai_total(present - SEROLOGY)
    passed: dict[Component, bool] = {
        "clinical_sledai": clinical == 0,
        "pga": inp.pga < PGA_BELOW,
        "prednisone": prednisone_ok(inp.prednisone_mg_day, inp.prednisone_comparator),
        "stable_drugs": inp.other_drugs_stable,
    }
    failed = [component for component, ok in passed.items() if not ok]
    return DorisResult(remission=not failed, clinical_sledai=clinical, failed_components=failed)


INSTRUMENT = Instrument(
    name="doris",
    section="§6",
    title="DORIS 2021 definition of remission",
    input_model=DorisInput,
    result_model=DorisResult,
    score=score,
)
