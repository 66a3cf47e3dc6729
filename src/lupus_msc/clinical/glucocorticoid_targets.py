"""Named prednisone-equivalent dose targets, each with its own inequality (§11, §5, §6; D9, D16).

The targets look alike but are not: LLDAS allows ≤ 7.5 mg/day, the EULAR/ERA-EDTA 2019 lupus
nephritis maintenance recommendation says "< 7.5 mg/day", DORIS remission ≤ 5 mg/day (D9) and the
EULAR SLE 2023 update minimises maintenance to ≤ 5 mg/day. D16 keeps them as separate bands, so a
patient on exactly 7.5 mg meets the LLDAS dose and not the LN maintenance target.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from lupus_msc.clinical.prednisone_equivalent import DORIS_MAX_MG_DAY, LLDAS_MAX_MG_DAY

TargetName = Literal["lldas", "doris", "eular_ln_maintenance", "eular_sle_2023_maintenance"]


@dataclass(frozen=True)
class DoseTarget:
    """A glucocorticoid dose limit in prednisone-equivalent mg/day, and whether it is inclusive."""

    name: TargetName
    limit_mg_day: Decimal
    inclusive: bool
    source: str

    def met_by(self, mg_day: Decimal | Fraction) -> bool:
        """Whether a daily dose meets the target, compared exactly (§0.1)."""
        dose, limit = Fraction(mg_day), Fraction(self.limit_mg_day)
        return dose <= limit if self.inclusive else dose < limit


TARGETS: dict[TargetName, DoseTarget] = {
    target.name: target
    for target in (
        DoseTarget("lldas", LLDAS_MAX_MG_DAY, inclusive=True, source="§5 criterion 4"),
        DoseTarget("doris", DORIS_MAX_MG_DAY, inclusive=True, source="§6, D9"),
        DoseTarget(
            "eular_ln_maintenance", Decimal("7.5"), inclusive=False, source="§11 EULAR/ERA-EDTA"
        ),
        DoseTarget(
            "eular_sle_2023_maintenance", Decimal(5), inclusive=True, source="§11 EULAR 2023"
        ),
    )
}


def targets_met(mg_day: Decimal | Fraction) -> dict[TargetName, bool]:
    """Every named target and whether ``mg_day`` meets it (§11, D16)."""
    return {name: target.met_by(mg_day) for name, target in TARGETS.items()}
