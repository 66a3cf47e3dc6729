"""The synthetic visit table: seeded, accepted by the batch engine as it is, shaped as scheduled."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.clinical.batch.schema import VISIT_COLUMNS
from lupus_msc.clinical.facit_f import ITEMS as FACIT_ITEMS
from lupus_msc.synth import Cohort, generate_cohort, generate_visits, patients_for, write_visits
from lupus_msc.synth import visits as synth_visits
from lupus_msc.synth.schedule import PROTOCOL, schedule
from tests.synth.conftest import number


def test_the_same_seed_gives_the_same_table() -> None:
    assert generate_visits(300, seed=11).equals(generate_visits(300, seed=11))


def test_different_seeds_give_different_tables() -> None:
    assert not generate_visits(300, seed=11).equals(generate_visits(300, seed=12))


def test_the_table_has_exactly_the_schema_columns_in_order(cohort: Cohort) -> None:
    assert cohort.visits.columns == [column.name for column in VISIT_COLUMNS]


def test_prepare_accepts_the_table_unchanged(cohort: Cohort) -> None:
    prepared = prepare(cohort.visits)
    assert prepared.height == cohort.visits.height


def test_prepare_accepts_a_long_schedule_unchanged() -> None:
    long = generate_visits(200, seed=3, visits_per_patient=30)
    assert prepare(long).height == long.height


def test_written_parquet_reads_back_as_the_same_table(tmp_path: Path) -> None:
    path = write_visits(200, tmp_path / "new" / "dir", seed=5)
    assert path == tmp_path / "new" / "dir" / "visits.parquet"
    assert pl.read_parquet(path).equals(generate_visits(200, seed=5))


def test_every_patient_has_one_baseline_visit_and_it_comes_first(cohort: Cohort) -> None:
    per_patient = cohort.visits.group_by("patient_id").agg(
        pl.col("is_baseline").sum().alias("baselines"),
        pl.col("is_baseline").sort_by("visit_date").first().alias("first_is_baseline"),
    )
    assert per_patient.height == cohort.patients.height == 3000
    assert per_patient["baselines"].to_list() == [1] * per_patient.height
    assert per_patient["first_is_baseline"].all()


def test_visits_follow_the_protocol_schedule_with_some_missed(cohort: Cohort) -> None:
    counts = cohort.visits.group_by("patient_id").len()["len"]
    assert counts.max() == len(PROTOCOL)
    assert 0.85 * len(PROTOCOL) < number(counts.mean()) < len(PROTOCOL)


def test_the_table_is_in_patient_and_date_order(cohort: Cohort) -> None:
    keys = cohort.visits.select("patient_id", "visit_date")
    assert keys.equals(keys.sort("patient_id", "visit_date"))


def test_visits_per_patient_extends_the_schedule_every_three_months() -> None:
    plan = schedule(12)
    assert plan.size == 12
    assert list(plan.months[-4:]) == [24, 27, 30, 33]
    table = generate_cohort(100, seed=1, visits_per_patient=12).visits
    assert table.group_by("patient_id").len()["len"].max() == 12


def test_it_refuses_fewer_than_one_patient_or_visit() -> None:
    with pytest.raises(ValueError, match="patients"):
        generate_visits(0)
    with pytest.raises(ValueError, match="visits_per_patient"):
        generate_visits(5, visits_per_patient=0)


def test_facit_answers_are_0_to_4_or_8_9_for_not_answered(cohort: Cohort) -> None:
    answers = pl.concat([cohort.visits[f"facit_{code}"].drop_nulls() for code in FACIT_ITEMS])
    assert set(answers.unique().to_list()) == {0, 1, 2, 3, 4, 8, 9}


def test_some_labs_are_missing_but_most_are_recorded(cohort: Cohort) -> None:
    for name in ("platelets_10e9_l", "c3_g_l", "anti_dsdna_iu_ml", "urine_rbc_hpf", "pga"):
        share = cohort.visits[name].null_count() / cohort.visits.height
        assert 0.01 < share < 0.25, name


def test_reference_limits_come_with_their_results(cohort: Cohort) -> None:
    pairs = (
        ("c3_g_l", "c3_lln_g_l"),
        ("anti_dsdna_iu_ml", "anti_dsdna_uln_iu_ml"),
        ("hemoglobin_g_dl", "hemoglobin_lln_g_dl"),
        ("alt_u_l", "alt_uln_u_l"),
    )
    for value, limit in pairs:
        given = cohort.visits.filter(pl.col(value).is_not_null())
        assert given[limit].null_count() / given.height < 0.03, limit


def test_scores_are_never_in_the_table(cohort: Cohort) -> None:
    assert not [name for name in cohort.visits.columns if "total" in name or "." in name]


def test_blocks_drawn_in_worker_threads_give_the_same_table_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(synth_visits, "BLOCK_VISITS", 90)  # 10 patients per block
    first = generate_cohort(95, seed=4)
    again = generate_cohort(95, seed=4)
    monkeypatch.setattr(synth_visits, "WORKERS", 1)
    serial = generate_cohort(95, seed=4)
    assert first.visits.equals(again.visits)
    assert first.visits.equals(serial.visits)
    assert first.patients["patient_id"].is_unique().all()
    assert first.visits["patient_id"].unique().sort().equals(first.patients["patient_id"].sort())
    keys = first.visits.select("patient_id", "visit_date")
    assert keys.equals(keys.sort("patient_id", "visit_date"))


def test_no_visit_is_after_the_data_cut() -> None:
    for visits_per_patient in (None, 40):
        table = generate_visits(100, seed=2, visits_per_patient=visits_per_patient)
        last = table["visit_date"].max()
        assert isinstance(last, date)
        assert last <= date(2025, 6, 30)


def test_patients_for_gives_a_table_just_long_enough() -> None:
    for visits, per_patient in ((5000, 20), (4000, None)):
        patients = patients_for(visits, visits_per_patient=per_patient)
        height = generate_visits(patients, seed=1, visits_per_patient=per_patient).height
        assert visits <= height <= 1.1 * visits
