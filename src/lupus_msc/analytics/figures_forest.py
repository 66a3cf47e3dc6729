"""Forest plot of published study proportions, their pooled estimate and this program's cohort.

Part of ``figures.py``. What may be pooled and shown together is decided by the caller
(``shared/evidence/README.md``, "What must not be done"); this module only draws it, and marks
rows whose number was not verified in the paper itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from lupus_msc.analytics.figures_style import (
    BLACK,
    BLUE,
    FONT_SIZE,
    GREY,
    LIGHT_GREY,
    SMALL_SIZE,
    TITLE_SIZE,
    VERMILLION,
    WIDTH_IN,
    check_interval,
    check_proportion,
    draw_title,
    figure_legend,
    legend_height_in,
    new_canvas,
    plain,
    render,
    require,
    shorten,
    text_width_in,
    title_height_in,
    wrap,
)

Kind = Literal["study", "pooled", "cohort"]
KINDS: tuple[Kind, ...] = ("study", "pooled", "cohort")
ROW_IN = 0.22
AXES_MIN_IN, NOTE_MIN_IN, NOTE_MAX_IN, GAP_IN, EDGE_IN = 1.6, 0.8, 1.0, 0.11, 0.08
#: Row text is a half point smaller than the axis text: the rows are the dense part.
ROW_SIZE = FONT_SIZE - 0.5
HEADERS = ("Proportion [95% CI]", "n/N", "Note")
PI_LABEL = "95% prediction interval"
COHORT_HEADING = "This program"


@dataclass(frozen=True)
class ForestRow:
    """One row of a forest plot; proportions 0–1, ``ci_low ≤ estimate ≤ ci_high``.

    ``weight`` (study rows, any positive scale) sets the square's area; ``events``/``total`` are
    printed as "12/23"; ``pi_low``/``pi_high`` (pooled row only) is the prediction interval drawn
    as a thin bar under the diamond; ``verified=False`` draws the row grey and open and prints
    ``note`` (or "unverified") so that an unverified number is never shown as fact.
    """

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    kind: Kind = "study"
    weight: float | None = None
    events: int | None = None
    total: int | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    verified: bool = True
    note: str = ""

    def __post_init__(self) -> None:
        where = f"ForestRow {self.label!r}: "
        require(self.kind in KINDS, f"{where}{self.kind!r} is not one of {KINDS}", field="kind")
        check_interval(self.ci_low, self.estimate, self.ci_high, where=where, names=_CI_NAMES)
        for name in _CI_NAMES:
            check_proportion(getattr(self, name), field=name, where=where)
        if self.weight is not None:
            require(self.weight > 0, f"{where}must be > 0, got {self.weight}", field="weight")
        self._check_counts(where)
        self._check_prediction(where)

    def _check_counts(self, where: str) -> None:
        if self.total is not None:
            require(self.total > 0, f"{where}must be > 0, got {self.total}", field="total")
        if self.events is not None:
            require(self.total is not None, f"{where}given without total", field="events")
            top = self.total if self.total is not None else 0
            require(0 <= self.events <= top, f"{where}{self.events} not in 0–{top}", field="events")

    def _check_prediction(self, where: str) -> None:
        if self.pi_low is None and self.pi_high is None:
            return
        for name in ("pi_low", "pi_high"):
            require(getattr(self, name) is not None, f"{where}give both bounds", field=name)
        require(self.kind == "pooled", f"{where}only a pooled row has one", field="pi_low")
        low, high = float(self.pi_low or 0.0), float(self.pi_high or 0.0)
        check_interval(
            low, self.estimate, high, where=where, names=("pi_low", "estimate", "pi_high")
        )
        check_proportion(low, field="pi_low", where=where)
        check_proportion(high, field="pi_high", where=where)


_CI_NAMES = ("ci_low", "estimate", "ci_high")


def _interval(low: float, high: float) -> str:
    return f"[{low:.2f}, {high:.2f}]"


def _numbers(row: ForestRow) -> tuple[str, str, str]:
    counts = ""
    if row.total is not None:
        counts = f"{row.events}/{row.total}" if row.events is not None else f"N = {row.total}"
    note = row.note or ("" if row.verified else "unverified")
    return f"{row.estimate:.2f} {_interval(row.ci_low, row.ci_high)}", counts, note


@dataclass(frozen=True)
class _Columns:
    """Horizontal layout in inches: label column, plot, then the number columns."""

    label_w: float
    numbers_x: tuple[float, float, float]
    axes_left: float
    axes_w: float
    note_w: float

    @classmethod
    def fit(cls, rows: Sequence[ForestRow]) -> _Columns:
        """Numbers get what they need, then labels (cut only below ``AXES_MIN_IN`` of plot),
        then notes (cut to fit, at least ``NOTE_MIN_IN``); the plot takes the rest."""
        cells = [_numbers(row) for row in rows]
        fixed = [
            max([_width(header, bold=True), *(_width(cell[c]) for cell in cells)])
            for c, header in enumerate(HEADERS[:2])
        ]
        notes = [_width(cell[2], size=SMALL_SIZE) for cell in cells if cell[2]]
        note_need = max([_width(HEADERS[2], bold=True), *notes]) if notes else 0.0
        right = GAP_IN + fixed[0] + GAP_IN + fixed[1] + (GAP_IN if notes else 0.0) + EDGE_IN
        reserved = min(note_need, NOTE_MIN_IN)
        free = WIDTH_IN - EDGE_IN - GAP_IN - right - AXES_MIN_IN - reserved
        labels = [row.label for row in rows] + [PI_LABEL, COHORT_HEADING]
        label_w = min(free, max(_width(label, bold=True) for label in labels))
        note_w = min(note_need, NOTE_MAX_IN, reserved + free - label_w)
        axes_left = EDGE_IN + label_w + GAP_IN
        xs = (GAP_IN, 2 * GAP_IN + fixed[0], 3 * GAP_IN + fixed[0] + fixed[1])
        return cls(label_w, xs, axes_left, WIDTH_IN - axes_left - right - note_w, note_w)


def _width(text: str, *, size: float = ROW_SIZE, bold: bool = False) -> float:
    return text_width_in(text, size=size, bold=bold)


def _text(
    ax: Axes, y: float, text: str, *, x_in: float, ha: str = "left", gid: str = "", **style: object
) -> None:
    """Text at data row ``y``, ``x_in`` inches right of the axes' right edge (left if < 0)."""
    origin = 0.0 if x_in < 0 else 1.0
    style.setdefault("fontsize", ROW_SIZE)
    artist = ax.annotate(
        text,
        xy=(origin, y),
        xycoords=ax.get_yaxis_transform(),
        xytext=(x_in * 72, 0),
        textcoords="offset points",
        ha=ha,
        va="center",
        annotation_clip=False,
        **style,  # type: ignore[arg-type]
    )
    artist.set_gid(gid or None)
    plain([artist])


def _row_text(ax: Axes, y: float, row: ForestRow, cols: _Columns, *, gid: str) -> None:
    colour = BLACK if row.verified else GREY
    style = "normal" if row.verified else "italic"
    bold = row.kind != "study"
    label = shorten(row.label, cols.label_w, size=ROW_SIZE, bold=bold)
    _text(
        ax,
        y,
        label,
        x_in=-GAP_IN,
        ha="right",
        gid=f"{gid}-label",
        color=colour,
        fontstyle=style,
        fontweight="bold" if bold else "normal",
    )
    estimate, counts, note = _numbers(row)
    _text(ax, y, estimate, x_in=cols.numbers_x[0], color=colour)
    if counts:
        _text(ax, y, counts, x_in=cols.numbers_x[1], color=colour)
    if note:
        note = shorten(note, cols.note_w, size=SMALL_SIZE)
        _text(ax, y, note, x_in=cols.numbers_x[2], color=GREY, fontsize=SMALL_SIZE)


def _draw_study(ax: Axes, y: float, row: ForestRow, largest: float, gid: str) -> None:
    colour = BLACK if row.verified else GREY
    size = 6.0 if row.weight is None else 4.0 + 7.0 * (row.weight / largest) ** 0.5
    (line,) = ax.plot([row.ci_low, row.ci_high], [y, y], color=colour, lw=1.0)
    line.set_gid(f"{gid}-ci")
    face = colour if row.verified else "white"
    (mark,) = ax.plot(
        [row.estimate], [y], marker="s", ms=size, color=colour, mfc=face, ls="", clip_on=False
    )
    mark.set_gid(gid)


def _draw_pooled(ax: Axes, y: float, row: ForestRow, fig_id: str, cols: _Columns) -> None:
    """Diamond for the pooled estimate and CI, thin bar below for the prediction interval."""
    diamond = Polygon(
        [(row.ci_low, y), (row.estimate, y - 0.32), (row.ci_high, y), (row.estimate, y + 0.32)],
        closed=True,
        facecolor=BLUE,
        edgecolor=BLUE,
        gid=f"{fig_id}-pooled",
    )
    ax.add_patch(diamond)
    ax.vlines(row.estimate, -0.55, y, color=BLUE, lw=0.8, ls=(0, (4, 3)), alpha=0.7, zorder=0)
    _row_text(ax, y, row, cols, gid=f"{fig_id}-pooled")
    if row.pi_low is None or row.pi_high is None:
        return
    y_pi = y + 0.75
    (bar,) = ax.plot(
        [row.pi_low, row.pi_high], [y_pi, y_pi], color=BLUE, lw=1.4, marker="|", ms=6, mew=1.4
    )
    bar.set_gid(f"{fig_id}-prediction")
    _text(ax, y_pi, PI_LABEL, x_in=-GAP_IN, ha="right", color=BLUE, fontsize=SMALL_SIZE)
    _text(ax, y_pi, _interval(row.pi_low, row.pi_high), x_in=cols.numbers_x[0], color=BLUE)


def _draw_cohort(ax: Axes, y: float, row: ForestRow, fig_id: str, cols: _Columns) -> None:
    if y > 2.0:  # below studies or a pooled row: a rule sets this program apart
        ax.axhline(y - 0.95, color=LIGHT_GREY, lw=0.8)
    _text(
        ax,
        y - 0.6,
        COHORT_HEADING,
        x_in=-GAP_IN,
        ha="right",
        fontweight="bold",
        color=VERMILLION,
        gid=f"{fig_id}-cohort-heading",
    )
    (line,) = ax.plot([row.ci_low, row.ci_high], [y, y], color=VERMILLION, lw=1.6)
    line.set_gid(f"{fig_id}-cohort-ci")
    (mark,) = ax.plot([row.estimate], [y], marker="o", ms=7, color=VERMILLION, ls="", clip_on=False)
    mark.set_gid(f"{fig_id}-cohort")
    _row_text(ax, y, row, cols, gid=f"{fig_id}-cohort")


def _checked(
    studies: Sequence[ForestRow], pooled: ForestRow | None, cohort: ForestRow | None
) -> list[ForestRow]:
    for study in studies:
        require(
            study.kind == "study", f"{study.label!r} in studies is {study.kind!r}", field="kind"
        )
    for row, kind in ((pooled, "pooled"), (cohort, "cohort")):
        if row is not None:
            require(
                row.kind == kind, f"{row.label!r} given as {kind} is {row.kind!r}", field="kind"
            )
    rows = [*studies, *(row for row in (pooled, cohort) if row is not None)]
    require(bool(rows), "nothing to draw: no study, pooled or cohort row", field="studies")
    return rows


def _describe(row: ForestRow) -> str:
    estimate, counts, note = _numbers(row)
    extra = "".join(f", {part}" for part in (counts, note) if part)
    pi = ""
    if row.pi_low is not None and row.pi_high is not None:
        pi = f"; {PI_LABEL} {_interval(row.pi_low, row.pi_high)}"
    return f"{row.kind} {row.label}: {estimate}{extra}{pi}."


def _legend(
    studies: Sequence[ForestRow], pooled: ForestRow | None, cohort: ForestRow | None
) -> tuple[list[Line2D], list[str]]:
    entries: list[tuple[Line2D, str]] = []
    if any(row.verified for row in studies):
        sized = " (area ∝ weight)" if any(row.weight for row in studies) else ""
        entries.append((Line2D([], [], color=BLACK, marker="s", ms=5), f"Study, 95% CI{sized}"))
    if any(not row.verified for row in studies):
        unverified = Line2D([], [], color=GREY, marker="s", ms=5, mfc="white")
        entries.append((unverified, "Not verified in the paper itself"))
    if pooled is not None:
        diamond = Line2D([], [], color=BLUE, marker="D", ms=6, ls="")
        entries.append((diamond, "Pooled estimate (random effects), 95% CI"))
        if pooled.pi_low is not None:
            entries.append((Line2D([], [], color=BLUE, lw=1.4), PI_LABEL))
    if cohort is not None:
        entries.append((Line2D([], [], color=VERMILLION, marker="o", ms=6), "This program, 95% CI"))
    return [handle for handle, _ in entries], [label for _, label in entries]


def _build(
    studies: Sequence[ForestRow],
    pooled: ForestRow | None,
    cohort: ForestRow | None,
    *,
    title: str,
    x_label: str,
    fig_id: str,
) -> Figure:
    cols = _Columns.fit(_checked(studies, pooled, cohort))
    y_pooled = len(studies) + 0.3 if pooled is not None else None
    last = len(studies) - 1.0
    if pooled is not None and y_pooled is not None:
        last = y_pooled + (0.75 if pooled.pi_low is not None else 0.0)
    y_cohort = last + 2.3 if cohort is not None else None
    bottom = (y_cohort if y_cohort is not None else last) + 0.8
    top = -1.7
    handles, labels = _legend(studies, pooled, cohort)
    title_lines = wrap(title, WIDTH_IN - 0.16, size=TITLE_SIZE, bold=True)
    foot_in = 0.5 + legend_height_in(labels)
    axes_h = (bottom - top) * ROW_IN
    canvas = new_canvas(title_height_in(title_lines) + axes_h + foot_in)
    ax = canvas.add_axes(cols.axes_left, foot_in, cols.axes_w, axes_h)
    _axes_style(ax, top=top, bottom=bottom, x_label=x_label)
    _headers(ax, cols)
    largest = max((row.weight or 0.0 for row in studies), default=0.0) or 1.0
    for i, row in enumerate(studies):
        _draw_study(ax, float(i), row, largest, f"{fig_id}-study-{i}")
        _row_text(ax, float(i), row, cols, gid=f"{fig_id}-study-{i}")
    if pooled is not None and y_pooled is not None:
        _draw_pooled(ax, y_pooled, pooled, fig_id, cols)
    if cohort is not None and y_cohort is not None:
        _draw_cohort(ax, y_cohort, cohort, fig_id, cols)
    draw_title(canvas, title_lines)
    figure_legend(canvas, handles, labels, bottom_in=0.02)
    return canvas.figure


def _axes_style(ax: Axes, *, top: float, bottom: float, x_label: str) -> None:
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(bottom, top)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xticks([0.0, 0.25, 0.5, 0.75, 1.0], ["0", "0.25", "0.5", "0.75", "1"])
    ax.grid(axis="x", color=LIGHT_GREY, lw=0.6)
    ax.set_axisbelow(True)
    plain([ax.set_xlabel(x_label)])


def _headers(ax: Axes, cols: _Columns) -> None:
    _text(ax, -1.0, "Study", x_in=-GAP_IN, ha="right", fontweight="bold")
    for x_in, header in zip(cols.numbers_x, HEADERS, strict=True):
        if header != HEADERS[2] or cols.note_w > 0:
            _text(ax, -1.0, header, x_in=x_in, fontweight="bold")
    ax.axhline(-0.55, color=LIGHT_GREY, lw=0.8)


def forest_plot(
    studies: Sequence[ForestRow],
    pooled: ForestRow | None,
    cohort: ForestRow | None,
    *,
    title: str,
    x_label: str = "Proportion",
    fig_id: str = "forest",
) -> str:
    """Forest plot on a 0–1 axis as an inline ``<svg>`` string.

    Studies are squares with CI lines (``<fig_id>-study-<i>``), the pooled estimate a diamond
    (``<fig_id>-pooled``) with the prediction interval as a thin bar under it
    (``<fig_id>-prediction``), and this program's cohort a circle in its own section below
    (``<fig_id>-cohort``). Each row's numbers are printed on the right. Raises
    ``FigureInputError`` (a ``ValueError``) naming the field of a row that cannot be drawn.
    """
    rows = _checked(studies, pooled, cohort)
    description = " ".join(_describe(row) for row in rows)
    return render(
        lambda: _build(studies, pooled, cohort, title=title, x_label=x_label, fig_id=fig_id),
        title=title,
        description=description,
        fig_id=fig_id,
    )
