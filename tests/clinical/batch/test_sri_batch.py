"""Batch SRI-n equals the single-record SRI on every row and field (§4, §16.3)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lupus_msc.clinical import sledai2k, sri
from lupus_msc.clinical.batch import sri as batch
from lupus_msc.clinical.batch.frame import ROW, prepare
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.longitudinal_visits import (
    PGA,
    Sledai,
    given_only,
    neighbours,
    prepared_with_sledai,
    tables_with_sledai,
    usually,
)
from tests.clinical.batch.visits import exact, frame_of

COLUMNS = ["is_baseline", "pga", "bilag_new_a", "bilag_new_b"]
FEW_NEW = usually(st.sampled_from([0, 0, 0, 1, 1, 2, 9]))
"""BILAG counts around the limits of §4 (no new A, at most one new B)."""
OVERRIDES = {"pga": PGA, "bilag_new_a": FEW_NEW, "bilag_new_b": FEW_NEW}
N = st.one_of(st.just(4), st.integers(4, 20))
REQUIRED = ("sledai_baseline", "sledai_current", "pga_baseline", "pga_current")


def single_result(payload: dict[str, Any]) -> dict[str, Any]:
    """The single-record result as an outside caller reads its JSON (decimals exact)."""
    result = sri.score(sri.SriInput.model_validate(payload))
    found: dict[str, Any] = json.loads(to_json(result), parse_float=Decimal)
    del found["instrument"], found["section"]
    found["missing"] = sorted(found["missing"])
    return found


@settings(max_examples=2000, deadline=None)
@given(tables_with_sledai(COLUMNS, OVERRIDES), N)
def test_batch_equals_single_record_on_every_row(
    table: tuple[list[dict[str, Any]], list[Sledai]], n: int
) -> None:
    rows, sledai = table
    scored = batch.score(prepared_with_sledai(rows, sledai), n=n).rows(named=True)
    near = neighbours(scored)
    for row in scored:
        first = near[row[ROW]].baseline
        payload = {
            "sledai_baseline": sledai[first[ROW]].known,
            "sledai_current": sledai[row[ROW]].known,
            "pga_baseline": exact(first, "pga"),
            "pga_current": exact(row, "pga"),
            "bilag_new_a": row["bilag_new_a"],
            "bilag_new_b": row["bilag_new_b"],
            "n": n,
        }
        given = batch.single_record_input(row, n=n)
        batch_result = batch.result_fields(row, n=n)
        if any(payload[name] is None for name in REQUIRED):
            assert given is None and batch_result is None, row
            with pytest.raises(ValidationError):  # the single-record version refuses it
                sri.SriInput.model_validate(payload)
            continue
        assert given == given_only(payload), row  # the batch's input, found independently
        assert batch_result is not None, row
        batch_result["missing"] = sorted(batch_result["missing"])
        assert batch_result == single_result(given), row


def _visit(patient: str, day: date, *present: str, pga: str, **more: Any) -> dict[str, Any]:
    """A visit with every SLEDAI descriptor assessed, those named present."""
    descriptors = {key: key in present for key in sledai2k.WEIGHTS}
    given = {"is_baseline": None, "bilag_new_a": None, "bilag_new_b": None, **more}
    return {"patient_id": patient, "visit_date": day, "pga": float(pga), **descriptors, **given}


def _hand_worked_frame() -> pl.DataFrame:
    rows = [
        _visit("P1", date(2024, 1, 10), "rash", pga="2.0"),  # screening, before the baseline
        _visit("P1", date(2024, 2, 1), "arthritis", "proteinuria", "rash", pga="1.5",
               is_baseline=True),
        _visit("P1", date(2024, 8, 1), "rash", pga="1.8", bilag_new_a=0, bilag_new_b=1),
        _visit("P2", date(2024, 1, 5), "arthritis", "proteinuria", "rash", pga="1.5"),
        _visit("P2", date(2024, 7, 5), "arthritis", "rash", pga="1.79"),
        _visit("P2", date(2025, 1, 5), "rash", pga="0"),
    ]  # fmt: skip
    rows[-1]["seizure"] = None  # SLEDAI incomplete at P2's last visit
    return frame_of(rows)


def test_hand_worked_visits_against_the_baseline_visit() -> None:
    """§4, §0.2, worked by hand. SLEDAI-2K weights (§1): arthritis 4, proteinuria 4, rash 2.

    P1's baseline is its flagged second visit (10 points, PGA 1.5). Screening (2 points,
    PGA 2.0): reduction 10 − 2 = 8, PGA +0.5 — a worsening. Follow-up (2 points, PGA 1.8):
    reduction 8, but 1.8 − 1.5 = 0.3 exactly (not 0.30000000000000004) is a worsening (≥ 0.3):
    neither SRI-4 nor mSRI, although BILAG (0 A, 1 B) passes.
    P2 has no flag, so its first visit (10, PGA 1.5) is the baseline. Six months later (6, PGA
    1.79): reduction 4 (met), +0.29 (no worsening): mSRI, SRI-4 unknown without BILAG. The last
    visit's SLEDAI is incomplete (seizure not assessed): no SRI at all.
    """
    scored = batch.score(prepare(_hand_worked_frame()))
    results = [batch.result_fields(row) for row in scored.iter_rows(named=True)]
    screening, p1_baseline, follow_up, p2_baseline, six_months, incomplete = results
    assert screening is not None and follow_up is not None and six_months is not None
    assert (screening["sledai_reduction"], screening["pga_change"]) == (8, Decimal("0.5"))
    assert screening["components"]["no_pga_worsening"] is False
    assert p1_baseline == p2_baseline
    assert p1_baseline is not None and p1_baseline["sledai_reduction"] == 0
    assert p1_baseline["responder"] is False  # the baseline visit against itself: no reduction
    assert (follow_up["sledai_reduction"], follow_up["pga_change"]) == (8, Decimal("0.3"))
    assert (follow_up["responder"], follow_up["msri"]) == (False, False)
    assert follow_up["components"]["no_new_bilag"] is True
    assert (six_months["sledai_reduction"], six_months["pga_change"]) == (4, Decimal("0.29"))
    assert (six_months["responder"], six_months["msri"]) == (None, True)
    assert sorted(six_months["missing"]) == ["bilag_new_a", "bilag_new_b"]
    assert incomplete is None
    assert scored.row(5, named=True)["sri.responder"] is None


def test_sri_5_needs_a_5_point_reduction() -> None:
    """§4 SRI-n: P2's 4-point reduction meets SRI-4 but not SRI-5 (mSRI fails with it)."""
    six_months = batch.result_fields(
        batch.score(prepare(_hand_worked_frame()), n=5).row(4, named=True), n=5
    )
    assert six_months is not None
    assert (six_months["msri"], six_months["n"]) == (False, 5)
    assert six_months["components"]["sledai_reduction_met"] is False


def test_it_refuses_n_outside_4_to_20() -> None:
    with pytest.raises(ValueError, match="n must be 4–20"):
        batch.score(prepare(_hand_worked_frame()), n=3)
