"""A sub-cohort of the analysis dataset: by site, tissue source, dose band and treatment period.

Filters select patients (on their ``patients`` row); their visits and adverse events follow.
An empty filter keeps everyone. The period is the date of the first infusion, both ends included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import polars as pl

from lupus_msc.analytics.dataset import AnalysisDataset


@dataclass(frozen=True)
class CohortFilter:
    sites: tuple[str, ...] = ()
    tissue_sources: tuple[str, ...] = ()
    dose_bands: tuple[str, ...] = ()
    infused_from: dt.date | None = None
    infused_to: dt.date | None = None

    def __post_init__(self) -> None:
        if (
            self.infused_from is not None
            and self.infused_to is not None
            and self.infused_from > self.infused_to
        ):
            raise ValueError("infused_from: must not be after infused_to")

    def describe(self) -> str:
        """The filter in words, for a report's heading ("all patients" when empty)."""
        parts = []
        if self.sites:
            parts.append("site " + ", ".join(self.sites))
        if self.tissue_sources:
            parts.append("tissue source " + ", ".join(self.tissue_sources))
        if self.dose_bands:
            parts.append("dose " + ", ".join(f"{band} × 10⁶/kg" for band in self.dose_bands))
        if self.infused_from or self.infused_to:
            start = self.infused_from.isoformat() if self.infused_from else "the start"
            end = self.infused_to.isoformat() if self.infused_to else "the data cut-off"
            parts.append(f"first infusion from {start} to {end}")
        return "; ".join(parts) if parts else "all patients"

    def expression(self) -> pl.Expr:
        keep = pl.lit(True)
        for column, wanted in (
            ("site", self.sites),
            ("tissue_source", self.tissue_sources),
            ("dose_band", self.dose_bands),
        ):
            if wanted:
                keep = keep & pl.col(column).is_in(list(wanted))
        if self.infused_from is not None:
            keep = keep & (pl.col("first_infusion") >= self.infused_from)
        if self.infused_to is not None:
            keep = keep & (pl.col("first_infusion") <= self.infused_to)
        return keep


def select(dataset: AnalysisDataset, chosen: CohortFilter) -> AnalysisDataset:
    """The dataset of the patients ``chosen`` keeps."""
    patients = dataset.patients.filter(chosen.expression())
    ids = patients.select("patient_id")
    return replace(
        dataset,
        patients=patients,
        visits=dataset.visits.join(ids, on="patient_id", how="semi"),
        adverse_events=dataset.adverse_events.join(ids, on="patient_id", how="semi"),
    )
