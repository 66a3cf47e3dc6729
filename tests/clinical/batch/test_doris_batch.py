"""Batch DORIS remission equals the single-record DORIS on every row and field (§6, §16.5)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from lupus_msc.clinical import doris, sledai2k
from lupus_msc.clinical.batch import doris as batch_doris
from lupus_msc.clinical.batch.frame import prepare
from tests.clinical.batch.activity_visits import (
    activity_tables,
    comparable,
    flags_given,
    required_inputs,
    single_descriptors,
    single_result,
)
from tests.clinical.batch.visits import frame_of

Comparator = Literal["le", "lt"]


def single_payload(row: dict[str, Any], comparator: Comparator) -> dict[str, Any] | None:
    """The single-record input, found independently; None when a required input is not there."""
    required = required_inputs(row, single_descriptors(row))
    if required is None:
        return None
    return {
        **required,
        "prednisone_comparator": comparator,
        **flags_given(row, ("other_drugs_stable",)),
    }


@settings(max_examples=2000, deadline=None)
@given(activity_tables(), st.sampled_from(["le", "lt"]))
def test_batch_equals_single_record_on_every_row(
    rows: list[dict[str, Any]], comparator: Comparator
) -> None:
    scored = batch_doris.score(prepare(frame_of(rows)), prednisone_comparator=comparator)
    for row in scored.iter_rows(named=True):
        given = batch_doris.single_record_input(row, prednisone_comparator=comparator)
        assert comparable(given) == comparable(single_payload(row, comparator)), row
        expected = single_result(doris.INSTRUMENT, given)
        assert comparable(batch_doris.result_fields(row)) == comparable(expected), row


# --- small hand-worked tables ------------------------------------------------------------------

QUIET = dict.fromkeys(sledai2k.WEIGHTS, False)


def visit(**changes: Any) -> dict[str, Any]:
    """Serology active only (clinical SLEDAI 0), PGA 0.4, prednisone 5 mg: in remission."""
    base = {
        **QUIET,
        "low_complement": True,
        "increased_dna_binding": True,
        "pga": 0.4,
        "glucocorticoid_1_drug": "prednisone",
        "glucocorticoid_1_dose_mg": 5.0,
    }
    return {**base, **changes}


def scored(*visits: dict[str, Any], comparator: Comparator = "le") -> list[dict[str, Any] | None]:
    """Each visit as its own patient's only visit; the result fields of each row."""
    rows = [
        {"patient_id": f"P{index}", "visit_date": date(2024, 1, 1), **one}
        for index, one in enumerate(visits)
    ]
    names = {name for row in rows for name in row}
    frame = prepare(pl.DataFrame([{name: row.get(name) for name in names} for row in rows]))
    result = batch_doris.score(frame, prednisone_comparator=comparator)
    return [batch_doris.result_fields(row) for row in result.iter_rows(named=True)]


def test_remission_with_active_serology() -> None:
    """§6: clinical SLEDAI = 0 ignores low complement and increased DNA binding."""
    assert scored(visit()) == [
        {"remission": True, "clinical_sledai": 0, "failed_components": [], "missing": []}
    ]


def test_d9_doris_prednisone_5_counts_by_default() -> None:
    """D9: ≤ 5 mg/day by default; "lt" (Table 2 box) refuses exactly 5; 4.999 passes both."""
    doses = [visit(glucocorticoid_1_dose_mg=mg) for mg in (4.999, 5.0, 5.001)]
    by_default = [r["failed_components"] for r in scored(*doses) if r is not None]
    strict = [r["failed_components"] for r in scored(*doses, comparator="lt") if r is not None]
    assert by_default == [[], [], ["prednisone"]]
    assert strict == [[], ["prednisone"], ["prednisone"]]


def test_d9_methylprednisolone_4_mg_is_exactly_5_mg_prednisone() -> None:
    """§11: methylprednisolone 4 mg × 5/4 = 5 mg exactly, so ≤ 5 holds and < 5 does not."""
    methylpred = visit(glucocorticoid_1_drug="methylprednisolone", glucocorticoid_1_dose_mg=4.0)
    assert [r["remission"] for r in scored(methylpred) if r is not None] == [True]
    assert [r["remission"] for r in scored(methylpred, comparator="lt") if r] == [False]


def test_d10_pga_0_5_is_not_below_0_5() -> None:
    results = scored(visit(pga=0.49), visit(pga=0.5), visit(pga=0.51))
    assert [r["failed_components"] for r in results if r is not None] == [[], ["pga"], ["pga"]]


def test_every_component_can_fail_at_once() -> None:
    """Arthritis (4), PGA 2, prednisone 10 mg, drugs changed: all four components fail."""
    result = scored(
        visit(arthritis=True, pga=2.0, glucocorticoid_1_dose_mg=10.0, other_drugs_stable=False)
    )[0]
    assert result is not None
    assert result["clinical_sledai"] == 4
    assert sorted(result["failed_components"]) == [
        "clinical_sledai",
        "pga",
        "prednisone",
        "stable_drugs",
    ]


def test_no_glucocorticoid_is_0_mg_and_no_pga_has_no_result() -> None:
    """A visit without any glucocorticoid slot took 0 mg (§11); PGA is required by §16.5."""
    results = scored(
        visit(glucocorticoid_1_drug=None, glucocorticoid_1_dose_mg=None), visit(pga=None)
    )
    assert results[0] is not None and results[0]["remission"] is True
    assert results[1] is None


def test_an_incomplete_sledai_has_no_result() -> None:
    """The single-record input takes the descriptors as a complete assessment (§16.5)."""
    complete, incomplete = scored(visit(), visit(vasculitis=None))
    assert complete is not None
    assert incomplete is None
