"""Batch renal response equals the single-record one on every row and field (§10, §16.10)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lupus_msc.clinical import renal_response
from lupus_msc.clinical.batch import egfr as batch_egfr
from lupus_msc.clinical.batch import renal_response as batch
from lupus_msc.clinical.batch.frame import ROW, prepare
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.longitudinal_visits import given_only, neighbours, usually
from tests.clinical.batch.visits import exact, frame_of, visit_tables

COLUMNS = ["is_baseline", "upcr_g_g", "sex", "age_years", "creatinine_mg_dl", "cystatin_c_mg_l"]
UPCR_NOTABLE = ["0", "0.25", "0.499", "0.5", "0.501", "0.7", "1", "1.5", "2.999", "3", "3.5", "6"]
OVERRIDES: dict[str, st.SearchStrategy[Any]] = {
    # UPCR pairs that land on the thresholds: 1 → 0.5 and 6 → 3 are exactly 50 % reductions.
    "upcr_g_g": usually(
        st.one_of(
            st.sampled_from([Decimal(value) for value in UPCR_NOTABLE]),
            st.integers(0, 8000).map(lambda thousandths: Decimal(thousandths) / 1000),
        )
    ),
    "sex": usually(st.sampled_from(["female", "male"])),
    "age_years": usually(st.integers(18, 90)),
    "creatinine_mg_dl": usually(
        st.integers(40, 400).map(lambda hundredths: Decimal(hundredths) / 100)
    ),
}
TOLERANCES = [None, Decimal(0), Decimal(10), Decimal("12.5"), Decimal(15), Decimal(20)]
SETTINGS: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {
            "criteria": st.just("kdigo2024"),
            "egfr_tolerance_percent": st.sampled_from(TOLERANCES),
            "complete_upcr_g_g": st.sampled_from([None, Decimal("0.5")]),
        }
    ),
    st.fixed_dictionaries(
        {
            "criteria": st.just("eular2019"),
            "egfr_tolerance_percent": st.sampled_from(TOLERANCES),
            "complete_upcr_g_g": st.sampled_from([None, Decimal("0.5"), Decimal("0.7")]),
            "subnephrotic_g_g": st.sampled_from(
                [None, Decimal("3.5"), Decimal(2), Decimal("2.75")]
            ),
        }
    ),
)


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = draw(visit_tables(COLUMNS))
    extra = st.fixed_dictionaries(OVERRIDES)
    return [{**row, **draw(extra)} for row in rows]


def egfr_of(row: dict[str, Any]) -> Decimal | None:
    """The batch eGFR of a visit as the single-record input takes it: Decimal(repr(float))."""
    value = row[batch_egfr.PREFIX + "egfr_cr_cys"]
    if value is None:
        value = row[batch_egfr.PREFIX + "egfr_cr"]
    return None if value is None else Decimal(repr(value))


def single_result(payload: dict[str, Any]) -> dict[str, Any]:
    """The single-record result as an outside caller reads its JSON (decimals exact)."""
    result = renal_response.score(renal_response.RenalResponseInput.model_validate(payload))
    found: dict[str, Any] = json.loads(to_json(result), parse_float=Decimal)
    del found["instrument"], found["section"]
    return found


@settings(max_examples=2000, deadline=None)
@given(tables(), SETTINGS)
def test_batch_equals_single_record_on_every_row(
    rows: list[dict[str, Any]], parameters: dict[str, Any]
) -> None:
    chosen = {name: value for name, value in parameters.items() if value is not None}
    scored = batch.score(prepare(frame_of(rows)), **chosen).rows(named=True)
    near = neighbours(scored)
    for row in scored:
        first = near[row[ROW]].baseline
        given = {
            "baseline_upcr_g_g": exact(first, "upcr_g_g"),
            "current_upcr_g_g": exact(row, "upcr_g_g"),
            "baseline_egfr": egfr_of(first),
            "current_egfr": egfr_of(row),
        }
        payload = batch.single_record_input(row, **chosen)
        # The batch's input, against the baseline visit found independently.
        assert payload == given_only({"criteria": "kdigo2024", **chosen, **given}), row
        single = single_result(payload)
        found = batch.result_fields(row, **chosen)
        change, expected = found.pop("egfr_change_percent"), single.pop("egfr_change_percent")
        if expected is None:
            assert change is None, row
        else:
            assert change == pytest.approx(float(expected), rel=1e-12, abs=1e-12), row
        assert sorted(found.pop("missing")) == sorted(single.pop("missing")), row
        assert found == single, (row, payload)


def _visit(day: date, upcr: str, creatinine: str, **more: Any) -> dict[str, Any]:
    """A visit of a 40-year-old woman (the same age throughout, so eGFR varies by creatinine)."""
    given = {"is_baseline": None, "sex": "female", "age_years": 40, **more}
    return {"patient_id": "P1", "visit_date": day, "upcr_g_g": float(upcr),
            "creatinine_mg_dl": float(creatinine), **given}  # fmt: skip


ROWS = [
    _visit(date(2024, 1, 1), "4", "1.3"),  # screening, before the flagged baseline
    _visit(date(2024, 2, 1), "3", "1.0", is_baseline=True),
    _visit(date(2024, 8, 1), "0.4", "1.1"),
    _visit(date(2024, 9, 1), "1.5", "1.0"),
    _visit(date(2024, 10, 1), "1.501", "1.0"),
    _visit(date(2024, 11, 1), "0.3", "1.3"),
]


def _results(**parameters: Any) -> list[dict[str, Any]]:
    scored = batch.score(prepare(frame_of(ROWS)), **parameters)
    return [batch.result_fields(row, **parameters) for row in scored.iter_rows(named=True)]


def test_hand_worked_visits_against_the_baseline_visit_kdigo() -> None:
    """§10 KDIGO 2024 with the D21 default tolerance of 15 %, worked by hand.

    Baseline: the flagged visit, UPCR 3 g/g, creatinine 1.0 mg/dL. All creatinines are above
    κ = 0.7, so at one age eGFR ∝ Scr^−1.2 (§9): 1.1 → 1.1^−1.2 = 0.8919 (−10.8 %, stable at
    15 %), 1.3 → 1.3^−1.2 = 0.7299 (−27.0 %, not stable); 1.0 → unchanged.
    - UPCR 0.4 (< 0.5), eGFR −10.8 %: complete (reduction (3 − 0.4)/3 = 86.66… %).
    - UPCR 1.5: exactly 50 % and < 3 g/g, eGFR unchanged: partial.
    - UPCR 1.501: 49.966… %: none.
    - UPCR 0.3 but eGFR −27 %: none (eGFR not stable).
    - The screening visit before the baseline: UPCR 4 > 3, reduction −33.33… %: none.
    """
    screening, at_baseline, complete, partial, short, falling = _results()
    assert [screening["response"], at_baseline["response"]] == ["none", "none"]
    assert screening["proteinuria_reduction_percent"] == Decimal("-33.33333333333333333333333333")
    assert at_baseline["proteinuria_reduction_percent"] == 0
    assert (complete["response"], complete["egfr_stable"]) == ("complete", True)
    assert complete["egfr_change_percent"] == pytest.approx((1.1**-1.2 - 1) * 100, rel=1e-9)
    assert complete["proteinuria_reduction_percent"] == Decimal("86.66666666666666666666666667")
    assert (partial["response"], partial["proteinuria_reduction_percent"]) == ("partial", 50)
    assert short["response"] == "none"
    assert short["proteinuria_reduction_percent"] == Decimal("49.96666666666666666666666667")
    assert (falling["response"], falling["egfr_stable"]) == ("none", False)
    assert falling["egfr_change_percent"] == pytest.approx((1.3**-1.2 - 1) * 100, rel=1e-9)
    assert (complete["criteria"], complete["egfr_tolerance_percent"]) == ("kdigo2024", 15)


def test_d21_a_10_8_percent_egfr_fall_is_stable_for_kdigo_but_not_for_eular() -> None:
    """D21/§10: KDIGO tolerates 15 % by default, EULAR 10 %: the −10.8 % visit is complete by
    KDIGO and no response by EULAR (neither complete nor partial without a stable eGFR)."""
    kdigo = _results()[2]
    eular = _results(criteria="eular2019")[2]
    assert (kdigo["response"], eular["response"]) == ("complete", "none")
    assert (eular["egfr_stable"], eular["egfr_tolerance_percent"]) == (False, 10)
    assert _results(egfr_tolerance_percent=Decimal(10))[2]["response"] == "none"


def test_a_visit_without_egfr_is_undecided_unless_the_upcr_decides() -> None:
    """§10 "Missing data", three-valued (§16.0): without sex there is no eGFR (§9). UPCR 0.4
    could be complete or none: null, naming the eGFR; UPCR 4 (> 3) is none whatever the eGFR."""
    rows = [
        _visit(date(2024, 1, 1), "3", "1.0"),
        _visit(date(2024, 6, 1), "0.4", "1.0", sex=None),
        _visit(date(2024, 7, 1), "4", "1.0", sex=None),
    ]
    scored = batch.score(prepare(frame_of(rows))).iter_rows(named=True)
    _, open_visit, failed = (batch.result_fields(row) for row in scored)
    assert (open_visit["response"], open_visit["missing"]) == (None, ["current_egfr"])
    assert (failed["response"], failed["missing"]) == ("none", [])


def test_eular_lenient_0_7_and_its_refusal_with_kdigo() -> None:
    """§10: complete below 0.7 g/g is EULAR's lenient end; KDIGO refuses it (single-record rule)."""
    rows = [_visit(date(2024, 1, 1), "3", "1.0"), _visit(date(2024, 6, 1), "0.6", "1.0")]
    lenient: dict[str, Any] = {"criteria": "eular2019", "complete_upcr_g_g": Decimal("0.7")}
    scored = batch.score(prepare(frame_of(rows)), **lenient)
    assert batch.result_fields(scored.row(1, named=True), **lenient)["response"] == "complete"
    with pytest.raises(ValidationError, match="complete_upcr_g_g"):
        batch.score(prepare(frame_of(rows)), complete_upcr_g_g=Decimal("0.7"))
