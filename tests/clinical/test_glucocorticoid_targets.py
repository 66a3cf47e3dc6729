"""Named glucocorticoid dose targets (instruments.md §11, §5, §6; D9, D16)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lupus_msc.clinical.glucocorticoid_targets import TARGETS, targets_met


def test_d16_7_5_mg_meets_lldas_but_not_the_eular_ln_maintenance_target() -> None:
    """§5 LLDAS "≤ 7.5 mg/day" versus EULAR/ERA-EDTA 2019 LN "< 7.5 mg/day": kept apart (D16)."""
    met = targets_met(Decimal("7.5"))
    assert met["lldas"] is True
    assert met["eular_ln_maintenance"] is False


@pytest.mark.parametrize(
    ("name", "below", "at", "above", "at_meets"),
    [
        ("lldas", "7.49", "7.5", "7.51", True),
        ("eular_ln_maintenance", "7.49", "7.5", "7.51", False),
        ("doris", "4.99", "5", "5.01", True),
        ("eular_sle_2023_maintenance", "4.99", "5", "5.01", True),
    ],
)
def test_each_target_below_at_and_above(
    name: str, below: str, at: str, above: str, at_meets: bool
) -> None:
    target = TARGETS[name]  # type: ignore[index]
    assert target.met_by(Decimal(below)) is True
    assert target.met_by(Decimal(at)) is at_meets
    assert target.met_by(Decimal(above)) is False
