"""Baseline characteristics of the cohort (Table 1).

Works on the ``patients`` frame and the baseline (day-0) rows of the ``visits`` frame of issue 7;
never reads a database. Every row says how many patients have data (``n``) and how many do not
(``missing``); percentages are of the patients with data. Continuous rows give the median and
the interquartile range (type-7 quartiles, see :mod:`lupus_msc.analytics.changes`). UPCR is
summarised over patients with renal involvement only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from lupus_msc.analytics.changes import Quartiles, quartiles
from lupus_msc.analytics.proportions import STRATA, UNKNOWN, require_columns, stratum_labels

BASELINE_VISIT_COLUMNS = (
    "pga",
    "pred_mg_day",
    "immunosuppressants",
    "upcr",
    "egfr",
    "c3",
    "c4",
    "anti_dsdna",
    "facit",
)
PREDNISONE_THRESHOLD_MG = 7.5


@dataclass(frozen=True)
class NumericRow:
    """A continuous characteristic: median and IQR of the ``n`` patients with a value."""

    key: str
    label: str
    n: int
    missing: int
    summary: Quartiles | None
    section: str | None = None


@dataclass(frozen=True)
class Level:
    """One category: count and percent of the patients with data."""

    label: str
    count: int
    percent: float | None


@dataclass(frozen=True)
class CategoryRow:
    """A categorical characteristic with its levels in display order."""

    key: str
    label: str
    n: int
    missing: int
    levels: tuple[Level, ...]
    section: str | None = None


Row = NumericRow | CategoryRow


@dataclass(frozen=True)
class BaselineTable:
    """Table 1: the number of patients and one row per characteristic."""

    patients: int
    rows: tuple[Row, ...]

    def row(self, key: str) -> Row:
        """The row with this key (e.g. "age_years", "sex", "upcr")."""
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"no baseline row {key!r}")


def _numeric(
    frame: pl.DataFrame, key: str, label: str, column: str, section: str | None = None
) -> NumericRow:
    values = frame[column].drop_nulls().cast(pl.Float64).to_numpy()
    return NumericRow(
        key, label, values.size, frame.height - values.size, quartiles(values), section
    )


def _category(
    frame: pl.DataFrame,
    key: str,
    label: str,
    labels: pl.Expr,
    order: Sequence[str],
    section: str | None = None,
) -> CategoryRow:
    """Levels of ``order`` always shown (0 when absent), other values after them, sorted."""
    values = frame.select(labels.alias("_level"))["_level"].drop_nulls()
    counts = dict(values.value_counts().iter_rows())
    n = values.len()
    names = list(order) + sorted(set(counts) - set(order))
    levels = tuple(
        Level(name, counts.get(name, 0), 100 * counts.get(name, 0) / n if n else None)
        for name in names
    )
    return CategoryRow(key, label, n, frame.height - n, levels, section)


def _stratum(stratum: str) -> pl.Expr:
    """The stratum label of proportions.py, null instead of "unknown" (missing here)."""
    label = stratum_labels(stratum)
    return pl.when(label == UNKNOWN).then(pl.lit(None, dtype=pl.String)).otherwise(label)


def _counted(column: str) -> pl.Expr:
    count = pl.col(column)
    return pl.when(count >= 3).then(pl.lit("≥ 3")).when(count >= 0).then(count.cast(pl.String))


def _demographic_rows(frame: pl.DataFrame) -> list[Row]:
    return [
        _category(frame, "sex", "Sex", pl.col("sex"), ("female", "male")),
        _numeric(frame, "age_years", "Age, years", "age_years"),
        _numeric(frame, "disease_years", "Disease duration, years", "disease_years"),
        _category(frame, "renal", "Renal involvement", _stratum("renal"), STRATA["renal"]),
        _numeric(frame, "baseline_sledai", "SLEDAI-2K", "baseline_sledai", "§1"),
        _category(
            frame, "sledai_band", "SLEDAI-2K band", _stratum("sledai_band"), STRATA["sledai_band"]
        ),
    ]


def _visit_rows(frame: pl.DataFrame) -> list[Row]:
    """Rows from the baseline visit; UPCR over patients with renal involvement only."""
    dose = pl.col("pred_mg_day")
    high_dose = (
        pl.when(dose > PREDNISONE_THRESHOLD_MG)
        .then(pl.lit("> 7.5 mg/day"))
        .when(dose.is_not_null())
        .then(pl.lit("≤ 7.5 mg/day"))
    )
    renal = frame.filter(pl.col("renal").fill_null(False))
    return [
        _numeric(frame, "pga", "Physician global assessment (0–3)", "pga", "§3"),
        _numeric(frame, "pred_mg_day", "Prednisone-equivalent, mg/day", "pred_mg_day", "§11"),
        _category(
            frame,
            "pred_high",
            "Prednisone-equivalent above 7.5 mg/day",
            high_dose,
            ("> 7.5 mg/day", "≤ 7.5 mg/day"),
            "§11",
        ),
        _category(
            frame,
            "immunosuppressants",
            "Immunosuppressants (number)",
            _counted("immunosuppressants"),
            ("0", "1", "2", "≥ 3"),
        ),
        _numeric(renal, "upcr", "UPCR, g/g (patients with renal involvement)", "upcr", "§10"),
        _numeric(frame, "egfr", "eGFR, mL/min/1.73 m²", "egfr", "§9"),
        _numeric(frame, "c3", "C3, g/L", "c3"),
        _numeric(frame, "c4", "C4, g/L", "c4"),
        _numeric(frame, "anti_dsdna", "Anti-dsDNA, IU/mL", "anti_dsdna"),
        _numeric(frame, "facit", "FACIT-Fatigue (0–52)", "facit", "§13"),
    ]


def _product_rows(frame: pl.DataFrame) -> list[Row]:
    return [
        _category(
            frame,
            "tissue_source",
            "Tissue source",
            _stratum("tissue_source"),
            STRATA["tissue_source"][:3],
        ),
        _category(
            frame, "dose_band", "Dose, ×10⁶ cells/kg", _stratum("dose_band"), STRATA["dose_band"]
        ),
        _category(
            frame, "infusions", "Number of infusions", _stratum("infusions"), STRATA["infusions"]
        ),
    ]


def baseline_table(patients: pl.DataFrame, visits: pl.DataFrame) -> BaselineTable:
    """Table 1 of the cohort ``patients`` with the values of their baseline (day-0) visit.

    A patient without a baseline visit counts as missing in every baseline-visit row.
    """
    require_columns(
        patients,
        ("patient_id", "sex", "age_years", "disease_years", "baseline_sledai", *STRATA),
        frame_name="patients",
    )
    require_columns(
        visits, ("patient_id", "baseline", *BASELINE_VISIT_COLUMNS), frame_name="visits"
    )
    day0 = (
        visits.filter(pl.col("baseline"))
        .unique("patient_id", keep="first", maintain_order=True)
        .select("patient_id", *BASELINE_VISIT_COLUMNS)
    )
    frame = patients.join(day0, on="patient_id", how="left")
    rows = _demographic_rows(frame) + _visit_rows(frame) + _product_rows(frame)
    return BaselineTable(patients.height, tuple(rows))
