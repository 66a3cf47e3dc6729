"""The Cohort page's tables, rendered with the offline report's own Jinja environment.

``TABLES`` is an overlay of ``analytics.report_render.ENVIRONMENT``: the same number filters
(``pct``, ``percent``, ``num``, ``ci``) and the same labels, so a number reads the same on the
page and in the downloaded report. Its loader finds the page's table partials
(``templates/cohort/tables/``) first and the report's own partials after them: the safety table
and the published-evidence table are the report's ``safety_table.html`` and
``evidence_table.html``, included as they are. The page's partials use only what the report's
templates use, so the report could include them too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader
from markupsafe import Markup

from lupus_msc.analytics import report_outcomes as ro
from lupus_msc.analytics.changes import TRAJECTORY_MARKERS, TrajectoryPoint
from lupus_msc.analytics.proportions import OUTCOMES
from lupus_msc.analytics.report_render import (
    ENVIRONMENT,
    STRATUM_LABELS,
    TIMEPOINT_LABELS,
    VARIABLE_LABELS,
)

PARTIALS = Path(__file__).resolve().parents[1] / "templates" / "cohort" / "tables"
_loaders: list[BaseLoader] = [FileSystemLoader(PARTIALS)]
if ENVIRONMENT.loader is not None:
    _loaders.append(ENVIRONMENT.loader)
TABLES = ENVIRONMENT.overlay(loader=ChoiceLoader(_loaders))

SECTIONS = {
    "table1": "table1.html",
    "outcomes": "outcomes.html",
    "strata": "strata.html",
    "time_to": "time_to.html",
    "changes": "changes.html",
    "trajectories": "trajectories.html",
    "safety": "safety_table.html",
    "evidence": "evidence_table.html",
}
"""Each table of the page and its partial (the last two are the report's)."""


def render_tables(
    report: ro.OutcomesReport, trajectories: tuple[TrajectoryPoint, ...]
) -> dict[str, Markup]:
    """Every table of the page as HTML, by section."""
    context: dict[str, Any] = {
        "report": report,
        "safety": report.safety,
        "arms": report.evidence.arms,
        "outcome_labels": {outcome.column: outcome.label for outcome in OUTCOMES},
        "outcome_order": [outcome.column for outcome in OUTCOMES],
        "timepoint_labels": TIMEPOINT_LABELS,
        "stratum_labels": STRATUM_LABELS,
        "strata_timepoints": ro.STRATA_SHOWN,
        "variable_labels": VARIABLE_LABELS,
        "markers": TRAJECTORY_MARKERS,
        "trajectory_timepoints": tuple(dict.fromkeys(p.timepoint for p in trajectories)),
        "trajectories": {(p.marker, p.timepoint): p for p in trajectories},
    }
    return {
        name: Markup(TABLES.get_template(template).render(**context))  # noqa: S704 - autoescaped
        for name, template in SECTIONS.items()
    }
