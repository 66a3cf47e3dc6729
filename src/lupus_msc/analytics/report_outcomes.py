"""The program outcomes report: every cohort table and figure, computed once from the dataset.

``outcomes_report`` runs the analyses in order, telling ``on_step`` as each one ends (the command
line shows a progress bar), and returns what the HTML template shows. The methods text is put
together from what was computed (its counts, cut-off and choices), never written by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from lupus_msc import __version__
from lupus_msc.analytics import baseline, changes, proportions, safety, survival
from lupus_msc.analytics.cohort_filter import CohortFilter
from lupus_msc.analytics.dataset import AnalysisDataset
from lupus_msc.analytics.evidence_comparison import Comparison, response_comparison
from lupus_msc.analytics.evidence_table import Row
from lupus_msc.analytics.figures import (
    BarSeries,
    ForestRow,
    KmCurve,
    ProportionPoint,
    TrajectoryPoint,
    TrajectorySeries,
    bar_chart,
    forest_plot,
    km_plot,
    proportion_plot,
    trajectory_plot,
)
from lupus_msc.analytics.registry_extract import HORIZON_DAYS as WINDOW_DAYS

HORIZON_DAYS = 730
"""Kaplan–Meier curves end at month 24, the last reported time point."""
AT_RISK_DAYS = (0, 91, 183, 365, 548, 730)
"""Numbers at risk at months 0, 3, 6, 12, 18 and 24 (a month = 30.4375 days, as the axis)."""
TIME_TO = (
    ("lldas", "First LLDAS (§5)"),
    ("doris", "First DORIS remission (§6)"),
    ("flare", "First SELENA flare (§2)"),
)
COMPARED_OUTCOME = ("msri4", "month12")
"""The cohort's figure drawn beside published response rates: the modified SRI-4 (§4) at month
12 under non-responder imputation. It is not the studies' definitions; the report says so."""
STRATA_SHOWN = ("month6", "month12")
MARKER_UNITS = {"c3": "g/L", "c4": "g/L", "anti_dsdna": "IU/mL"}
MARKER_LABELS = {"c3": "C3", "c4": "C4", "anti_dsdna": "Anti-dsDNA"}
MONTHS = {"baseline": 0, "month1": 1, "month3": 3, "month6": 6, "month12": 12, "month24": 24}

Step = Callable[[str], None]


@dataclass(frozen=True)
class TimeToEvent:
    outcome: str
    label: str
    curve: survival.KaplanMeier
    methods: str


@dataclass(frozen=True)
class OutcomesReport:
    title: str
    as_of: dt.date
    cohort: str
    generated: str
    patients: int
    visits: int
    table1: baseline.BaselineTable
    outcomes: proportions.OutcomeTable
    strata: tuple[proportions.StratifiedOutcomeTable, ...]
    time_to: tuple[TimeToEvent, ...]
    changed: tuple[changes.ChangeCell, ...]
    stopped: tuple[changes.StoppedCell, ...]
    safety: safety.SafetySummary
    evidence: Comparison
    cohort_compared: proportions.OutcomeCell | None
    figures: dict[str, str] = field(default_factory=dict)
    methods: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


OUTCOME_LABELS = {outcome.column: outcome.label for outcome in proportions.OUTCOMES}
STEPS = (
    "baseline",
    "outcomes",
    "strata",
    "survival",
    "changes",
    "safety",
    "evidence",
    "figures",
)
"""The report's steps, in order (the progress bar counts them)."""


def _proportion_points(table: proportions.OutcomeTable) -> list[ProportionPoint]:
    points = []
    for cell in table.cells:
        for analysis, value in (("NRI", cell.nri), ("observed", cell.observed)):
            if value.denominator and value.ci_low is not None and value.ci_high is not None:
                points.append(
                    ProportionPoint(
                        OUTCOME_LABELS[cell.outcome],
                        cell.timepoint,
                        analysis,  # type: ignore[arg-type]
                        value.numerator,
                        value.denominator,
                        value.ci_low,
                        value.ci_high,
                    )
                )
    return points


def _km_curve(item: TimeToEvent) -> KmCurve:
    curve = item.curve
    low, high = curve.cumulative_incidence_ci
    return KmCurve(
        label=item.label,
        timeline=curve.timeline,
        values=curve.cumulative_incidence,
        ci_low=low,
        ci_high=high,
        at_risk=dict(curve.at_risk),
    )


def _trajectories(visits: pl.DataFrame) -> dict[str, str]:
    figures = {}
    points = changes.marker_trajectories(visits)
    for marker, label in MARKER_LABELS.items():
        series_points = [
            TrajectoryPoint(
                MONTHS[point.timepoint],
                point.summary.median,
                point.summary.q1,
                point.summary.q3,
                point.n,
            )
            for point in points
            if point.marker == marker and point.summary is not None
        ]
        if series_points:
            figures[f"trajectory_{marker}"] = trajectory_plot(
                [TrajectorySeries(label, series_points)],
                title=f"{label}: median and interquartile range",
                marker=label,
                unit=MARKER_UNITS[marker],
                fig_id=f"trajectory-{marker}",
            )
    return figures


def _forest(evidence: Comparison, cohort: proportions.OutcomeCell | None) -> str:
    studies = [
        ForestRow(
            label=f"{arm.short_label}{', placebo' if arm.arm == 'placebo' else ''}",
            estimate=arm.proportion or 0.0,
            ci_low=low,
            ci_high=high,
            events=arm.events,
            total=arm.total,
            verified=arm.verification_level == "abstract-read",
            note="pooled" if arm.pooled else "not pooled",
        )
        for arm in evidence.arms
        if arm.events is not None and arm.total
        for low, high in [proportions.wilson_interval(arm.events, arm.total)]
    ]
    pooled = evidence.pooled
    pooled_row = (
        ForestRow(
            label=f"Pooled, random effects (k = {pooled.k})",
            estimate=pooled.estimate,
            ci_low=pooled.ci_low,
            ci_high=pooled.ci_high,
            kind="pooled",
            pi_low=pooled.pi_low,
            pi_high=pooled.pi_high,
        )
        if pooled is not None
        else None
    )
    cohort_row = None
    if cohort is not None and cohort.nri.denominator and cohort.nri.ci_low is not None:
        cohort_row = ForestRow(
            label="mSRI-4, month 12",
            estimate=cohort.nri.proportion or 0.0,
            ci_low=cohort.nri.ci_low,
            ci_high=cohort.nri.ci_high or 0.0,
            kind="cohort",
            events=cohort.nri.numerator,
            total=cohort.nri.denominator,
        )
    return forest_plot(
        studies,
        pooled_row,
        cohort_row,
        title="Response as each published study defined it, and this program's cohort",
        fig_id="forest",
    )


def safety_figure(summary: safety.SafetySummary) -> str:
    grades = [summary.row(f"grade_{grade}") for grade in range(1, 6)]
    return bar_chart(
        [f"Grade {grade}" for grade in range(1, 6)],
        [
            BarSeries("Events", [float(row.events) for row in grades]),
            BarSeries("Patients with ≥ 1", [float(row.patients) for row in grades]),
        ],
        title="Adverse events by CTCAE grade",
        y_label="Count",
        fig_id="safety-grades",
    )


def _figures(
    outcomes: proportions.OutcomeTable,
    time_to: list[TimeToEvent],
    visits: pl.DataFrame,
    evidence: Comparison,
    compared: proportions.OutcomeCell | None,
    harms: safety.SafetySummary,
) -> dict[str, str]:
    """The report's SVG figures (most of the report's time on a small cohort)."""
    return {
        "proportions": proportion_plot(
            _proportion_points(outcomes),
            title="Patients in each state by time point (95% Wilson CI)",
            fig_id="proportions",
        ),
        "time_to": km_plot(
            [_km_curve(item) for item in time_to],
            title="Time to first LLDAS, DORIS remission and flare",
            y_label="Cumulative proportion",
            at_risk_days=AT_RISK_DAYS,
            fig_id="time-to",
        ),
        **_trajectories(visits),
        "forest": _forest(evidence, compared),
        "safety": safety_figure(harms),
    }


def outcomes_report(
    dataset: AnalysisDataset,
    *,
    cohort: CohortFilter | None = None,
    title: str = "Program outcomes report",
    on_step: Step | None = None,
    evidence_rows: Sequence[Row] | None = None,
    with_figures: bool = True,
) -> OutcomesReport:
    """Every table and figure of the outcomes report (module doc); ``evidence_rows`` replaces
    the shipped studies table (e.g. with a user's own rows added, ``evidence_table.studies``);
    ``with_figures=False`` leaves the SVG figures out (the web page draws its own charts)."""

    def done(step: str) -> None:
        if on_step is not None:
            on_step(step)

    patients, visits, events = dataset.patients, dataset.visits, dataset.adverse_events
    if patients.height == 0:
        raise ValueError("cohort: no infused patient matches the report's filter")
    as_of = dataset.as_of
    table1 = baseline.baseline_table(patients, visits)
    done("baseline")
    outcomes = proportions.outcome_table(patients, visits, as_of=as_of)
    done("outcomes")
    strata = tuple(
        proportions.stratified_outcome_table(patients, visits, stratum=name, as_of=as_of)
        for name in proportions.STRATA
    )
    done("strata")
    time_to = []
    for column, label in TIME_TO:
        times = survival.first_event_times(visits, patients, column, horizon_days=HORIZON_DAYS)
        curve = survival.kaplan_meier(times, AT_RISK_DAYS, label=label, horizon_days=HORIZON_DAYS)
        time_to.append(TimeToEvent(column, label, curve, survival.methods_text(curve)))
    done("survival")
    changed = changes.change_from_baseline(visits)
    stopped = changes.immunosuppressants_stopped(visits)
    done("changes")
    harms = safety.safety_summary(patients, events)
    done("safety")
    evidence = response_comparison(evidence_rows)
    compared = outcomes.cell(*COMPARED_OUTCOME)
    done("evidence")
    figures = _figures(outcomes, time_to, visits, evidence, compared, harms) if with_figures else {}
    done("figures")
    notes = []
    if dataset.notes.visits_with_too_many_glucocorticoids:
        notes.append(
            f"{dataset.notes.visits_with_too_many_glucocorticoids} visits recorded more than two "
            "systemic glucocorticoids at once; their prednisone-equivalent dose and the outcomes "
            "that depend on it are counted as not assessable."
        )
    if dataset.notes.values_rounded:
        notes.append(
            f"{dataset.notes.values_rounded} lab values reported in another unit had more "
            "decimals than the scoring engine keeps and were rounded to its precision."
        )
    methods = (
        proportions.methods_text(outcomes),
        "SRI-4 (§4) needs BILAG-2004, which the visit form does not collect, so it is not "
        "assessable unless another component fails; the modified SRI-4 (SLEDAI-2K reduction "
        "≥ 4 and no PGA worsening ≥ 0.3, Connelly et al.) is reported beside it.",
        *(item.methods for item in time_to),
        "Changes from baseline are observed cases with a value at both the day-0 visit and the "
        "time point: medians with interquartile ranges (quantiles by linear interpolation, "
        "type 7).",
        f"Adverse events are treatment-emergent (onset on or after the first infusion) and "
        f"within the analysis window ({WINDOW_DAYS} days); rates per 100 patient-years use "
        f"{harms.patient_years:.1f} patient-years of follow-up (first infusion to the last visit "
        "in the window, or death) with exact Poisson confidence intervals.",
        "Published results are shown as each study reported them, pooled by a random-effects "
        "meta-analysis of proportions (logit transform, REML) only where the evidence rules "
        "allow. " + evidence.caveat,
    )
    return OutcomesReport(
        title=title,
        as_of=as_of,
        cohort=(cohort or CohortFilter()).describe(),
        generated=f"lupus-msc {__version__}",
        patients=patients.height,
        visits=visits.height,
        table1=table1,
        outcomes=outcomes,
        strata=strata,
        time_to=tuple(time_to),
        changed=changed,
        stopped=stopped,
        safety=harms,
        evidence=evidence,
        cohort_compared=compared,
        figures=figures,
        methods=methods,
        notes=tuple(notes),
    )
