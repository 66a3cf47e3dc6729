"""The Cohort page's interactive charts: the numbers ``static/cohort.js`` draws with plotly.js.

Every number comes from the outcomes report's analyses (``web.cohort_outcomes.cohort_report``:
Wilson intervals, Kaplan–Meier estimates, type-7 quartiles, the evidence table and its
random-effects pooling); here they are only arranged for plotting, in percent, with the hover
text written out. The same numbers are in the tables under each chart for readers without
JavaScript.
"""

from __future__ import annotations

from typing import Any

from lupus_msc.analytics import report_outcomes as ro
from lupus_msc.analytics.changes import TrajectoryPoint
from lupus_msc.analytics.evidence_comparison import Comparison
from lupus_msc.analytics.proportions import (
    OUTCOMES,
    TIMEPOINTS,
    OutcomeCell,
    Proportion,
    wilson_interval,
)
from lupus_msc.analytics.report_render import TIMEPOINT_LABELS

DAYS_PER_MONTH = 30.4375
"""The report's time axis: months of 30.4375 days (analytics.figures_style)."""
MARKERS = (("c3", "C3", "g/L"), ("c4", "C4", "g/L"), ("anti_dsdna", "Anti-dsDNA", "IU/mL"))


def _pct(value: float) -> float:
    return round(100 * value, 2)


def _share(value: Proportion) -> dict[str, Any] | None:
    """One proportion for a bar with its 95% Wilson interval; None when nobody is counted."""
    if not value.denominator or value.proportion is None:
        return None
    low, high = value.ci_low or 0.0, value.ci_high or 0.0
    return {
        "value": _pct(value.proportion),
        "plus": _pct(high - value.proportion),
        "minus": _pct(value.proportion - low),
        "text": (
            f"{value.numerator}/{value.denominator} ({100 * value.proportion:.0f}%; "
            f"95% CI {100 * low:.0f}–{100 * high:.0f}%)"
        ),
    }


def proportion_chart(report: ro.OutcomesReport) -> dict[str, Any]:
    """Each outcome by time point, NRI (primary) beside observed cases; the one shown first is
    the modified SRI-4, the outcome the report compares with published results."""
    return {
        "shown": ro.COMPARED_OUTCOME[0],
        "timepoints": [TIMEPOINT_LABELS[t] for t in TIMEPOINTS],
        "outcomes": [
            {
                "key": outcome.column,
                "label": f"{outcome.label} ({outcome.section})",
                "nri": [_share(report.outcomes.cell(outcome.column, t).nri) for t in TIMEPOINTS],
                "observed": [
                    _share(report.outcomes.cell(outcome.column, t).observed) for t in TIMEPOINTS
                ],
            }
            for outcome in OUTCOMES
        ],
    }


def _months(day: float) -> float:
    return round(day / DAYS_PER_MONTH, 3)


def time_to_chart(report: ro.OutcomesReport) -> dict[str, Any]:
    """Kaplan–Meier cumulative proportions (1 − S) with their 95% pointwise bands."""
    curves = []
    for item in report.time_to:
        curve = item.curve
        low, high = curve.cumulative_incidence_ci
        curves.append(
            {
                "label": item.label,
                "x": [_months(day) for day in curve.timeline],
                "y": [_pct(value) for value in curve.cumulative_incidence],
                "low": [_pct(value) for value in low],
                "high": [_pct(value) for value in high],
                "text": [
                    f"day {day}: {100 * value:.0f}%"
                    for day, value in zip(curve.timeline, curve.cumulative_incidence, strict=True)
                ],
            }
        )
    days = [day for day, _ in report.time_to[0].curve.at_risk] if report.time_to else []
    return {"curves": curves, "ticks": [_months(day) for day in days]}


def trajectory_charts(points: tuple[TrajectoryPoint, ...]) -> list[dict[str, Any]]:
    """C3, C4 and anti-dsDNA: median and interquartile range at baseline and each time point."""
    charts = []
    for marker, name, unit in MARKERS:
        shown = [p for p in points if p.marker == marker and p.summary is not None]
        if not shown:
            continue
        charts.append(
            {
                "id": f"chart-trajectory-{marker.replace('_', '-')}",
                "title": f"{name} ({unit})",
                "x": [ro.MONTHS[p.timepoint] for p in shown],
                "median": [p.summary.median for p in shown if p.summary],
                "plus": [p.summary.q3 - p.summary.median for p in shown if p.summary],
                "minus": [p.summary.median - p.summary.q1 for p in shown if p.summary],
                "text": [
                    f"{TIMEPOINT_LABELS[p.timepoint]}: median {p.summary.median:.2f} "
                    f"(IQR {p.summary.q1:.2f}–{p.summary.q3:.2f}), n = {p.n}"
                    for p in shown
                    if p.summary
                ],
            }
        )
    return charts


def _forest_row(label: str, kind: str, estimate: float, low: float, high: float, text: str) -> Any:
    return {
        "label": label,
        "kind": kind,
        "value": _pct(estimate),
        "plus": _pct(high - estimate),
        "minus": _pct(estimate - low),
        "text": text,
    }


def forest_chart(evidence: Comparison, cohort: OutcomeCell | None) -> dict[str, Any]:
    """Published response as each study defined it (Wilson 95%), the pooled random-effects
    estimate with its prediction interval, and this cohort's modified SRI-4 at month 12 (NRI),
    as the report's forest plot shows them."""
    rows = []
    for arm in evidence.arms:
        if arm.events is None or not arm.total:
            continue
        low, high = wilson_interval(arm.events, arm.total)
        placebo = arm.arm == "placebo"
        rows.append(
            _forest_row(
                f"{arm.short_label}{', placebo' if placebo else ''}",
                "placebo" if placebo else "study",
                arm.events / arm.total,
                low,
                high,
                f"{arm.events}/{arm.total} at {arm.timepoint_months} months; "
                f"{arm.verification_level}; {'pooled' if arm.pooled else 'not pooled'}",
            )
        )
    pooled = evidence.pooled
    prediction = None
    if pooled is not None:
        label = f"Pooled, random effects (k = {pooled.k})"
        rows.append(
            _forest_row(
                label,
                "pooled",
                pooled.estimate,
                pooled.ci_low,
                pooled.ci_high,
                f"{100 * pooled.estimate:.0f}% (95% CI {100 * pooled.ci_low:.0f}–"
                f"{100 * pooled.ci_high:.0f}%; prediction interval {100 * pooled.pi_low:.0f}–"
                f"{100 * pooled.pi_high:.0f}%)",
            )
        )
        prediction = {"label": label, "low": _pct(pooled.pi_low), "high": _pct(pooled.pi_high)}
    if cohort is not None and cohort.nri.denominator and cohort.nri.proportion is not None:
        nri = cohort.nri
        rows.append(
            _forest_row(
                "This cohort: mSRI-4, month 12 (NRI)",
                "cohort",
                nri.proportion or 0.0,
                nri.ci_low or 0.0,
                nri.ci_high or 0.0,
                f"{nri.numerator}/{nri.denominator}",
            )
        )
    return {"rows": rows, "prediction": prediction}


def chart_data(
    report: ro.OutcomesReport, trajectory_points: tuple[TrajectoryPoint, ...]
) -> dict[str, Any]:
    """Everything ``cohort.js`` draws, for the page's JSON block."""
    return {
        "proportions": proportion_chart(report),
        "time_to": time_to_chart(report),
        "trajectories": trajectory_charts(trajectory_points),
        "forest": forest_chart(report.evidence, report.cohort_compared),
    }
