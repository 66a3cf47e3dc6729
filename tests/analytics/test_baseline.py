"""Table 1 of ``small_cohort`` against hand-computed values (type-7 quartiles, see test_changes).

Baseline values of the eight patients (P7 has only eGFR at baseline):

====  ===  ===  ====  ====  =====  ===  ===  =====  ====
id    age  dur  PGA   pred  UPCR   eGFR C3   FACIT  IS
====  ===  ===  ====  ====  =====  ===  ===  =====  ====
P1    30   5    1.5   10    2.0 r  80   0.6  30     2
P2    40   10   1.0   5     –      100  0.9  40     1
P3    25   2    2.0   20    3.0 r  60   0.5  20     2
P4    52   –    0.8   7.5   0.1    110  1.0  44     0
P5    35   7.5  2.5   30    5.0 r  45   0.4  15     3
P6    48   12   1.2   12.5  –      90   0.7  35     1
P7    29   1    –     –     –      95   –    –      –
P8    60   20   1.0   5     0.2    105  0.8  38     0
====  ===  ===  ====  ====  =====  ===  ===  =====  ====

(r = renal involvement)
"""

from __future__ import annotations

import polars as pl
import pytest

from lupus_msc.analytics.baseline import (
    BaselineTable,
    CategoryRow,
    NumericRow,
    baseline_table,
)
from tests.analytics import small_cohort


@pytest.fixture(scope="module")
def table() -> BaselineTable:
    return baseline_table(small_cohort.patients(), small_cohort.visits())


def numeric(table: BaselineTable, key: str) -> tuple[int, int, tuple[float, float, float]]:
    row = table.row(key)
    assert isinstance(row, NumericRow)
    assert row.summary is not None
    return row.n, row.missing, (row.summary.q1, row.summary.median, row.summary.q3)


def category(table: BaselineTable, key: str) -> tuple[int, int, list[tuple[str, int]]]:
    row = table.row(key)
    assert isinstance(row, CategoryRow)
    return row.n, row.missing, [(level.label, level.count) for level in row.levels]


def percents(table: BaselineTable, key: str) -> list[float | None]:
    row = table.row(key)
    assert isinstance(row, CategoryRow)
    return [level.percent for level in row.levels]


def test_rows_come_in_the_order_of_table_1(table: BaselineTable) -> None:
    assert table.patients == 8
    assert [row.key for row in table.rows] == [
        "sex", "age_years", "disease_years", "renal", "baseline_sledai", "sledai_band", "pga",
        "pred_mg_day", "pred_high", "immunosuppressants", "upcr", "egfr", "c3", "c4",
        "anti_dsdna", "facit", "tissue_source", "dose_band", "infusions",
    ]  # fmt: skip


def test_sex(table: BaselineTable) -> None:
    assert category(table, "sex") == (8, 0, [("female", 6), ("male", 2)])
    assert percents(table, "sex") == [75.0, 25.0]


def test_age_quartiles(table: BaselineTable) -> None:
    # 25 29 30 35 40 48 52 60: h = 1.75 -> 29 + 0.75 = 29.75; median (35+40)/2 = 37.5;
    # h = 5.25 -> 48 + 0.25 * 4 = 49
    assert numeric(table, "age_years") == (8, 0, pytest.approx((29.75, 37.5, 49.0)))


def test_disease_duration_reports_the_missing_patient(table: BaselineTable) -> None:
    # 1 2 5 7.5 10 12 20 (P4 unknown): h = 1.5 -> 3.5; median 7.5; h = 4.5 -> 11
    assert numeric(table, "disease_years") == (7, 1, pytest.approx((3.5, 7.5, 11.0)))


def test_renal_involvement(table: BaselineTable) -> None:
    assert category(table, "renal") == (8, 0, [("yes", 3), ("no", 5)])
    assert percents(table, "renal") == [37.5, 62.5]


def test_sledai_and_its_bands(table: BaselineTable) -> None:
    # 4 6 8 10 12 16 20 (P7 incomplete): h = 1.5 -> 7; median 10; h = 4.5 -> 14
    assert numeric(table, "baseline_sledai") == (7, 1, pytest.approx((7.0, 10.0, 14.0)))
    assert category(table, "sledai_band") == (
        7,
        1,
        [("0–5", 1), ("6–9", 2), ("10–14", 2), ("≥ 15", 2)],
    )
    assert percents(table, "sledai_band") == pytest.approx([100 / 7, 200 / 7, 200 / 7, 200 / 7])


def test_pga(table: BaselineTable) -> None:
    # 0.8 1.0 1.0 1.2 1.5 2.0 2.5: h = 1.5 -> 1.0; median 1.2; h = 4.5 -> 1.75
    assert numeric(table, "pga") == (7, 1, pytest.approx((1.0, 1.2, 1.75)))


def test_prednisone_and_the_7_5_mg_threshold(table: BaselineTable) -> None:
    # 5 5 7.5 10 12.5 20 30: h = 1.5 -> 6.25; median 10; h = 4.5 -> 16.25
    assert numeric(table, "pred_mg_day") == (7, 1, pytest.approx((6.25, 10.0, 16.25)))
    # above 7.5: 10, 20, 30, 12.5; 7.5 itself is not above
    assert category(table, "pred_high") == (7, 1, [("> 7.5 mg/day", 4), ("≤ 7.5 mg/day", 3)])


def test_immunosuppressants(table: BaselineTable) -> None:
    assert category(table, "immunosuppressants") == (
        7,
        1,
        [("0", 2), ("1", 2), ("2", 2), ("≥ 3", 1)],
    )


def test_upcr_is_summarised_over_renal_patients_only(table: BaselineTable) -> None:
    # renal P1 2.0, P3 3.0, P5 5.0 (P4's 0.1 and P8's 0.2 are not counted):
    # h = 0.5 -> 2.5; median 3.0; h = 1.5 -> 4.0
    assert numeric(table, "upcr") == (3, 0, pytest.approx((2.5, 3.0, 4.0)))


def test_laboratory_rows(table: BaselineTable) -> None:
    # eGFR 45 60 80 90 95 100 105 110: h = 1.75 -> 75; median 92.5; h = 5.25 -> 101.25
    assert numeric(table, "egfr") == (8, 0, pytest.approx((75.0, 92.5, 101.25)))
    # C3 0.4 0.5 0.6 0.7 0.8 0.9 1.0: 0.55, 0.7, 0.85
    assert numeric(table, "c3") == (7, 1, pytest.approx((0.55, 0.7, 0.85)))
    # FACIT-F 15 20 30 35 38 40 44: h = 1.5 -> 25; median 35; h = 4.5 -> 39
    assert numeric(table, "facit") == (7, 1, pytest.approx((25.0, 35.0, 39.0)))


def test_product_rows(table: BaselineTable) -> None:
    assert category(table, "tissue_source") == (
        7,
        1,
        [("umbilical-cord", 3), ("bone-marrow", 2), ("adipose", 2)],
    )
    assert category(table, "dose_band") == (7, 1, [("< 1", 2), ("1 to < 2", 3), ("≥ 2", 2)])
    assert category(table, "infusions") == (8, 0, [("1", 4), ("2", 2), ("≥ 3", 2)])
    assert percents(table, "infusions") == [50.0, 25.0, 25.0]


def test_rows_cite_instruments_md(table: BaselineTable) -> None:
    sections = {row.key: row.section for row in table.rows if row.section}
    assert sections == {
        "baseline_sledai": "§1",
        "pga": "§3",
        "pred_mg_day": "§11",
        "pred_high": "§11",
        "upcr": "§10",
        "egfr": "§9",
        "facit": "§13",
    }


def test_a_patient_without_a_baseline_visit_is_missing_from_visit_rows() -> None:
    visits = small_cohort.visits().filter(~(pl.col("baseline") & (pl.col("patient_id") == "P8")))
    table = baseline_table(small_cohort.patients(), visits)
    # eGFR without P8's 105: 45 60 80 90 95 100 110 -> 70, 90, 97.5
    assert numeric(table, "egfr") == (7, 1, pytest.approx((70.0, 90.0, 97.5)))
    assert numeric(table, "age_years")[:2] == (8, 0)


def test_a_level_outside_the_usual_ones_is_listed_after_them() -> None:
    patients = small_cohort.patients().with_columns(
        pl.when(pl.col("patient_id") == "P6")
        .then(pl.lit("mixed"))
        .otherwise(pl.col("tissue_source"))
        .alias("tissue_source")
    )
    table = baseline_table(patients, small_cohort.visits())
    assert category(table, "tissue_source") == (
        8,
        0,
        [("umbilical-cord", 3), ("bone-marrow", 2), ("adipose", 2), ("mixed", 1)],
    )
