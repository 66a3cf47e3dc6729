"""Figures over time since first infusion: Kaplan–Meier curves and marker trajectories.

Part of ``figures.py``. Both have a numbers table under the axis, one row per curve or series
(numbers at risk; patients with a value), aligned with the x ticks.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from lupus_msc.analytics.figures_style import (
    DAYS_PER_MONTH,
    LIGHT_GREY,
    MONTHS_LABEL,
    SERIES,
    SERIES_MARKERS,
    SMALL_SIZE,
    TITLE_SIZE,
    WIDTH_IN,
    Canvas,
    check_interval,
    check_proportion,
    compact_count,
    draw_title,
    figure_legend,
    format_number,
    legend_height_in,
    month_label,
    new_canvas,
    plain,
    render,
    require,
    require_finite,
    shorten,
    text_width_in,
    title_height_in,
    wrap,
)

AXES_H_IN, TABLE_ROW_IN, TICKS_IN, RIGHT_IN, EDGE_IN = 2.5, 0.17, 0.52, 0.3, 0.08
LABEL_MAX_IN = 1.6


@dataclass(frozen=True)
class KmCurve:
    """A Kaplan–Meier curve (e.g. cumulative proportion reaching LLDAS) with its 95% CI.

    ``timeline`` in days since first infusion, non-decreasing; ``values``, ``ci_low`` and
    ``ci_high`` proportions (0–1) of the same length; ``at_risk`` maps a day to the number at
    risk then; ``censored`` are the days on which a patient was censored (drawn as ticks).
    """

    label: str
    timeline: Sequence[float]
    values: Sequence[float]
    ci_low: Sequence[float]
    ci_high: Sequence[float]
    at_risk: Mapping[int, int]
    censored: Sequence[float] = ()

    def __post_init__(self) -> None:
        where = f"KmCurve {self.label!r}"
        require(len(self.timeline) > 0, f"{where}: empty", field="timeline")
        for name in ("values", "ci_low", "ci_high"):
            length = len(getattr(self, name))
            require(
                length == len(self.timeline),
                f"{where}: {length} values but {len(self.timeline)} timeline days",
                field=name,
            )
        _check_days(self.timeline, where=where, field="timeline", ordered=True)
        _check_days(self.censored, where=where, field="censored", ordered=False)
        points = zip(self.timeline, self.ci_low, self.values, self.ci_high, strict=True)
        for day, low, value, high in points:
            at = f"{where} at day {day:g}: "
            check_interval(low, value, high, where=at, names=("ci_low", "values", "ci_high"))
            check_proportion(low, field="ci_low", where=at)
            check_proportion(high, field="ci_high", where=at)
        for day, count in self.at_risk.items():
            require(day >= 0 and count >= 0, f"{where}: day {day}: {count}", field="at_risk")

    def value_at(self, day: float) -> float:
        """The step function's value on ``day`` (right-continuous, as the curve is drawn)."""
        index = bisect.bisect_right(list(self.timeline), day) - 1
        return float(self.values[max(index, 0)])


def _check_days(days: Sequence[float], *, where: str, field: str, ordered: bool) -> None:
    for i, day in enumerate(days):
        require_finite(day, field=field, where=f"{where}: ")
        require(day >= 0, f"{where}: day {day} is before the first infusion", field=field)
        if ordered and i:
            require(day >= days[i - 1], f"{where}: days must not decrease", field=field)


@dataclass(frozen=True)
class TrajectoryPoint:
    """Median and interquartile range of a marker at ``month`` (0 = baseline) over ``n``
    patients with a value."""

    month: float
    median: float
    q1: float
    q3: float
    n: int

    def __post_init__(self) -> None:
        where = f"TrajectoryPoint at month {self.month:g}: "
        require_finite(self.month, field="month", where=where)
        require(self.month >= 0, f"{where}before the first infusion", field="month")
        check_interval(self.q1, self.median, self.q3, where=where, names=("q1", "median", "q3"))
        require(self.n > 0, f"{where}n must be > 0, got {self.n}", field="n")


@dataclass(frozen=True)
class TrajectorySeries:
    """One group's trajectory (e.g. "All patients", "Renal"), points in increasing month."""

    label: str
    points: Sequence[TrajectoryPoint]

    def __post_init__(self) -> None:
        require(len(self.points) > 0, f"series {self.label!r} is empty", field="points")
        months = [point.month for point in self.points]
        require(
            all(a < b for a, b in pairwise(months)),
            f"series {self.label!r}: months must increase, got {months}",
            field="points",
        )


Row = tuple[str, str, list[tuple[float, int, str]]]
"""A numbers-table row: label, colour, and (x in months, count, gid) cells."""
#: Row labels stand this far left of the axis, clear of a centred count at month 0.
CELL_PAD_IN = 0.24


def _fit_counts(table: Axes, cells: Sequence[tuple[float, int, str]]) -> list[str]:
    """The counts as digits, or all in thousands ("12.3k") when neighbours would touch."""
    low, high = table.get_xlim()
    per_month = table.get_position().width * WIDTH_IN / (high - low)
    texts = [str(count) for _, count, _ in cells]
    widths = [text_width_in(text, size=SMALL_SIZE) for text in texts]
    for (a, _, _), (b, _, _), wa, wb in zip(cells, cells[1:], widths, widths[1:], strict=False):
        if (b - a) * per_month < (wa + wb) / 2 + 0.05:
            return [compact_count(count) for _, count, _ in cells]
    return texts


@dataclass(frozen=True)
class _Frame:
    canvas: Canvas
    ax: Axes
    table: Axes | None
    label_w: float
    legend_bottom: float


def _frame(title: str, row_labels: Sequence[str], legend: Sequence[str], rows: int) -> _Frame:
    """Title, legend, the main axes and (if ``rows``) a table axes below sharing its x axis."""
    title_lines = wrap(title, WIDTH_IN - 0.16, size=TITLE_SIZE, bold=True)
    widths = [text_width_in(label, size=SMALL_SIZE) for label in row_labels]
    label_w = min(LABEL_MAX_IN, max([0.45, *widths]))
    left = max(0.75, EDGE_IN + label_w + CELL_PAD_IN + 0.05)
    table_h = (0.22 + rows * TABLE_ROW_IN) if rows else 0.0
    bottom = EDGE_IN + table_h + TICKS_IN
    legend_h = legend_height_in(legend)
    canvas = new_canvas(title_height_in(title_lines) + legend_h + AXES_H_IN + bottom)
    width = WIDTH_IN - left - RIGHT_IN
    ax = canvas.add_axes(left, bottom, width, AXES_H_IN)
    table = None
    if rows:
        table = canvas.figure.add_axes(
            canvas.rect(left, EDGE_IN, width, rows * TABLE_ROW_IN), sharex=ax
        )
        table.set_axis_off()
        table.set_ylim(rows - 0.5, -0.5)
    draw_title(canvas, title_lines)
    return _Frame(canvas, ax, table, label_w, bottom + AXES_H_IN + 0.06)


def _numbers_table(frame: _Frame, heading: str, rows: Sequence[Row]) -> None:
    table = frame.table
    if table is None:
        return
    top = table.get_position().y1 + 0.06 / frame.canvas.height_in
    frame.canvas.figure.text(EDGE_IN / WIDTH_IN, top, heading, fontsize=SMALL_SIZE, weight="bold")
    for y, (label, colour, cells) in enumerate(rows):
        name = table.annotate(
            shorten(label, frame.label_w, size=SMALL_SIZE),
            xy=(0, y),
            xycoords=table.get_yaxis_transform(),
            xytext=(-CELL_PAD_IN * 72, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            color=colour,
            fontsize=SMALL_SIZE,
            annotation_clip=False,
        )
        plain([name])
        for (x, _, gid), text in zip(cells, _fit_counts(table, cells), strict=True):
            cell = table.text(x, y, text, ha="center", va="center", fontsize=SMALL_SIZE, gid=gid)
            cell.set_clip_on(False)


def _month_axis(ax: Axes, days: Sequence[float], *, last_day: float) -> None:
    ax.set_xlim(0.0, max([last_day, *days]) / DAYS_PER_MONTH * 1.02 or 1.0)
    if days:
        ax.set_xticks([day / DAYS_PER_MONTH for day in days], [month_label(d) for d in days])
    ax.set_xlabel(MONTHS_LABEL)
    ax.grid(axis="y", color=LIGHT_GREY, lw=0.6)
    ax.set_axisbelow(True)


def _draw_curve(ax: Axes, curve: KmCurve, colour: str, gid: str) -> None:
    months = [day / DAYS_PER_MONTH for day in curve.timeline]
    ax.fill_between(
        months,
        curve.ci_low,
        curve.ci_high,
        step="post",
        color=colour,
        alpha=0.18,
        lw=0,
        gid=f"{gid}-ci",
    )
    ax.step(months, curve.values, where="post", color=colour, gid=gid)
    if curve.censored:
        ticks = [day / DAYS_PER_MONTH for day in curve.censored]
        values = [curve.value_at(day) for day in curve.censored]
        ax.plot(
            ticks, values, ls="", marker="|", ms=6, mew=1.0, color=colour, gid=f"{gid}-censored"
        )


def _build_km(
    curves: Sequence[KmCurve], title: str, y_label: str, days: Sequence[int], fig_id: str
) -> Figure:
    labels = [curve.label for curve in curves]
    frame = _frame(title, labels, labels, len(curves) if days else 0)
    rows: list[Row] = []
    for i, curve in enumerate(curves):
        colour = SERIES[i % len(SERIES)]
        _draw_curve(frame.ax, curve, colour, f"{fig_id}-curve-{i}")
        cells = [(d / DAYS_PER_MONTH, curve.at_risk[d], f"{fig_id}-at-risk-{i}-{d}") for d in days]
        rows.append((curve.label, colour, cells))
    last = max(max(curve.timeline) for curve in curves)
    _month_axis(frame.ax, days, last_day=last)
    frame.ax.set_ylim(0.0, 1.0)
    frame.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    plain([frame.ax.set_ylabel(y_label)])
    _numbers_table(frame, "Number at risk", rows)
    handles = [Line2D([], [], color=SERIES[i % len(SERIES)]) for i in range(len(curves))]
    figure_legend(frame.canvas, handles, labels, bottom_in=frame.legend_bottom)
    return frame.canvas.figure


def km_plot(
    curves: Sequence[KmCurve],
    *,
    title: str,
    y_label: str,
    at_risk_days: Sequence[int],
    fig_id: str = "km",
) -> str:
    """Kaplan–Meier step curves with shaded 95% CI bands and a numbers-at-risk table.

    The x axis is in months (days / 30.4375) with a tick on each of ``at_risk_days``, under
    which each curve's number at risk is printed (``<fig_id>-at-risk-<curve>-<day>``); the y
    axis shows the proportions as percentages. Every curve's ``at_risk`` must give each day.
    """
    require(len(curves) > 0, "no curve to draw", field="curves")
    for curve in curves:
        missing = [day for day in at_risk_days if day not in curve.at_risk]
        require(
            not missing, f"KmCurve {curve.label!r} has no count for days {missing}", field="at_risk"
        )
    description = " ".join(
        f"{curve.label}: "
        + ", ".join(
            f"month {month_label(day)} {curve.value_at(day):.0%} ({curve.at_risk[day]} at risk)"
            for day in at_risk_days
        )
        + "."
        for curve in curves
    )
    return render(
        lambda: _build_km(curves, title, y_label, at_risk_days, fig_id),
        title=title,
        description=description,
        fig_id=fig_id,
    )


def _build_trajectory(
    series: Sequence[TrajectorySeries], title: str, y_label: str, fig_id: str
) -> Figure:
    labels = [line.label for line in series]
    frame = _frame(title, labels, labels if len(series) > 1 else [], len(series))
    rows: list[Row] = []
    for i, line in enumerate(series):
        colour, marker = SERIES[i % len(SERIES)], SERIES_MARKERS[i % len(SERIES_MARKERS)]
        months = [point.month for point in line.points]
        band = frame.ax.fill_between(
            months,
            [p.q1 for p in line.points],
            [p.q3 for p in line.points],
            color=colour,
            alpha=0.15,
            lw=0,
        )
        band.set_gid(f"{fig_id}-iqr-{i}")
        frame.ax.plot(
            months,
            [p.median for p in line.points],
            color=colour,
            marker=marker,
            ms=4.5,
            clip_on=False,
            gid=f"{fig_id}-median-{i}",
        )
        cells = [(p.month, p.n, f"{fig_id}-n-{i}-{p.month:g}") for p in line.points]
        rows.append((line.label, colour, cells))
    months = sorted({point.month for line in series for point in line.points})
    frame.ax.set_xlim(0.0, max(months) * 1.03 or 1.0)
    frame.ax.set_xticks(months, [f"{month:g}" for month in months])
    frame.ax.set_xlabel(MONTHS_LABEL)
    frame.ax.grid(axis="y", color=LIGHT_GREY, lw=0.6)
    frame.ax.set_axisbelow(True)
    plain([frame.ax.set_ylabel(y_label)])
    _numbers_table(frame, "Patients with a value", rows)
    if len(series) > 1:
        handles = [
            Line2D(
                [],
                [],
                color=SERIES[i % len(SERIES)],
                marker=SERIES_MARKERS[i % len(SERIES_MARKERS)],
            )
            for i in range(len(series))
        ]
        figure_legend(frame.canvas, handles, labels, bottom_in=frame.legend_bottom)
    return frame.canvas.figure


def trajectory_plot(
    series: Sequence[TrajectorySeries],
    *,
    title: str,
    marker: str,
    unit: str,
    fig_id: str = "trajectory",
) -> str:
    """Median (line and markers) and interquartile range (band) of a marker over months since
    first infusion, one series per group, y axis labelled "<marker> (<unit>)", with the number
    of patients with a value under each time point (``<fig_id>-n-<series>-<month>``)."""
    require(len(series) > 0, "no series to draw", field="series")
    require(bool(marker.strip()), "name the marker (e.g. 'C3')", field="marker")
    require(bool(unit.strip()), f"give the unit of {marker}", field="unit")
    description = " ".join(
        f"{line.label}: "
        + ", ".join(
            f"month {p.month:g} median {format_number(p.median)} {unit} "
            f"(IQR {format_number(p.q1)}–{format_number(p.q3)}, n = {p.n})"
            for p in line.points
        )
        + "."
        for line in series
    )
    return render(
        lambda: _build_trajectory(series, title, f"{marker} ({unit})", fig_id),
        title=title,
        description=description,
        fig_id=fig_id,
    )
