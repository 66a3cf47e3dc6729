"""The Cohort page's numbers: the analysis dataset of a user's sites, kept in memory while the
registry is unchanged, and the outcomes report's tables computed from it without the figures.

* ``DatasetCache`` is the dashboard's ``FigureCache`` (services/dashboard.py) holding analysis
  datasets: one per set of sites and day, exact until the audit chain's head moves (every write
  moves it). Building a dataset reads the registry and scores every visit with the batch engine
  (``analytics.dataset``): ~0.15 s on the demo's 199 patients, growing with the registry; a
  registry whose dataset takes longer than ``SLOW`` gets the previous dataset, marked stale, while
  one background build brings it up to date (the dashboard's rule).
* ``cohort_report`` is ``analytics.report_outcomes.outcomes_report`` without its SVG figures:
  drawing them with matplotlib is most of that function's time (~1.5 s of ~1.8 s on the demo
  cohort), and the page draws its own interactive charts from the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from lupus_msc.analytics import changes
from lupus_msc.analytics import report_outcomes as ro
from lupus_msc.analytics.cohort_filter import CohortFilter
from lupus_msc.analytics.dataset import AnalysisDataset, build
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
    """The outcomes report's tables, methods and notes without its SVG figures (module doc)."""
    return ro.outcomes_report(dataset, cohort=cohort, title=title, with_figures=False)
