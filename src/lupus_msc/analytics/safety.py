"""Treatment-emergent adverse events by grade, seriousness, relatedness; infusion reactions; deaths.

Works on the ``patients`` and ``adverse_events`` frames of issue 7; never reads a database.

* Only treatment-emergent events count: an event with ``day < 0`` (onset before the first
  infusion) is excluded and reported as ``excluded_before_infusion``; day 0 counts.
* Only events of patients in ``patients`` count, so a slice of the cohort gives its own table.
* Grades are CTCAE v5.0 grades 1-5 (instruments.md §12). Relatedness is grouped: related =
  possible, probable or definite; not related = not-related or unlikely.
* Deaths are the patients with ``died`` (a fatal adverse event recorded), one event each.
* Patient-years = Σ over patients of (max(last_visit, death_date, first_infusion) −
  first_infusion) in days / 365.25.
* Events per 100 patient-years carry an exact Poisson interval (Garwood): for k events the bounds
  on the count are χ²(α/2; 2k)/2 (0 when k = 0) and χ²(1 − α/2; 2k + 2)/2, divided by the
  patient-years; SciPy's chi-square quantile is imported lazily.

References
----------
Garwood F. Fiducial limits for the Poisson distribution. Biometrika 1936;28:437-42.
Ulm K. A simple method to calculate the confidence interval of a standardized mortality ratio.
Am J Epidemiol 1990;131:373-5.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lupus_msc.analytics.proportions import require_columns

DAYS_PER_YEAR = 365.25
RELATED = ("possible", "probable", "definite")
NOT_RELATED = ("not-related", "unlikely")
GRADES = (1, 2, 3, 4, 5)
AE_COLUMNS = ("patient_id", "grade", "serious", "relatedness", "infusion_reaction", "day")
PATIENT_COLUMNS = ("patient_id", "first_infusion", "last_visit", "death_date", "died")


@dataclass(frozen=True)
class Rate:
    """Events per 100 patient-years with its exact Poisson confidence interval."""

    per_100_patient_years: float
    ci_low: float
    ci_high: float


def poisson_rate(events: int, patient_years: float, confidence: float = 0.95) -> Rate:
    """Events per 100 patient-years with the exact (Garwood) Poisson interval."""
    if patient_years <= 0:
        raise ValueError(f"patient_years must be positive, got patient_years={patient_years}")
    if events < 0:
        raise ValueError(f"events must be 0 or more, got events={events}")
    from scipy.stats import chi2  # here, not at the top: SciPy is slow to import

    alpha = 1 - confidence
    low = 0.0 if events == 0 else float(chi2.ppf(alpha / 2, 2 * events)) / 2
    high = float(chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    scale = 100 / patient_years
    return Rate(events * scale, low * scale, high * scale)


def patient_years(patients: pl.DataFrame) -> float:
    """Σ (max(last_visit, death_date, first_infusion) − first_infusion) days / 365.25."""
    require_columns(patients, PATIENT_COLUMNS, frame_name="patients")
    end = pl.max_horizontal("last_visit", "death_date", "first_infusion")
    days = patients.select((end - pl.col("first_infusion")).dt.total_days().sum()).item()
    return float(days or 0) / DAYS_PER_YEAR


@dataclass(frozen=True)
class SafetyRow:
    """One category: events, patients with ≥ 1 event (and % of the cohort), rate per 100 PY."""

    key: str
    label: str
    events: int
    patients: int
    percent_patients: float | None
    rate: Rate | None


@dataclass(frozen=True)
class SafetySummary:
    """Safety table of a cohort; ``rate`` is None in every row when patient-years are 0."""

    patients: int
    patient_years: float
    excluded_before_infusion: int
    confidence: float
    rows: tuple[SafetyRow, ...]

    def row(self, key: str) -> SafetyRow:
        """The row with this key ("any", "grade_1".."grade_5", "serious", "death", ...)."""
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"no safety row {key!r}")


def _categories() -> list[tuple[str, str, pl.Expr]]:
    related = pl.col("relatedness").is_in(RELATED)
    return [
        ("any", "Any adverse event", pl.lit(True)),
        *[(f"grade_{g}", f"CTCAE grade {g}", pl.col("grade") == g) for g in GRADES],
        ("serious", "Serious", pl.col("serious")),
        ("non_serious", "Not serious", ~pl.col("serious")),
        ("related", "Related (possible, probable, definite)", related),
        ("not_related", "Not related (not related, unlikely)", ~related),
        ("infusion_reaction", "Infusion reaction", pl.col("infusion_reaction")),
    ]


def _check_values(events: pl.DataFrame) -> None:
    bad_grades = events.filter(~pl.col("grade").is_in(GRADES))["grade"].unique().to_list()
    if bad_grades:
        raise ValueError(f"grade must be 1 to 5 (CTCAE §12), got grade={bad_grades}")
    known = (*RELATED, *NOT_RELATED)
    bad = events.filter(~pl.col("relatedness").is_in(known))["relatedness"].unique().to_list()
    if bad:
        raise ValueError(f"relatedness must be one of {', '.join(known)}, got relatedness={bad}")


def safety_summary(
    patients: pl.DataFrame, adverse_events: pl.DataFrame, *, confidence: float = 0.95
) -> SafetySummary:
    """Adverse events of the cohort ``patients``, treatment-emergent only (see module notes)."""
    require_columns(adverse_events, AE_COLUMNS, frame_name="adverse_events")
    years = patient_years(patients)
    cohort = adverse_events.join(patients.select("patient_id"), on="patient_id", how="semi")
    emergent = cohort.filter(pl.col("day") >= 0)
    _check_values(emergent)
    n = patients.height

    def row(key: str, label: str, events: int, with_event: int) -> SafetyRow:
        return SafetyRow(
            key=key,
            label=label,
            events=events,
            patients=with_event,
            percent_patients=100 * with_event / n if n else None,
            rate=poisson_rate(events, years, confidence) if years > 0 else None,
        )

    rows = []
    for key, label, condition in _categories():
        selected = emergent.filter(condition)
        rows.append(row(key, label, selected.height, selected["patient_id"].n_unique()))
    deaths = int(patients["died"].fill_null(False).sum())
    rows.append(row("death", "Death", deaths, deaths))
    return SafetySummary(n, years, cohort.height - emergent.height, confidence, tuple(rows))
