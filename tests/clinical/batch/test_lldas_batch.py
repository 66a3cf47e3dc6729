"""Batch LLDAS equals the single-record LLDAS on every row and field (§5, §16.4)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from hypothesis import given, settings

from lupus_msc.clinical import lldas, sledai2k
from lupus_msc.clinical.batch import lldas as batch_lldas
from lupus_msc.clinical.batch import sledai2k as batch_sledai2k
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

FLAGS = (
    "new_features",
    "hemolytic_anemia",
    "gi_activity",
    "investigational_drug",
    "immunosuppressants_tolerated",
)


def single_payload(
    row: dict[str, Any], descriptors: list[str] | None, before: list[str] | None
) -> dict[str, Any] | None:
    """The single-record input, found independently; None when a required input is not there."""
    required = required_inputs(row, descriptors)
    if required is None:
        return None
    payload = {**required, **flags_given(row, FLAGS)}
    if before is not None:
        payload["previous_sledai_descriptors"] = before
    return payload


@settings(max_examples=2000, deadline=None)
@given(activity_tables())
def test_batch_equals_single_record_on_every_row(rows: list[dict[str, Any]]) -> None:
    scored = batch_lldas.score(prepare(frame_of(rows)))
    patient, before = None, None
    for row in scored.iter_rows(named=True):
        if row["patient_id"] != patient:
            patient, before = row["patient_id"], None
        descriptors = single_descriptors(row)
        given = batch_lldas.single_record_input(row)
        assert comparable(given) == comparable(single_payload(row, descriptors, before)), row
        expected = single_result(lldas.INSTRUMENT, given)
        assert comparable(batch_lldas.result_fields(row)) == comparable(expected), row
        before = descriptors


# --- small hand-worked tables ------------------------------------------------------------------

QUIET = dict.fromkeys(sledai2k.WEIGHTS, False)


def table(*visits: dict[str, Any]) -> list[dict[str, Any] | None]:
    """Score one patient's visits (monthly from January 2024); each row's result fields."""
    rows = [
        {"patient_id": "P1", "visit_date": date(2024, 1 + month, 1), **visit}
        for month, visit in enumerate(visits)
    ]
    names = {name for row in rows for name in row}
    frame = pl.DataFrame([{name: row.get(name) for name in names} for row in rows])
    scored = batch_lldas.score(prepare(frame))
    return [batch_lldas.result_fields(row) for row in scored.iter_rows(named=True)]


def visit(**changes: Any) -> dict[str, Any]:
    """A complete SLEDAI-2K with arthritis (4), PGA 1, prednisone 7.5 mg: every limit met."""
    base = {
        **QUIET,
        "arthritis": True,
        "pga": 1.0,
        "glucocorticoid_1_drug": "prednisone",
        "glucocorticoid_1_dose_mg": 7.5,
    }
    return {**base, **changes}


def test_first_visit_is_undecided_and_second_is_lldas() -> None:
    """§5 [IMPL]: no previous assessment → criterion 2 undecided; the next visit compares."""
    first, second = table(visit(), visit())
    assert first == {
        "lldas": None,
        "failed_criteria": [],
        "sledai_total": 4,
        "missing": ["previous_sledai_descriptors", "new_features"],
    }
    assert second == {"lldas": True, "failed_criteria": [], "sledai_total": 4, "missing": []}


def test_a_descriptor_new_since_the_previous_visit_fails_criterion_2() -> None:
    """D11 (Oon): rash appears at visit 2 (total 2 ≤ 4, so only criterion 2 fails)."""
    _, second = table(visit(arthritis=False), visit(arthritis=False, rash=True))
    assert second is not None
    assert (second["lldas"], second["failed_criteria"]) == (False, [2])


def test_an_incomplete_previous_visit_gives_no_previous_descriptors() -> None:
    """Visit 1 leaves fever unassessed: visit 2 has no previous assessment to compare with."""
    first, second = table(visit(fever=None), visit())
    assert first is None  # incomplete SLEDAI-2K: the single-record input cannot be built
    assert second is not None and second["lldas"] is None


def test_an_incomplete_visit_has_no_result() -> None:
    first, second = table(visit(), visit(seizure=None))
    assert first is not None
    assert second is None


def test_no_pga_or_an_unknown_dose_has_no_result() -> None:
    """PGA and the prednisone dose are required by §16.4; a drug without a dose is unknown."""
    results = table(visit(), visit(pga=None), visit(glucocorticoid_1_dose_mg=None))
    assert results[1] is None and results[2] is None


def test_clinician_new_features_decide_criterion_2_at_a_first_visit() -> None:
    assert table(visit(new_features=False))[0] == {
        "lldas": True,
        "failed_criteria": [],
        "sledai_total": 4,
        "missing": [],
    }


def test_prednisone_7_5_meets_and_7_501_fails_criterion_4() -> None:
    """§5 criterion 4: ≤ 7.5 mg/day, exact (dexamethasone 1.125 mg = 7.5 mg too, §11)."""
    results = table(
        visit(new_features=False, glucocorticoid_1_dose_mg=7.501),
        visit(glucocorticoid_1_drug="dexamethasone", glucocorticoid_1_dose_mg=1.125),
    )
    assert [r["failed_criteria"] for r in results if r is not None] == [[4], []]


def test_pga_1_meets_and_1_01_fails_criterion_3() -> None:
    results = table(visit(new_features=False, pga=1.01), visit(pga=1.0))
    assert [r["failed_criteria"] for r in results if r is not None] == [[3], []]


def test_a_major_organ_descriptor_and_hemolysis_fail_criterion_1() -> None:
    """Fever (1 point, total ≤ 4) is major-organ activity; haemolytic anaemia is not SLEDAI."""
    fever = table(visit(new_features=False, arthritis=False, fever=True))[0]
    hemolysis = table(visit(new_features=False, hemolytic_anemia=True))[0]
    assert fever is not None and fever["failed_criteria"] == [1]
    assert hemolysis is not None and hemolysis["failed_criteria"] == [1]


def test_an_investigational_drug_fails_criterion_5() -> None:
    result = table(visit(new_features=False, investigational_drug=True))[0]
    assert result is not None and result["failed_criteria"] == [5]


def test_it_scores_sledai_only_when_absent() -> None:
    """An already scored SLEDAI-2K is reused (here falsified on purpose to show it is read)."""
    frame = prepare(pl.DataFrame([{"patient_id": "P1", "visit_date": date(2024, 1, 1), **visit()}]))
    scored = batch_sledai2k.score(frame).with_columns(
        pl.lit(6).cast(pl.Int32).alias("sledai2k.total")
    )
    assert batch_lldas.score(scored)["lldas.sledai_total"].to_list() == [6]
