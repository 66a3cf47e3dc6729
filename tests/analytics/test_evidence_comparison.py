"""The cohort-versus-published comparison follows the evidence table's rules (shared/evidence)."""

from __future__ import annotations

import csv

import pytest

from lupus_msc.analytics.evidence_comparison import (
    ALWAYS_SHOWN,
    CAVEAT,
    for_patient,
    response_comparison,
)
from lupus_msc.analytics.evidence_table import PACKAGED, published_studies
from lupus_msc.analytics.meta_analysis import pool_proportions


def _table() -> dict[str, dict[str, str]]:
    with PACKAGED.open(encoding="utf-8") as handle:
        return {row["study_id"]: row for row in csv.DictReader(handle)}


def test_only_msc_non_placebo_rows_marked_for_pooling_are_pooled() -> None:
    table = _table()
    comparison = response_comparison()
    assert comparison.pooled_ids, "something must be pooled from the shipped table"
    for study_id in comparison.pooled_ids:
        row = table[study_id]
        assert row["therapy"] == "MSC"
        assert row["arm"] != "placebo"
        assert row["use_in_pooling"].startswith("yes")
    groups = [table[i]["overlap_group"] for i in comparison.pooled_ids if table[i]["overlap_group"]]
    assert len(groups) == len(set(groups)), "two rows of one overlap group were pooled"


def test_hsct_rows_are_never_shown_as_msc_results() -> None:
    shown = {arm.study_id for arm in response_comparison().arms}
    hsct = {i for i, row in _table().items() if row["therapy"] == "HSCT"}
    assert not shown & hsct


def test_the_randomised_trial_is_always_shown_with_its_placebo_arm() -> None:
    shown = {arm.study_id: arm for arm in response_comparison().arms}
    for study_id in ALWAYS_SHOWN:
        assert study_id in shown
    assert not shown["deng2017_placebo"].pooled
    assert "placebo" in shown["deng2017_placebo"].note
    for renal in (True, False):
        assert set(ALWAYS_SHOWN) <= {arm.study_id for arm in for_patient(renal)}


def test_the_pooled_estimate_is_the_meta_analysis_of_the_pooled_rows_counts() -> None:
    table = _table()
    comparison = response_comparison()
    ids = comparison.pooled_ids
    expected = pool_proportions(
        [int(table[i]["n_any_response"]) for i in ids],
        [int(table[i]["response_denominator"]) for i in ids],
    )
    assert comparison.pooled == expected


def test_each_arm_keeps_its_definition_verification_and_sources() -> None:
    table = _table()
    for arm in response_comparison().arms:
        row = table[arm.study_id]
        assert arm.definition == row["response_definition"]
        assert arm.verification_level == row["verification_level"]
        assert arm.sources == row["sources"]
        if arm.events is not None and arm.total:
            assert arm.proportion == pytest.approx(int(row["n_any_response"]) / arm.total)


def test_a_study_reported_far_from_the_cohorts_time_points_is_not_pooled() -> None:
    rows = [dict(row) for row in published_studies()]
    for row in rows:
        if row["study_id"] == "wang2014_art":
            row["response_timepoint_months"] = "60"
    comparison = response_comparison(rows)
    assert "wang2014_art" not in comparison.pooled_ids
    note = next(arm.note for arm in comparison.arms if arm.study_id == "wang2014_art")
    assert "60 months" in note


def test_patients_with_nephritis_are_shown_nephritis_studies() -> None:
    table = _table()
    renal = {arm.study_id for arm in for_patient(True)} - set(ALWAYS_SHOWN)
    other = {arm.study_id for arm in for_patient(False)} - set(ALWAYS_SHOWN)
    assert renal and other and not renal & other
    for study_id in renal:
        text = (table[study_id]["population"] + table[study_id]["primary_outcome"]).lower()
        assert "nephritis" in text or "ln" in text.split() or "renal" in text or "ln" in text
    assert "not a prediction" in CAVEAT
