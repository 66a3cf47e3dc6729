"""Shared styling and SVG rendering for the report figures (``figures.py``).

One place for the palette, the fonts, the page width and the step that turns a matplotlib
``Figure`` into a deterministic, accessible ``<svg>`` string ready to inline in HTML.

Text is kept as SVG ``<text>`` (``svg.fonttype = "none"``) in DejaVu Sans: it stays searchable and
selectable in the HTML and in the WeasyPrint PDF, screen readers can read it, and the SVG is about
four times smaller than with glyph paths. WeasyPrint (and Debian's ``fonts-dejavu-core``) has
DejaVu Sans, so the PDF looks as the preview; a viewer without it falls back to its sans-serif, and
because every text is anchored at its alignment point (``text-anchor``) nothing moves out of place.

References
----------
Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that are
friendly to colorblind people. 2008. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import html
import io
import math
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from matplotlib.textpath import text_to_path
from matplotlib.typing import RcKeyType

#: Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
PURPLE, SKY, BLACK, GREY, LIGHT_GREY = "#CC79A7", "#56B4E9", "#000000", "#7F7F7F", "#D9D9D9"
#: Series colours, in order (yellow is left out: too pale on white paper).
SERIES = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, BLACK)
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X")

#: A4 with 2 cm margins leaves 17 cm; figures are 16.5 cm (6.5 in) wide and scale down cleanly.
WIDTH_IN = 6.5
FONT_SIZE = 8.5
TITLE_SIZE = 10.0
SMALL_SIZE = 7.5
DAYS_PER_MONTH = 30.4375
MONTHS_LABEL = "Months since first infusion"

RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "lupus-msc-figures",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "xtick.labelsize": FONT_SIZE - 0.5,
    "ytick.labelsize": FONT_SIZE - 0.5,
    "legend.fontsize": FONT_SIZE - 0.5,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "text.usetex": False,
}
#: Dublin Core metadata left out: no clock, no version string, so the output is reproducible.
METADATA: dict[str, str | None] = {"Date": None, "Creator": None, "Format": None, "Type": None}

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
#: rcParams are process-wide; rendering holds this lock so concurrent requests cannot mix styles.
_RENDER_LOCK = threading.Lock()


class FigureInputError(ValueError):
    """Values that cannot be drawn; ``field`` names the offending field (e.g. ``ci_low``)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def require(condition: bool, message: str, *, field: str) -> None:
    """Raise ``FigureInputError`` naming ``field`` unless ``condition`` holds."""
    if not condition:
        raise FigureInputError(f"{field}: {message}", field=field)


def require_finite(value: float, *, field: str, where: str = "") -> None:
    require(math.isfinite(value), f"{where}must be a finite number, got {value}", field=field)


def check_interval(
    low: float, value: float, high: float, *, where: str, names: tuple[str, str, str]
) -> None:
    """``low ≤ value ≤ high``, all finite; the error names the field on the wrong side."""
    for number, name in zip((low, value, high), names, strict=True):
        require_finite(number, field=name, where=where)
    require(low <= value, f"{where}{low} is above {names[1]} {value}", field=names[0])
    require(value <= high, f"{where}{high} is below {names[1]} {value}", field=names[2])


def check_proportion(value: float, *, field: str, where: str = "") -> None:
    require(0.0 <= value <= 1.0, f"{where}{value} is not a proportion (0–1)", field=field)


@dataclass(frozen=True)
class Canvas:
    """A figure of fixed width; rectangles are given in inches from the bottom-left corner."""

    figure: Figure
    height_in: float

    def rect(
        self, left: float, bottom: float, width: float, height: float
    ) -> tuple[float, float, float, float]:
        return (
            left / WIDTH_IN,
            bottom / self.height_in,
            width / WIDTH_IN,
            height / self.height_in,
        )

    def add_axes(self, left: float, bottom: float, width: float, height: float) -> Axes:
        return self.figure.add_axes(self.rect(left, bottom, width, height))


def new_canvas(height_in: float) -> Canvas:
    return Canvas(Figure(figsize=(WIDTH_IN, height_in)), height_in)


def text_width_in(text: str, *, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Width of one line of DejaVu Sans text in inches (measured, not estimated)."""
    prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    width, _, _ = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
    return float(width) / 72.0


def wrap(text: str, width_in: float, *, size: float = FONT_SIZE, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width_in`` inches."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width_in(candidate, size=size, bold=bold) <= width_in:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines or [""]


def shorten(text: str, width_in: float, *, size: float = FONT_SIZE, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to fit ``width_in`` (the full text stays in the SVG desc)."""
    if text_width_in(text, size=size, bold=bold) <= width_in:
        return text
    while text and text_width_in(text + "…", size=size, bold=bold) > width_in:
        text = text[:-1]
    return text.rstrip() + "…"


def draw_title(canvas: Canvas, lines: list[str]) -> None:
    """The figure title, left-aligned at the top, bold."""
    text = canvas.figure.text(
        0.08 / WIDTH_IN,
        1 - 0.08 / canvas.height_in,
        "\n".join(lines),
        ha="left",
        va="top",
        fontsize=TITLE_SIZE,
        fontweight="bold",
        linespacing=1.3,
    )
    plain([text])


def title_height_in(lines: list[str]) -> float:
    return 0.16 + 0.2 * len(lines)


def plain(texts: Iterable[Text]) -> None:
    """Caller-supplied text is shown as typed: no mathtext for ``$`` in a study name."""
    for text in texts:
        text.set_parse_math(False)


def month_label(days: float) -> str:
    months = days / DAYS_PER_MONTH
    return f"{round(months)}" if abs(months - round(months)) < 0.05 else f"{months:.1f}"


def format_number(value: float) -> str:
    """Up to 3 significant digits, no exponent for clinical ranges."""
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def compact_count(count: int) -> str:
    """A count short enough for a crowded table cell: 950, 9.5k, 95k."""
    if count < 1000:
        return str(count)
    return f"{count / 1000:.1f}k" if count < 10_000 else f"{count / 1000:.0f}k"


def check_fig_id(fig_id: str) -> None:
    require(
        _ID.fullmatch(fig_id) is not None,
        f"{fig_id!r} must start with a letter and hold only letters, digits, '-' and '_'",
        field="fig_id",
    )


def _scoped(svg: str, fig_id: str) -> str:
    """Drop the prologue; prefix every element id (and reference to it) with ``fig_id`` and
    scope matplotlib's ``*{...}`` style rule to this figure, so that several figures inline in
    one HTML page neither share ids (clip paths, markers) nor restyle each other."""
    svg = svg[svg.index("<svg") :]
    prefix = f"{fig_id}-"
    for old in dict.fromkeys(re.findall(r' id="([^"]+)"', svg)):
        if old == fig_id or old.startswith(prefix):
            continue
        new = prefix + old
        svg = svg.replace(f' id="{old}"', f' id="{new}"')
        svg = svg.replace(f'"#{old}"', f'"#{new}"').replace(f"(#{old})", f"(#{new})")
    return svg.replace('<style type="text/css">*{', f'<style type="text/css">#{fig_id} *{{', 1)


def render(build: Callable[[], Figure], *, title: str, description: str, fig_id: str) -> str:
    """Build the figure under the shared style and return it as an inline ``<svg>`` element.

    The element carries ``id=fig_id``, ``role="img"``, ``aria-label`` and a ``<title>`` and
    ``<desc>`` (the numbers drawn, for screen readers); there is no XML prologue or DOCTYPE.
    Element ids inside are prefixed with ``fig_id``: give each figure of one HTML page its own.
    """
    check_fig_id(fig_id)
    buffer = io.StringIO()
    with _RENDER_LOCK, matplotlib.rc_context({**RC, "svg.id": fig_id}):
        build().savefig(buffer, format="svg", metadata=METADATA)
    svg = _scoped(buffer.getvalue(), fig_id)
    end = svg.index(">") + 1
    label = html.escape(title, quote=True)
    accessible = (
        f'{svg[: end - 1]} role="img" aria-label="{label}">\n'
        f" <title>{html.escape(title, quote=False)}</title>\n"
        f" <desc>{html.escape(description, quote=False)}</desc>"
    )
    return accessible + svg[end:]


def _legend_columns(labels: Sequence[str]) -> int:
    """As many columns as fit the page width (handle and padding about 0.55 in per entry)."""
    for columns in range(len(labels), 1, -1):
        rows = [labels[i : i + columns] for i in range(0, len(labels), columns)]
        widest = [
            max(text_width_in(row[c], size=FONT_SIZE - 0.5) for row in rows if c < len(row))
            for c in range(columns)
        ]
        if sum(widest) + 0.55 * columns <= WIDTH_IN - 0.2:
            return columns
    return 1


def legend_height_in(labels: Sequence[str]) -> float:
    if not labels:
        return 0.0
    return 0.2 * math.ceil(len(labels) / _legend_columns(labels)) + 0.08


def figure_legend(
    canvas: Canvas, handles: Sequence[Artist], labels: Sequence[str], *, bottom_in: float
) -> None:
    """A legend across the figure, left-aligned, ``bottom_in`` above the foot, as many columns
    as fit the width."""
    if not handles:
        return
    legend = canvas.figure.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.04 / WIDTH_IN, bottom_in / canvas.height_in),
        ncols=_legend_columns(labels),
        handlelength=1.8,
        columnspacing=1.4,
        borderaxespad=0.0,
    )
    plain(legend.get_texts())
