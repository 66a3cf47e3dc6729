"""Categorical figures: outcome proportions by time point, and grouped bars (adverse events).

Part of ``figures.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from lupus_msc.analytics.figures_style import (
    BLUE,
    FONT_SIZE,
    LIGHT_GREY,
    ORANGE,
    SERIES,
    TITLE_SIZE,
    WIDTH_IN,
    Canvas,
    check_interval,
    check_proportion,
    draw_title,
    figure_legend,
    format_number,
    legend_height_in,
    new_canvas,
    plain,
    render,
    require,
    require_finite,
    text_width_in,
    title_height_in,
    wrap,
)

Analysis = Literal["NRI", "observed"]
#: label, colour, marker, filled, offset from the time point's tick.
ANALYSES: dict[Analysis, tuple[str, str, str, bool, float]] = {
    "NRI": ("Non-responder imputation (primary)", BLUE, "o", True, -0.12),
    "observed": ("Observed cases (sensitivity)", ORANGE, "s", False, 0.12),
}
LEFT_IN, RIGHT_IN, GAP_IN, PANEL_H_IN, PANEL_TOP_IN, TICKS_IN = 0.62, 0.15, 0.5, 1.55, 0.3, 0.4


@dataclass(frozen=True)
class ProportionPoint:
    """``events`` of ``total`` patients met ``outcome`` at ``timepoint`` under ``analysis``
    ("NRI": missing counted as non-response; "observed": assessed patients only), with the
    caller's 95% CI (e.g. Wilson) as proportions."""

    outcome: str
    timepoint: str
    analysis: Analysis
    events: int
    total: int
    ci_low: float
    ci_high: float

    def __post_init__(self) -> None:
        where = f"{self.outcome} at {self.timepoint} ({self.analysis}): "
        require(self.analysis in ANALYSES, f"{where}not one of {tuple(ANALYSES)}", field="analysis")
        require(self.total > 0, f"{where}total must be > 0, got {self.total}", field="total")
        require(
            0 <= self.events <= self.total,
            f"{where}{self.events} not in 0–{self.total}",
            field="events",
        )
        names = ("ci_low", "estimate", "ci_high")
        check_interval(self.ci_low, self.estimate, self.ci_high, where=where, names=names)
        check_proportion(self.ci_low, field="ci_low", where=where)
        check_proportion(self.ci_high, field="ci_high", where=where)

    @property
    def estimate(self) -> float:
        return self.events / self.total


T = TypeVar("T")


def _ordered(values: Sequence[T]) -> list[T]:
    return list(dict.fromkeys(values))


def _grid(canvas: Canvas, panels: int, top_in: float) -> list[Axes]:
    columns = 1 if panels == 1 else 2
    width = (WIDTH_IN - LEFT_IN - RIGHT_IN - GAP_IN * (columns - 1)) / columns
    axes = []
    for i in range(panels):
        row, column = divmod(i, columns)
        bottom = top_in - (row + 1) * (PANEL_TOP_IN + PANEL_H_IN + TICKS_IN) + TICKS_IN
        axes.append(canvas.add_axes(LEFT_IN + column * (width + GAP_IN), bottom, width, PANEL_H_IN))
    return axes


def _tick_labels(ax: Axes, labels: Sequence[str]) -> list[str]:
    """The labels, broken at spaces onto two lines when one would not fit its slot."""
    slot = ax.get_position().width * WIDTH_IN / len(labels)
    if max(text_width_in(label, size=FONT_SIZE - 0.5) for label in labels) < slot - 0.06:
        return list(labels)
    return [label.replace(" ", "\n", 1) for label in labels]


def _draw_point(ax: Axes, x: float, point: ProportionPoint, gid: str) -> None:
    _, colour, marker, filled, offset = ANALYSES[point.analysis]
    p = point.estimate
    bars = ax.errorbar(
        [x + offset],
        [p],
        yerr=[[p - point.ci_low], [point.ci_high - p]],
        fmt=marker,
        color=colour,
        mfc=colour if filled else "white",
        ms=5,
        clip_on=False,
        capsize=2.5,
        elinewidth=1.1,
    )
    bars.lines[0].set_gid(gid)
    bars.lines[2][0].set_gid(f"{gid}-ci")


def _build_proportions(
    points: Sequence[ProportionPoint], timepoints: list[str], title: str, y_label: str, fig_id: str
) -> Figure:
    outcomes = _ordered([point.outcome for point in points])
    analyses = _ordered([point.analysis for point in points])
    labels = [ANALYSES[analysis][0] for analysis in analyses]
    title_lines = wrap(title, WIDTH_IN - 0.16, size=TITLE_SIZE, bold=True)
    head = title_height_in(title_lines) + legend_height_in(labels)
    rows = math.ceil(len(outcomes) / (1 if len(outcomes) == 1 else 2))
    canvas = new_canvas(head + rows * (PANEL_TOP_IN + PANEL_H_IN + TICKS_IN) + 0.05)
    for o, (ax, outcome) in enumerate(
        zip(_grid(canvas, len(outcomes), canvas.height_in - head), outcomes, strict=True)
    ):
        for point in points:
            if point.outcome == outcome:
                t = timepoints.index(point.timepoint)
                _draw_point(ax, float(t), point, f"{fig_id}-{o}-{point.analysis}-{t}")
        ax.set_xlim(-0.5, len(timepoints) - 0.5)
        ax.set_xticks(range(len(timepoints)), _tick_labels(ax, timepoints), parse_math=False)
        ax.set_ylim(0.0, 1.0)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.grid(axis="y", color=LIGHT_GREY, lw=0.6)
        ax.set_axisbelow(True)
        plain([ax.set_title(outcome, loc="left")])
        if o % 2 == 0:
            plain([ax.set_ylabel(y_label)])
    handles = [
        Line2D(
            [],
            [],
            color=ANALYSES[a][1],
            marker=ANALYSES[a][2],
            mfc=ANALYSES[a][1] if ANALYSES[a][3] else "white",
        )
        for a in analyses
    ]
    figure_legend(canvas, handles, labels, bottom_in=canvas.height_in - head + 0.04)
    draw_title(canvas, title_lines)
    return canvas.figure


def proportion_plot(
    points: Sequence[ProportionPoint],
    *,
    title: str,
    timepoints: Sequence[str] | None = None,
    y_label: str = "Patients (%)",
    fig_id: str = "proportions",
) -> str:
    """Outcome proportions with 95% CI error bars by time point, one panel per outcome (two
    columns), non-responder imputation (filled circles) and observed cases (open squares) side
    by side. ``timepoints`` orders the x axis (default: order of first appearance); each point's
    gid is ``<fig_id>-<panel>-<analysis>-<timepoint index>``."""
    require(len(points) > 0, "no point to draw", field="points")
    order = list(timepoints) if timepoints is not None else _ordered([p.timepoint for p in points])
    seen: set[tuple[str, str, str]] = set()
    for point in points:
        require(point.timepoint in order, f"{point.timepoint!r} not in {order}", field="timepoint")
        key = (point.outcome, point.timepoint, point.analysis)
        require(key not in seen, f"{key} given twice", field="points")
        seen.add(key)
    description = " ".join(
        f"{p.outcome}, {p.timepoint}, {p.analysis}: {p.events}/{p.total} = {p.estimate:.0%} "
        f"(95% CI {p.ci_low:.0%}–{p.ci_high:.0%})."
        for p in points
    )
    return render(
        lambda: _build_proportions(points, order, title, y_label, fig_id),
        title=title,
        description=description,
        fig_id=fig_id,
    )


@dataclass(frozen=True)
class BarSeries:
    """One group of bars: a value (count, rate, …, ≥ 0) per category, in the categories' order."""

    label: str
    values: Sequence[float]

    def __post_init__(self) -> None:
        for value in self.values:
            require_finite(value, field="values", where=f"series {self.label!r}: ")
            require(value >= 0, f"series {self.label!r}: {value} is negative", field="values")


def _build_bars(
    categories: Sequence[str],
    series: Sequence[BarSeries],
    labels: tuple[str, str, str],
    fig_id: str,
) -> Figure:
    title, y_label, x_label = labels
    names = [bars.label for bars in series] if len(series) > 1 else []
    title_lines = wrap(title, WIDTH_IN - 0.16, size=TITLE_SIZE, bold=True)
    head = title_height_in(title_lines) + legend_height_in(names)
    canvas = new_canvas(head + 2.4 + 0.55)
    ax = canvas.add_axes(LEFT_IN, 0.55, WIDTH_IN - LEFT_IN - RIGHT_IN, 2.4)
    width = 0.8 / len(series)
    for s, bars in enumerate(series):
        xs = [c - 0.4 + width * (s + 0.5) for c in range(len(categories))]
        drawn = ax.bar(
            xs, bars.values, width=width * 0.92, color=SERIES[s % len(SERIES)], label=bars.label
        )
        for c, rectangle in enumerate(drawn.patches):
            rectangle.set_gid(f"{fig_id}-bar-{s}-{c}")
        ax.bar_label(drawn, labels=[format_number(v) for v in bars.values], padding=2, fontsize=7.5)
    ax.set_xticks(range(len(categories)), categories, parse_math=False)
    top = max((max(bars.values, default=0.0) for bars in series), default=0.0)
    ax.set_ylim(0.0, top * 1.15 or 1.0)
    ax.grid(axis="y", color=LIGHT_GREY, lw=0.6)
    ax.set_axisbelow(True)
    plain([ax.set_ylabel(y_label), ax.set_xlabel(x_label)])
    handles = [ax.patches[s * len(categories)] for s in range(len(series))] if names else []
    figure_legend(canvas, handles, names, bottom_in=canvas.height_in - head + 0.04)
    draw_title(canvas, title_lines)
    return canvas.figure


def bar_chart(
    categories: Sequence[str],
    series: Sequence[BarSeries],
    *,
    title: str,
    y_label: str,
    x_label: str = "",
    fig_id: str = "bars",
) -> str:
    """Grouped bars, one group per category (e.g. CTCAE grade 1–5), one bar per series (e.g.
    "All events", "Related"), each labelled with its value; gid ``<fig_id>-bar-<series>-<cat>``."""
    require(len(categories) > 0, "no category to draw", field="categories")
    require(len(set(categories)) == len(categories), "categories repeat", field="categories")
    require(len(series) > 0, "no series to draw", field="series")
    for bars in series:
        require(
            len(bars.values) == len(categories),
            f"series {bars.label!r} has {len(bars.values)} values for {len(categories)} categories",
            field="values",
        )
    description = " ".join(
        f"{bars.label}: "
        + ", ".join(f"{c} {format_number(v)}" for c, v in zip(categories, bars.values, strict=True))
        + "."
        for bars in series
    )
    return render(
        lambda: _build_bars(categories, series, (title, y_label, x_label), fig_id),
        title=title,
        description=description,
        fig_id=fig_id,
    )
