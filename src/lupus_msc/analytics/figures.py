"""Static report figures as inline SVG strings (issue 7: outcomes, safety and patient reports).

Each function takes plain values (sequences and the small frozen dataclasses below, never other
analytics modules' types), draws with matplotlib's object-oriented API (``Figure``, no pyplot)
and returns one ``<svg>`` element: no XML prologue, ``role="img"``, ``aria-label``, ``<title>``
and a ``<desc>`` listing the numbers drawn. The output is deterministic (fixed hash salt, no
date or version metadata), 6.5 in (16.5 cm) wide for an A4 page, in the Okabe–Ito colour-blind
safe palette. Text stays text (``svg.fonttype = "none"``, DejaVu Sans): why is explained in
``figures_style``. Bad input raises ``FigureInputError`` (a ``ValueError``) whose ``field`` and
message name the offending field.

Element ids (matplotlib ``gid``) let tests and scripts find what was drawn; they start with the
figure's ``fig_id``, so give each figure of one HTML page its own ``fig_id``.

- ``forest_plot``: published studies, pooled estimate and prediction interval, this program.
- ``km_plot``: Kaplan–Meier curves with CI bands and numbers at risk.
- ``proportion_plot``: outcome proportions by time point, NRI and observed cases side by side.
- ``trajectory_plot``: median and IQR of a marker over time.
- ``bar_chart``: grouped bars, e.g. adverse events by CTCAE grade.
"""

from __future__ import annotations

from lupus_msc.analytics.figures_bars import (
    Analysis,
    BarSeries,
    ProportionPoint,
    bar_chart,
    proportion_plot,
)
from lupus_msc.analytics.figures_forest import ForestRow, Kind, forest_plot
from lupus_msc.analytics.figures_style import FigureInputError
from lupus_msc.analytics.figures_time import (
    KmCurve,
    TrajectoryPoint,
    TrajectorySeries,
    km_plot,
    trajectory_plot,
)

__all__ = [
    "Analysis",
    "BarSeries",
    "FigureInputError",
    "ForestRow",
    "Kind",
    "KmCurve",
    "ProportionPoint",
    "TrajectoryPoint",
    "TrajectorySeries",
    "bar_chart",
    "forest_plot",
    "km_plot",
    "proportion_plot",
    "trajectory_plot",
]
