"""Proportions of patients reaching each outcome, per protocol time point, with Wilson intervals.

Works on the analysis frames of issue 7 (``patients`` and ``visits``, see the analytics contract);
never reads a database. Two analyses are always computed side by side:

* **non-responder imputation (NRI, primary)** — the denominator is every patient of the cohort
  whose follow-up has *reached* the time point by the data cut-off ``as_of``; a missed visit, or a
  visit where the outcome could not be assessed (null), counts as non-response;
* **observed cases (sensitivity)** — the denominator is the patients with an assessable
  (non-null) outcome at that visit.

"Reached" matters: a patient infused last month is not yet due for the month-6 visit, and counting
them as a non-responder would bias every recent cohort downwards. A patient is due when
``first_infusion + nominal day <= as_of`` (:data:`TIMEPOINT_DAYS`), or when a visit for that time
point is already recorded (an early visit inside its window), so a numerator never exceeds its
denominator. Renal outcomes (§10) count patients with renal involvement only.

Confidence intervals are Wilson score intervals; the normal quantile comes from
``scipy.stats.norm.ppf`` (for 95 %: z = 1.959963984540054), imported lazily.

References
----------
Wilson EB. Probable inference, the law of succession, and statistical inference.
J Am Stat Assoc 1927;22:209-12.
Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
methods. Stat Med 1998;17:857-72 (Table I: 81/263 gives 0.2553 to 0.3662).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import polars as pl

#: Nominal study day of each protocol time point (day 0 = first infusion).
TIMEPOINT_DAYS: Mapping[str, int] = MappingProxyType(
    {"month1": 30, "month3": 90, "month6": 180, "month12": 360, "month24": 720}
)
TIMEPOINTS: tuple[str, ...] = tuple(TIMEPOINT_DAYS)


@dataclass(frozen=True)
class OutcomeDefinition:
    """One binary outcome column of ``visits``, its label and its section of instruments.md."""

    column: str
    label: str
    section: str
    renal_only: bool = False


OUTCOMES: tuple[OutcomeDefinition, ...] = (
    OutcomeDefinition("sri4", "SRI-4 response", "§4"),
    OutcomeDefinition("msri4", "Modified SRI-4 (no BILAG) response", "§4"),
    OutcomeDefinition("lldas", "LLDAS", "§5"),
    OutcomeDefinition("doris", "DORIS 2021 remission", "§6"),
    OutcomeDefinition("renal_complete", "Renal complete response", "§10", renal_only=True),
    OutcomeDefinition(
        "renal_partial_or_better", "Renal partial or complete response", "§10", renal_only=True
    ),
    OutcomeDefinition("pred_le_5", "Prednisone-equivalent ≤ 5 mg/day", "§11"),
    OutcomeDefinition("pred_le_7_5", "Prednisone-equivalent ≤ 7.5 mg/day", "§11"),
    OutcomeDefinition("facit_mcid", "FACIT-F improvement ≥ 4 points (MCID)", "§13"),
)

#: Stratum columns of ``patients`` and the display order of their known levels.
STRATA: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "tissue_source": ("umbilical-cord", "bone-marrow", "adipose", "mixed"),
        "dose_band": ("< 1", "1 to < 2", "≥ 2"),
        "infusions": ("1", "2", "≥ 3"),
        "sledai_band": ("0–5", "6–9", "10–14", "≥ 15"),
        "renal": ("yes", "no"),
    }
)
UNKNOWN = "unknown"

PATIENT_COLUMNS = ("patient_id", "renal", "first_infusion")
VISIT_COLUMNS = ("patient_id", "timepoint")


def require_columns(frame: pl.DataFrame, columns: Iterable[str], *, frame_name: str) -> None:
    """Raise ValueError naming every column the frame lacks (contract of issue 7)."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"the {frame_name} frame lacks column(s) {', '.join(missing)}")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n``, clipped to [0, 1].

    The bounds are exactly 0 for 0/n and exactly 1 for n/n.
    """
    if n <= 0:
        raise ValueError(f"n must be at least 1 for a confidence interval, got n={n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got successes={successes}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got confidence={confidence}")
    from scipy.stats import norm  # here, not at the top: SciPy is slow to import

    z = float(norm.ppf((1 + confidence) / 2))
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Proportion:
    """numerator / denominator with its Wilson interval; None when the denominator is 0."""

    numerator: int
    denominator: int
    proportion: float | None
    ci_low: float | None
    ci_high: float | None


def proportion(numerator: int, denominator: int, confidence: float = 0.95) -> Proportion:
    """A :class:`Proportion`, with no estimate or interval when nobody is in the denominator."""
    if denominator == 0:
        return Proportion(numerator, 0, None, None, None)
    low, high = wilson_interval(numerator, denominator, confidence)
    return Proportion(numerator, denominator, numerator / denominator, low, high)


@dataclass(frozen=True)
class OutcomeCell:
    """One outcome at one time point.

    ``nri.denominator`` is the number of eligible patients due at the time point; of them,
    ``missing_visits`` had no visit recorded and ``not_assessable`` had a visit with a null outcome
    (both count as non-response in ``nri``, neither is in ``observed``).
    """

    outcome: str
    timepoint: str
    nri: Proportion
    observed: Proportion
    missing_visits: int
    not_assessable: int


@dataclass(frozen=True)
class OutcomeTable:
    """Every outcome of :data:`OUTCOMES` × every time point of :data:`TIMEPOINTS`."""

    as_of: date
    confidence: float
    patients: int
    cells: tuple[OutcomeCell, ...]

    def cell(self, outcome: str, timepoint: str) -> OutcomeCell:
        """The cell of one outcome column at one time point."""
        for cell in self.cells:
            if cell.outcome == outcome and cell.timepoint == timepoint:
                return cell
        raise KeyError(f"no cell for outcome={outcome!r}, timepoint={timepoint!r}")


def _visits_at(visits: pl.DataFrame, timepoint: str) -> pl.DataFrame:
    """One row per patient at the time point; of a visit recorded twice, the later one.

    ``visits`` is sorted by patient and visit date (analytics contract).
    """
    columns = [outcome.column for outcome in OUTCOMES]
    return (
        visits.filter(pl.col("timepoint") == timepoint)
        .unique("patient_id", keep="last", maintain_order=True)
        .select("patient_id", *columns)
        .with_columns(pl.lit(True).alias("_visited"))
    )


def _timepoint_cells(
    cohort: pl.DataFrame, visits: pl.DataFrame, timepoint: str, as_of: date, confidence: float
) -> list[OutcomeCell]:
    visited = pl.col("_visited")
    due = (
        cohort.join(_visits_at(visits, timepoint), on="patient_id", how="left")
        .with_columns(visited.fill_null(False), pl.col("renal").fill_null(False))
        .filter(
            (pl.col("first_infusion") + pl.duration(days=TIMEPOINT_DAYS[timepoint]) <= as_of)
            | visited
        )
    )
    cells = []
    for outcome in OUTCOMES:
        eligible = pl.col("renal") if outcome.renal_only else pl.lit(True)
        value = pl.col(outcome.column)
        counts = due.filter(eligible).select(
            pl.len().alias("due"),
            value.fill_null(False).sum().alias("true"),
            value.is_not_null().sum().alias("observed"),
            (~visited).sum().alias("missing"),
            (visited & value.is_null()).sum().alias("not_assessable"),
        )
        row = counts.row(0, named=True)
        cells.append(
            OutcomeCell(
                outcome=outcome.column,
                timepoint=timepoint,
                nri=proportion(row["true"], row["due"], confidence),
                observed=proportion(row["true"], row["observed"], confidence),
                missing_visits=row["missing"],
                not_assessable=row["not_assessable"],
            )
        )
    return cells


def outcome_table(
    patients: pl.DataFrame, visits: pl.DataFrame, *, as_of: date, confidence: float = 0.95
) -> OutcomeTable:
    """Proportions of every outcome at every time point, NRI (primary) and observed cases.

    Parameters
    ----------
    patients : the cohort (one row per patient); only its patients are counted.
    visits : the visit frame; visits of patients outside ``patients`` are ignored.
    as_of : the data cut-off date that decides which patients are due at each time point.
    confidence : the confidence level of the Wilson intervals.
    """
    require_columns(patients, PATIENT_COLUMNS, frame_name="patients")
    require_columns(visits, VISIT_COLUMNS + tuple(o.column for o in OUTCOMES), frame_name="visits")
    cohort = patients.select(PATIENT_COLUMNS)
    cells = [
        cell
        for timepoint in TIMEPOINTS
        for cell in _timepoint_cells(cohort, visits, timepoint, as_of, confidence)
    ]
    return OutcomeTable(as_of, confidence, patients.height, tuple(cells))


def stratum_labels(stratum: str) -> pl.Expr:
    """The stratum label of each patient; a null value becomes :data:`UNKNOWN`."""
    if stratum not in STRATA:
        raise ValueError(f"stratum must be one of {', '.join(STRATA)}, got stratum={stratum!r}")
    column = pl.col(stratum)
    label: pl.Expr
    if stratum == "infusions":
        label = (
            pl.when(column == 1)
            .then(pl.lit("1"))
            .when(column == 2)
            .then(pl.lit("2"))
            .when(column >= 3)
            .then(pl.lit("≥ 3"))
        )
    elif stratum == "renal":
        label = pl.when(column).then(pl.lit("yes")).when(~column).then(pl.lit("no"))
    else:
        label = column.cast(pl.String)
    return label.fill_null(UNKNOWN)


def _ordered(stratum: str, present: Iterable[str]) -> list[str]:
    known = STRATA[stratum]
    found = set(present)
    extra = sorted(found - set(known) - {UNKNOWN})
    tail = [UNKNOWN] if UNKNOWN in found else []
    return [level for level in known if level in found] + extra + tail


@dataclass(frozen=True)
class Stratum:
    """The outcome table of the patients of one stratum level."""

    label: str
    patients: int
    table: OutcomeTable


@dataclass(frozen=True)
class StratifiedOutcomeTable:
    """Outcome tables per level of one stratum column, in display order ("unknown" last)."""

    stratum: str
    strata: tuple[Stratum, ...]

    def level(self, label: str) -> Stratum:
        """The stratum with this label."""
        for stratum in self.strata:
            if stratum.label == label:
                return stratum
        raise KeyError(f"no stratum {label!r} of {self.stratum}")


def stratified_outcome_table(
    patients: pl.DataFrame,
    visits: pl.DataFrame,
    *,
    stratum: str,
    as_of: date,
    confidence: float = 0.95,
) -> StratifiedOutcomeTable:
    """:func:`outcome_table` for each level of ``stratum`` (a key of :data:`STRATA`)."""
    labelled = patients.with_columns(stratum_labels(stratum).alias("_stratum"))
    strata = []
    for label in _ordered(stratum, labelled["_stratum"].unique().to_list()):
        members = labelled.filter(pl.col("_stratum") == label).drop("_stratum")
        table = outcome_table(members, visits, as_of=as_of, confidence=confidence)
        strata.append(Stratum(label, members.height, table))
    return StratifiedOutcomeTable(stratum, tuple(strata))


def methods_text(table: OutcomeTable) -> str:
    """Describe what :func:`outcome_table` computed, for the methods section of a report."""
    days = ", ".join(str(TIMEPOINT_DAYS[t]) for t in TIMEPOINTS)
    level = f"{table.confidence * 100:g}%"
    return (
        f"Proportions were computed at months 1, 3, 6, 12 and 24 after the first infusion among "
        f"patients whose follow-up had reached the time point by the data cut-off of "
        f"{table.as_of.isoformat()} (first infusion plus {days} days, or the visit already "
        f"recorded), renal responses among patients with renal involvement only; the primary "
        f"analysis counts a missed visit or an outcome that could not be assessed as "
        f"non-response (non-responder imputation), and a sensitivity analysis uses observed "
        f"cases only. {level} confidence intervals are Wilson score intervals."
    )
