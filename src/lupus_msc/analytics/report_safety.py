"""The safety report for a data and safety monitoring board, from the analysis dataset.

The summary (``safety.safety_summary``: treatment-emergent events by CTCAE grade §12,
seriousness and relatedness, per 100 patient-years), events by term, a listing of every serious
event and death with the patient's study code and the day of onset, and infusion reactions
counted by term and grade (each one is in the analysis dataset; a registry-wide listing of
thousands of mild reactions would bury the serious ones).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from lupus_msc import __version__
from lupus_msc.analytics import safety
from lupus_msc.analytics.cohort_filter import CohortFilter
from lupus_msc.analytics.dataset import AnalysisDataset
from lupus_msc.analytics.report_outcomes import safety_figure

LISTED = ("patient_id", "term", "ctcae_term", "grade", "serious", "relatedness", "day", "fatal")


@dataclass(frozen=True)
class TermCount:
    term: str
    events: int
    patients: int
    worst_grade: int


@dataclass(frozen=True)
class ReactionCount:
    term: str
    grade: int
    events: int
    patients: int
    serious: int


@dataclass(frozen=True)
class SafetyReport:
    title: str
    as_of: dt.date
    cohort: str
    generated: str
    summary: safety.SafetySummary
    terms: tuple[TermCount, ...]
    serious: tuple[dict[str, object], ...]
    infusion_reactions: tuple[ReactionCount, ...]
    figures: dict[str, str]


def _listing(events: pl.DataFrame, keep: pl.Expr) -> tuple[dict[str, object], ...]:
    chosen = events.filter(keep).sort("day", "patient_id").select(LISTED)
    return tuple(chosen.iter_rows(named=True))


def _reactions(events: pl.DataFrame) -> tuple[ReactionCount, ...]:
    counted = (
        events.filter(pl.col("infusion_reaction"))
        .with_columns(pl.coalesce("ctcae_term", "term").alias("_term"))
        .group_by("_term", "grade")
        .agg(
            pl.len().alias("events"),
            pl.col("patient_id").n_unique().alias("patients"),
            pl.col("serious").sum().alias("serious"),
        )
        .sort("_term", "grade")
    )
    return tuple(
        ReactionCount(row["_term"], row["grade"], row["events"], row["patients"], row["serious"])
        for row in counted.iter_rows(named=True)
    )


def safety_report(
    dataset: AnalysisDataset, *, cohort: CohortFilter | None = None, title: str = "Safety report"
) -> SafetyReport:
    """The safety report of the dataset's patients (treatment-emergent events only)."""
    if dataset.patients.height == 0:
        raise ValueError("cohort: no infused patient matches the report's filter")
    summary = safety.safety_summary(dataset.patients, dataset.adverse_events)
    emergent = dataset.adverse_events.filter(pl.col("day") >= 0)
    terms = (
        emergent.with_columns(pl.coalesce("ctcae_term", "term").alias("_term"))
        .group_by("_term")
        .agg(
            pl.len().alias("events"),
            pl.col("patient_id").n_unique().alias("patients"),
            pl.col("grade").max().alias("worst"),
        )
        .sort(["events", "_term"], descending=[True, False])
    )
    return SafetyReport(
        title=title,
        as_of=dataset.as_of,
        cohort=(cohort or CohortFilter()).describe(),
        generated=f"lupus-msc {__version__}",
        summary=summary,
        terms=tuple(
            TermCount(row["_term"], row["events"], row["patients"], row["worst"])
            for row in terms.iter_rows(named=True)
        ),
        serious=_listing(emergent, pl.col("serious") | pl.col("fatal")),
        infusion_reactions=_reactions(emergent),
        figures={"safety": safety_figure(summary)},
    )
