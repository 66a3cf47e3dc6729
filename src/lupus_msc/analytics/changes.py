"""Change from baseline by time point, immunosuppressants stopped, and marker trajectories.

Observed cases only: a patient counts at a time point when both the baseline (day-0) value and
the value at that time point are recorded. Works on the ``visits`` frame of issue 7 (slice it to
the cohort you want); never reads a database.

Quartiles use linear interpolation between order statistics: numpy's default
``method="linear"``, Hyndman and Fan's type 7 (R's default ``quantile(type = 7)``). The p-quantile
of the sorted values x[0..n-1] is x[h] + (h - floor h)(x[floor h + 1] - x[floor h]) with
h = (n - 1) p.

References
----------
Hyndman RJ, Fan Y. Sample quantiles in statistical packages. Am Stat 1996;50:361-5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl

from lupus_msc.analytics.proportions import TIMEPOINT_DAYS, TIMEPOINTS, require_columns

#: Variables of ``visits`` whose change from baseline is reported (§11, §10, §9, §13, §1).
CHANGE_VARIABLES: tuple[str, ...] = (
    "pred_mg_day",
    "upcr",
    "egfr",
    "lvef",
    "nt_probnp",
    "c3",
    "c4",
    "anti_dsdna",
    "facit",
    "sledai",
)
TRAJECTORY_MARKERS: tuple[str, ...] = ("c3", "c4", "anti_dsdna")
QUANTILE_METHOD: Final = "linear"  # numpy's default; Hyndman-Fan type 7
BASELINE = "baseline"


@dataclass(frozen=True)
class Quartiles:
    """First quartile, median and third quartile (type-7 quantiles)."""

    q1: float
    median: float
    q3: float


def quartiles(values: Sequence[float] | np.ndarray) -> Quartiles | None:
    """Type-7 quartiles of the values, or None when there are none."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return None
    q1, median, q3 = np.quantile(array, [0.25, 0.5, 0.75], method=QUANTILE_METHOD)
    return Quartiles(float(q1), float(median), float(q3))


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None


@dataclass(frozen=True)
class ChangeCell:
    """Change of one variable from baseline to one time point, among ``n`` patients with both."""

    variable: str
    timepoint: str
    n: int
    baseline_median: float | None
    timepoint_median: float | None
    change: Quartiles | None


def _baseline(visits: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    return (
        visits.filter(pl.col("baseline"))
        .unique("patient_id", keep="first", maintain_order=True)
        .select("patient_id", *columns)
    )


def _at(visits: pl.DataFrame, timepoint: str, columns: Sequence[str]) -> pl.DataFrame:
    """One row per patient at the time point; of a visit recorded twice, the later one.

    ``visits`` is sorted by patient and visit date (analytics contract).
    """
    return (
        visits.filter(pl.col("timepoint") == timepoint)
        .unique("patient_id", keep="last", maintain_order=True)
        .select("patient_id", *columns)
    )


def _paired(visits: pl.DataFrame, timepoint: str, columns: Sequence[str]) -> pl.DataFrame:
    """Baseline (columns suffixed ``_baseline``) and time-point values side by side."""
    return _at(visits, timepoint, columns).join(
        _baseline(visits, columns), on="patient_id", how="inner", suffix="_baseline"
    )


def change_from_baseline(
    visits: pl.DataFrame, *, variables: Sequence[str] = CHANGE_VARIABLES
) -> tuple[ChangeCell, ...]:
    """For each variable and time point: n, median baseline, median value, change quartiles."""
    require_columns(
        visits, ("patient_id", "timepoint", "baseline", *variables), frame_name="visits"
    )
    cells = []
    for timepoint in TIMEPOINTS:
        paired = _paired(visits, timepoint, variables)
        for variable in variables:
            both = paired.select(variable, f"{variable}_baseline").drop_nulls()
            before = both[f"{variable}_baseline"].cast(pl.Float64).to_numpy()
            after = both[variable].cast(pl.Float64).to_numpy()
            cells.append(
                ChangeCell(
                    variable=variable,
                    timepoint=timepoint,
                    n=both.height,
                    baseline_median=_median(before),
                    timepoint_median=_median(after),
                    change=quartiles(after - before),
                )
            )
    return tuple(cells)


@dataclass(frozen=True)
class StoppedCell:
    """Immunosuppressants stopped between baseline and one time point.

    Per patient, stopped = max(0, baseline count - count at the time point): a drug started
    does not cancel one stopped. ``n`` patients have both counts; ``stopped`` is the sum and
    ``patients_stopping`` the number of patients with at least one stopped.
    """

    timepoint: str
    n: int
    stopped: int
    patients_stopping: int


def immunosuppressants_stopped(visits: pl.DataFrame) -> tuple[StoppedCell, ...]:
    """Immunosuppressants (not glucocorticoids) stopped since baseline, per time point."""
    column = "immunosuppressants"
    require_columns(visits, ("patient_id", "timepoint", "baseline", column), frame_name="visits")
    cells = []
    for timepoint in TIMEPOINTS:
        stopped = (
            _paired(visits, timepoint, [column])
            .drop_nulls()
            .select((pl.col(f"{column}_baseline") - pl.col(column)).clip(lower_bound=0).alias("s"))
        )["s"]
        cells.append(
            StoppedCell(
                timepoint=timepoint,
                n=stopped.len(),
                stopped=int(stopped.sum()),
                patients_stopping=int((stopped >= 1).sum()),
            )
        )
    return tuple(cells)


@dataclass(frozen=True)
class TrajectoryPoint:
    """A marker's quartiles at baseline (day 0) or at one time point (its nominal day)."""

    marker: str
    timepoint: str
    day: int
    n: int
    summary: Quartiles | None


def marker_trajectories(
    visits: pl.DataFrame, *, markers: Sequence[str] = TRAJECTORY_MARKERS
) -> tuple[TrajectoryPoint, ...]:
    """Median and IQR of each marker at baseline and every time point, for trajectory plots.

    Every patient with a value at that visit counts (not only those with a baseline value).
    """
    require_columns(visits, ("patient_id", "timepoint", "baseline", *markers), frame_name="visits")
    frames = [(BASELINE, 0, _baseline(visits, markers))]
    frames += [(t, TIMEPOINT_DAYS[t], _at(visits, t, markers)) for t in TIMEPOINTS]
    points = []
    for marker in markers:
        for timepoint, day, frame in frames:
            values = frame[marker].drop_nulls().cast(pl.Float64).to_numpy()
            points.append(TrajectoryPoint(marker, timepoint, day, values.size, quartiles(values)))
    return tuple(points)
