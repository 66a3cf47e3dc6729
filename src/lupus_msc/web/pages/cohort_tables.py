"""The Cohort page's tables: the offline outcomes report's own table partials.

Every table of the page is a partial of ``analytics/report_templates/`` (``tables/*.html``, and
the report's ``safety_table.html`` and ``evidence_table.html``), rendered with the report's Jinja
environment (``analytics.report_render.ENVIRONMENT``: the same number filters ``pct``,
``percent``, ``num`` and ``ci``) and the report's table context (``table_context``: the same
labels), so a table is written once and a number reads the same on the page and in the
downloaded report. ``web=True`` asks the partials for the page's markup: row headers, the outcome
table's caption and data attributes, subgroups as collapsible details. Two tables are the page's
only: the numbers at risk and the immune-marker trajectories (the report draws these as
figures).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from lupus_msc.analytics import report_outcomes as ro
from lupus_msc.analytics.changes import TRAJECTORY_MARKERS, TrajectoryPoint
from lupus_msc.analytics.report_render import ENVIRONMENT, table_context

SECTIONS = {
    "table1": "tables/table1.html",
    "outcomes": "tables/outcomes.html",
    "strata": "tables/strata.html",
    "time_to": "tables/time_to.html",
    "at_risk": "tables/at_risk.html",
    "changes": "tables/changes.html",
    "trajectories": "tables/trajectories.html",
    "safety": "safety_table.html",
    "evidence": "evidence_table.html",
}
"""Each table of the page and its partial in the report's templates."""


def render_tables(
    report: ro.OutcomesReport, trajectories: tuple[TrajectoryPoint, ...]
) -> dict[str, Markup]:
    """Every table of the page as HTML, by section."""
    context: dict[str, Any] = table_context(report, web=True) | {
        "markers": TRAJECTORY_MARKERS,
        "trajectory_timepoints": tuple(dict.fromkeys(p.timepoint for p in trajectories)),
        "trajectories": {(p.marker, p.timepoint): p for p in trajectories},
    }
    return {
        name: Markup(ENVIRONMENT.get_template(template).render(**context))  # noqa: S704 - autoescaped
        for name, template in SECTIONS.items()
    }
