"""Change from baseline, immunosuppressants stopped and trajectories on ``small_cohort``.

Quartiles are type 7 (numpy's default, R's ``quantile()`` default): for sorted x[0..n-1] the
p-quantile is x[h] + (h - floor h)(x[floor h + 1] - x[floor h]) with h = (n - 1)p. Reference
values from R: ``quantile(1:4)`` gives 1.75, 2.5, 3.25 and ``quantile(1:10)`` 3.25, 5.5, 7.75.
"""

from __future__ import annotations

import numpy as np
import pytest

from lupus_msc.analytics.changes import (
    ChangeCell,
    Quartiles,
    change_from_baseline,
    immunosuppressants_stopped,
    marker_trajectories,
    quartiles,
)
from tests.analytics import small_cohort


def change(variable: str, timepoint: str) -> ChangeCell:
    cells = change_from_baseline(small_cohort.visits())
    (cell,) = [c for c in cells if c.variable == variable and c.timepoint == timepoint]
    return cell


def approx(q1: float, median: float, q3: float) -> object:
    return pytest.approx((q1, median, q3), abs=1e-12)


def as_tuple(summary: Quartiles | None) -> tuple[float, float, float]:
    assert summary is not None
    return summary.q1, summary.median, summary.q3


# --- quartiles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4], (1.75, 2.5, 3.25)),  # R: quantile(1:4)
        (list(range(1, 11)), (3.25, 5.5, 7.75)),  # R: quantile(1:10)
        ([7.0], (7.0, 7.0, 7.0)),
        # unsorted input; h = 0.75, 1.5, 2.25 between -22.5, -15, -7.5, -5
        ([-5.0, -22.5, -7.5, -15.0], (-16.875, -11.25, -6.875)),
    ],
)
def test_quartiles_are_type_7(values: list[float], expected: tuple[float, float, float]) -> None:
    assert as_tuple(quartiles(values)) == approx(*expected)


def test_quartiles_agree_with_numpy_default_percentiles() -> None:
    values = np.random.default_rng(7).normal(size=37)
    expected = np.percentile(values, [25, 50, 75])  # numpy's default method
    assert as_tuple(quartiles(values)) == approx(*expected)


def test_quartiles_of_nothing_are_none() -> None:
    assert quartiles([]) is None


# --- change from baseline ---------------------------------------------------------------------


def test_prednisone_change_at_month_6() -> None:
    # Patients with both values: P1 10->5, P2 5->2.5, P3 20->10, P4 7.5->5, P6 12.5->7.5
    # (P5 has no month-6 dose, P7 no baseline dose). Baseline median of 5, 7.5, 10, 12.5, 20
    # is 10; month-6 median of 2.5, 5, 5, 7.5, 10 is 5; changes -10, -5, -5, -2.5, -2.5.
    cell = change("pred_mg_day", "month6")
    assert cell.n == 5
    assert cell.baseline_median == 10.0
    assert cell.timepoint_median == 5.0
    assert as_tuple(cell.change) == approx(-5.0, -5.0, -2.5)


def test_prednisone_change_at_month_24_interpolates() -> None:
    # P1 10->2.5, P2 5->0, P3 20->5, P5 30->7.5: baseline median (10+20)/2 = 15,
    # month-24 median (2.5+5)/2 = 3.75; changes -22.5, -15, -7.5, -5:
    # Q1 = -22.5 + 0.75 * 7.5 = -16.875; median -11.25; Q3 = -7.5 + 0.25 * 2.5 = -6.875
    # (type 6 would give -20.625 and -5.625).
    cell = change("pred_mg_day", "month24")
    assert cell.n == 4
    assert cell.baseline_median == 15.0
    assert cell.timepoint_median == 3.75
    assert as_tuple(cell.change) == approx(-16.875, -11.25, -6.875)


def test_c3_change_at_month_12() -> None:
    # P1 0.6->0.9, P2 0.9->1.0, P3 0.5->0.8, P5 0.4->0.6 (P6 not measured).
    # Baseline median (0.5+0.6)/2 = 0.55; month-12 median (0.8+0.9)/2 = 0.85;
    # changes 0.1, 0.2, 0.3, 0.3: Q1 0.1 + 0.75*0.1 = 0.175, median 0.25, Q3 0.3.
    cell = change("c3", "month12")
    assert cell.n == 4
    assert cell.baseline_median == pytest.approx(0.55)
    assert cell.timepoint_median == pytest.approx(0.85)
    assert as_tuple(cell.change) == pytest.approx((0.175, 0.25, 0.3))


def test_a_variable_never_measured_after_baseline_has_no_summary() -> None:
    cell = change("lvef", "month6")
    assert (cell.n, cell.baseline_median, cell.timepoint_median, cell.change) == (
        0,
        None,
        None,
        None,
    )


def test_every_variable_and_time_point_is_reported() -> None:
    cells = change_from_baseline(small_cohort.visits())
    assert len(cells) == 10 * 5
    assert {c.variable for c in cells} == {
        "pred_mg_day", "upcr", "egfr", "lvef", "nt_probnp", "c3", "c4", "anti_dsdna", "facit",
        "sledai",
    }  # fmt: skip


def test_a_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="nt_probnp"):
        change_from_baseline(small_cohort.visits().drop("nt_probnp"))


# --- immunosuppressants stopped ---------------------------------------------------------------


def stopped(timepoint: str) -> tuple[int, int, int]:
    (cell,) = [
        c for c in immunosuppressants_stopped(small_cohort.visits()) if c.timepoint == timepoint
    ]
    return cell.n, cell.stopped, cell.patients_stopping


def test_immunosuppressants_stopped_by_month_12_do_not_net_out_drugs_started() -> None:
    # P1 2->1 (1 stopped), P2 1->1 (0), P3 2->0 (2), P5 3->4 (started one: 0, not -1);
    # P6 has no month-12 count. Sum 3 (it would be 2 without clipping); 2 patients stopped one.
    assert stopped("month12") == (4, 3, 2)


def test_immunosuppressants_stopped_by_month_6() -> None:
    # P1 2->2, P2 1->1, P3 2->1, P4 0->0, P5 3->3, P6 1->1
    assert stopped("month6") == (6, 1, 1)


def test_no_counts_no_patients() -> None:
    assert stopped("month1") == (0, 0, 0)


# --- trajectories ------------------------------------------------------------------------------


def test_c3_trajectory_includes_baseline_and_each_time_point() -> None:
    points = [p for p in marker_trajectories(small_cohort.visits()) if p.marker == "c3"]
    assert [(p.timepoint, p.day) for p in points] == [
        ("baseline", 0),
        ("month1", 30),
        ("month3", 90),
        ("month6", 180),
        ("month12", 360),
        ("month24", 720),
    ]
    baseline, month1, _, _, month12, _ = points
    # baseline C3 of seven patients (P7 missing): 0.4 0.5 0.6 0.7 0.8 0.9 1.0
    # h = 1.5 -> 0.55, median 0.7, h = 4.5 -> 0.85
    assert baseline.n == 7
    assert as_tuple(baseline.summary) == pytest.approx((0.55, 0.7, 0.85))
    assert (month1.n, month1.summary) == (0, None)
    # month 12: 0.6 0.8 0.9 1.0 -> 0.75, 0.85, 0.925
    assert month12.n == 4
    assert as_tuple(month12.summary) == pytest.approx((0.75, 0.85, 0.925))


def test_trajectories_cover_c3_c4_and_anti_dsdna() -> None:
    points = marker_trajectories(small_cohort.visits())
    assert len(points) == 3 * 6
    assert [p.marker for p in points[::6]] == ["c3", "c4", "anti_dsdna"]
