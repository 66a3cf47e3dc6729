"""The Cohort page's numbers: the analysis dataset of a user's sites, kept in memory while the
registry is unchanged, and the outcomes report's tables computed from it without the figures.

* ``DatasetCache`` is the dashboard's ``FigureCache`` (services/dashboard.py) holding analysis
  datasets: one per set of sites and day, exact until the audit chain's head moves (every write
  moves it). Building a dataset reads the registry and scores every visit with the batch engine
  (``analytics.dataset``): ~0.15 s on the demo's 199 patients, growing with the registry; a
  registry whose dataset takes longer than ``SLOW`` gets the previous dataset, marked stale, while
  one background build brings it up to date (the dashboard's rule).
* ``cohort_report`` is ``analytics.report_outcomes.outcomes_report`` without its SVG figures: the
  same analyses, called the same way, into the same ``OutcomesReport`` (``figures`` empty).
  Drawing the figures with matplotlib is most of that function's time (~1.5 s of ~1.8 s on the
  demo cohort), and the page draws its own interactive charts from the numbers. A test
  (tests/web/test_cohort_page.py) checks that the two give equal reports, so an analysis changed
  there and not here fails; an ``outcomes_report(..., figures=False)`` in analytics would make
  this copy unnecessary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from lupus_msc import __version__
from lupus_msc.analytics import baseline, changes, proportions, safety, survival
from lupus_msc.analytics import report_outcomes as ro
from lupus_msc.analytics.cohort_filter import CohortFilter
from lupus_msc.analytics.dataset import AnalysisDataset, build
from lupus_msc.analytics.evidence_comparison import response_comparison
from lupus_msc.analytics.registry_extract import RegistryTables, read_registry
from lupus_msc.services.dashboard import FigureCache, FigureMaker, Snapshot


class DatasetCache(FigureCache):
    """Analysis datasets per (sites, day), exact while the audit head stays put (module doc).

    A dataset of a large registry is large (every visit of every patient), so only a few are
    kept: one per distinct set of sites among the users who open the page, most recent first.
    """

    SIZE = 4


def _has_followed_patients(tables: RegistryTables, as_of: dt.date) -> bool:
    """Whether some patient of ``tables`` has an infusion and a recorded visit by ``as_of``
    (``dataset.build`` needs at least one such visit to score)."""
    infused = tables.infusions.join(tables.patients.select("pid"), on="pid", how="semi")
    visits = tables.visits.filter(pl.col("visit_date") <= as_of)
    return visits.join(infused.select("pid"), on="pid", how="semi").height > 0


def dataset_maker(codes: Sequence[str], as_of: dt.date) -> FigureMaker:
    """Builds the analysis dataset of the sites ``codes`` (None when no patient of theirs has
    been infused and seen at a visit yet)."""

    def make(session: Session) -> dict[str, Any]:
        tables = read_registry(session, site_codes=list(codes))
        found = build(tables, as_of) if _has_followed_patients(tables, as_of) else None
        return {"dataset": found}

    return make


def dataset_scope(codes: Sequence[str], as_of: dt.date) -> tuple[Any, ...]:
    """The cache's key of a dataset: the set of sites, and the day (the data cut-off)."""
    return ("cohort", tuple(sorted(codes)), as_of)


def cached_dataset(
    cache: DatasetCache, session: Session, codes: Sequence[str], as_of: dt.date
) -> Snapshot:
    """The snapshot holding ``{"dataset": AnalysisDataset | None}`` of the sites ``codes``."""
    return cache.figures(session, dataset_scope(codes, as_of), dataset_maker(codes, as_of))


def trajectories(dataset: AnalysisDataset) -> tuple[changes.TrajectoryPoint, ...]:
    """C3, C4 and anti-dsDNA by time point (median, IQR, n), as the report's trajectory plots."""
    return changes.marker_trajectories(dataset.visits)


def cohort_report(
    dataset: AnalysisDataset,
    *,
    cohort: CohortFilter | None = None,
    title: str = "Program outcomes report",
) -> ro.OutcomesReport:
    """``report_outcomes.outcomes_report`` without figures (module doc): every table, the
    methods text and the notes, from the same analyses."""
    patients, visits, events = dataset.patients, dataset.visits, dataset.adverse_events
    if patients.height == 0:
        raise ValueError("cohort: no infused patient matches the report's filter")
    as_of = dataset.as_of
    table1 = baseline.baseline_table(patients, visits)
    outcomes = proportions.outcome_table(patients, visits, as_of=as_of)
    strata = tuple(
        proportions.stratified_outcome_table(patients, visits, stratum=name, as_of=as_of)
        for name in proportions.STRATA
    )
    time_to = []
    for column, label in ro.TIME_TO:
        times = survival.first_event_times(visits, patients, column, horizon_days=ro.HORIZON_DAYS)
        curve = survival.kaplan_meier(
            times, ro.AT_RISK_DAYS, label=label, horizon_days=ro.HORIZON_DAYS
        )
        time_to.append(ro.TimeToEvent(column, label, curve, survival.methods_text(curve)))
    changed = changes.change_from_baseline(visits)
    stopped = changes.immunosuppressants_stopped(visits)
    harms = safety.safety_summary(patients, events)
    evidence = response_comparison()
    compared = outcomes.cell(*ro.COMPARED_OUTCOME)
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
        f"Adverse events are treatment-emergent (onset on or after the first infusion); rates "
        f"per 100 patient-years use {harms.patient_years:.1f} patient-years of follow-up "
        "(first infusion to the last visit or death) with exact Poisson confidence intervals.",
        "Published results are shown as each study reported them, pooled by a random-effects "
        "meta-analysis of proportions (logit transform, REML) only where the evidence rules "
        "allow; " + evidence.caveat,
    )
    return ro.OutcomesReport(
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
        figures={},
        methods=methods,
        notes=tuple(notes),
    )
