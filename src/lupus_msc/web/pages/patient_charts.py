"""The patient page's charts over time: figure data for ``static/patient-charts.js`` (plotly.js)
and the same numbers as a table for readers without JavaScript.

The numbers are the stored, engine-derived values of each recorded visit (``services.course``):
SLEDAI-2K total (instruments.md §1), prednisone-equivalent mg/day (§11), UPCR g/g (§10), eGFR
CKD-EPI 2021 (§9), C3, C4, anti-dsDNA and FACIT-F (§13). Nothing is computed here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lupus_msc.services.course import Course, Measurement

SERIES: tuple[tuple[str, str, str], ...] = (
    ("sledai2k", "SLEDAI-2K", ""),
    ("prednisone_mg_day", "Prednisone-equivalent", "mg/day"),
    ("upcr_g_g", "UPCR", "g/g"),
    ("egfr", "eGFR", "mL/min/1.73 m²"),
    ("c3_g_l", "C3", "g/L"),
    ("c4_g_l", "C4", "g/L"),
    ("anti_dsdna_iu_ml", "Anti-dsDNA", "IU/mL"),
    ("facit_f", "FACIT-F", "0–52"),
)
"""Charted measurements: attribute of ``Measurement``, name, unit."""

FIGURES: tuple[dict[str, Any], ...] = (
    {"id": "chart-sledai", "title": "SLEDAI-2K", "left": ["sledai2k"], "right": []},
    {
        "id": "chart-prednisone",
        "title": "Prednisone-equivalent dose (mg/day)",
        "left": ["prednisone_mg_day"],
        "right": [],
    },
    {"id": "chart-kidney", "title": "UPCR (g/g) and eGFR", "left": ["upcr_g_g"], "right": ["egfr"]},
    {
        "id": "chart-serology",
        "title": "C3, C4 (g/L) and anti-dsDNA (IU/mL)",
        "left": ["c3_g_l", "c4_g_l"],
        "right": ["anti_dsdna_iu_ml"],
    },
    {"id": "chart-facit", "title": "FACIT-Fatigue", "left": ["facit_f"], "right": []},
)
NAMES = {key: (name, unit) for key, name, unit in SERIES}


def _plain(value: int | Decimal | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return float(value)


def _axis_title(keys: list[str]) -> str:
    return ", ".join(
        f"{NAMES[key][0]} ({NAMES[key][1]})" if NAMES[key][1] else NAMES[key][0] for key in keys
    )


def _trace(key: str, measurements: list[Measurement], axis: str) -> dict[str, Any] | None:
    points = [
        (item.day.isoformat(), _plain(getattr(item, key)))
        for item in measurements
        if getattr(item, key) is not None
    ]
    if not points:
        return None
    return {
        "name": NAMES[key][0],
        "x": [day for day, _ in points],
        "y": [value for _, value in points],
        "yaxis": axis,
    }


def chart_figures(course: Course) -> dict[str, Any]:
    """The data ``patient-charts.js`` draws: one figure per group, infusion dates marked."""
    figures = []
    for figure in FIGURES:
        traces = [
            trace
            for key, axis in [
                *((k, "y") for k in figure["left"]),
                *((k, "y2") for k in figure["right"]),
            ]
            if (trace := _trace(key, course.measurements, axis)) is not None
        ]
        figures.append(
            {
                "id": figure["id"],
                "title": figure["title"],
                "y_title": _axis_title(figure["left"]),
                "y2_title": _axis_title(figure["right"]) if figure["right"] else None,
                "traces": traces,
            }
        )
    return {
        "infusions": [day.isoformat() for day in course.infusion_dates],
        "figures": figures,
    }


def chart_table(course: Course) -> list[dict[str, Any]]:
    """The charted numbers per recorded visit, for the table shown without JavaScript."""
    return [
        {"day": item.day, "code": item.code, **{key: getattr(item, key) for key, _, _ in SERIES}}
        for item in course.measurements
    ]
