"""Safety table on ``small_cohort`` against hand counts; exact Poisson rates against references.

Exact Poisson limits are checked (a) against published values: 0 events → upper limit 3.689
(so 0 events in 10 patient-years → 36.89 per 100 PY) and 7 events → 2.814 to 14.423 (Garwood
1936 limits as tabulated e.g. by Ulm, Am J Epidemiol 1990;131:373-5), and (b) against limits
found here by bisection on the Poisson distribution function, without SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import polars as pl
import pytest

from lupus_msc.analytics.safety import (
    SafetyRow,
    SafetySummary,
    patient_years,
    poisson_rate,
    safety_summary,
)
from tests.analytics import small_cohort

# Follow-up days (max(last visit, death, first infusion) - first infusion):
# P1 720, P2 721, P3 718, P4 180, P5 710, P6 361, P7 120 (death after last visit on day 90),
# P8 0 (no visit after day 0) -> 3530 days.
PATIENT_YEARS = 3530 / 365.25


def poisson_cdf(k: int, mean: float) -> float:
    return sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k + 1))


def bisect(too_low: Callable[[float], bool], low: float, high: float) -> float:
    """The mean where ``too_low`` turns false, to machine precision."""
    for _ in range(200):
        middle = (low + high) / 2
        if too_low(middle):
            low = middle
        else:
            high = middle
    return (low + high) / 2


def exact_limits(k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Garwood limits by definition: P(X >= k | low) = α/2 and P(X <= k | high) = α/2."""
    tail = (1 - confidence) / 2
    low = 0.0 if k == 0 else bisect(lambda m: 1 - poisson_cdf(k - 1, m) < tail, 0, 100)
    high = bisect(lambda m: poisson_cdf(k, m) > tail, 0, 100)
    return low, high


@pytest.fixture(scope="module")
def summary() -> SafetySummary:
    return safety_summary(small_cohort.patients(), small_cohort.adverse_events())


def counts(row: SafetyRow) -> tuple[int, int, float | None]:
    return row.events, row.patients, row.percent_patients


# --- exact Poisson rates -----------------------------------------------------------------------


def test_zero_events_in_ten_patient_years() -> None:
    rate = poisson_rate(0, 10.0)
    assert rate.per_100_patient_years == 0.0
    assert rate.ci_low == 0.0
    assert round(rate.ci_high, 2) == 36.89


def test_seven_events_match_the_published_exact_limits() -> None:
    rate = poisson_rate(7, 100.0)  # per 100 PY equals the count itself
    assert rate.per_100_patient_years == 7.0
    assert (round(rate.ci_low, 3), round(rate.ci_high, 3)) == (2.814, 14.423)


@pytest.mark.parametrize("k", [0, 1, 2, 5, 7, 12])
@pytest.mark.parametrize("confidence", [0.90, 0.95])
def test_poisson_limits_match_the_distribution_function(k: int, confidence: float) -> None:
    low, high = exact_limits(k, confidence)
    rate = poisson_rate(k, 100.0, confidence)
    assert (rate.ci_low, rate.ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-12)


def test_rate_needs_patient_years() -> None:
    with pytest.raises(ValueError, match="patient_years"):
        poisson_rate(1, 0.0)


# --- patient-years -----------------------------------------------------------------------------


def test_patient_years_run_to_the_last_visit_or_death() -> None:
    assert patient_years(small_cohort.patients()) == pytest.approx(PATIENT_YEARS, rel=1e-12)


# --- the table ---------------------------------------------------------------------------------


def test_events_before_the_first_infusion_are_not_counted(summary: SafetySummary) -> None:
    # P3's grade-1 event on day -5 is excluded: 7 of 8 events are treatment-emergent.
    assert summary.excluded_before_infusion == 1
    assert counts(summary.row("any")) == (7, 5, 62.5)  # P1, P2, P3, P5, P7 of 8
    # grade 1: P1 day 0 (infusion day counts), P5 day 200, P1 day 300 -> 3 events, 2 patients;
    # with the day -5 event it would be 4 events in 3 patients.
    assert counts(summary.row("grade_1")) == (3, 2, 25.0)


def test_events_by_grade(summary: SafetySummary) -> None:
    assert counts(summary.row("grade_2")) == (2, 2, 25.0)  # P1 day 40, P3 day 1
    assert counts(summary.row("grade_3")) == (1, 1, 12.5)  # P2
    assert counts(summary.row("grade_4")) == (0, 0, 0.0)
    assert counts(summary.row("grade_5")) == (1, 1, 12.5)  # P7


def test_events_by_seriousness(summary: SafetySummary) -> None:
    assert counts(summary.row("serious")) == (2, 2, 25.0)  # P2 grade 3, P7 grade 5
    assert counts(summary.row("non_serious")) == (5, 3, 37.5)  # P1 ×3, P3, P5


def test_relatedness_is_grouped(summary: SafetySummary) -> None:
    # related: definite (P1), possible (P1), probable (P3)
    assert counts(summary.row("related")) == (3, 2, 25.0)
    # not related: unlikely (P2), not-related (P5), unlikely (P7), not-related (P1)
    assert counts(summary.row("not_related")) == (4, 4, 50.0)


def test_infusion_reactions_and_deaths(summary: SafetySummary) -> None:
    assert counts(summary.row("infusion_reaction")) == (2, 2, 25.0)  # P1 day 0, P3 day 1
    assert counts(summary.row("death")) == (1, 1, 12.5)  # P7


def test_rates_are_per_100_patient_years_with_exact_limits(summary: SafetySummary) -> None:
    assert summary.patient_years == pytest.approx(PATIENT_YEARS)
    rate = summary.row("any").rate
    assert rate is not None
    # 7 events / 9.6646 PY × 100 = 72.43 per 100 PY
    assert rate.per_100_patient_years == pytest.approx(7 / PATIENT_YEARS * 100)
    low, high = exact_limits(7)
    assert rate.ci_low == pytest.approx(low / PATIENT_YEARS * 100, rel=1e-9)
    assert rate.ci_high == pytest.approx(high / PATIENT_YEARS * 100, rel=1e-9)
    none = summary.row("grade_4").rate
    assert none is not None
    assert none.per_100_patient_years == 0.0
    assert none.ci_high == pytest.approx(exact_limits(0)[1] / PATIENT_YEARS * 100, rel=1e-9)


def test_a_slice_of_the_cohort_counts_its_own_events_and_time() -> None:
    renal = small_cohort.patients().filter(pl.col("renal"))  # P1, P3, P5
    summary = safety_summary(renal, small_cohort.adverse_events())
    assert summary.patients == 3
    assert summary.patient_years == pytest.approx((720 + 718 + 710) / 365.25)
    assert counts(summary.row("any"))[:2] == (5, 3)  # P1 ×3, P3 day 1, P5
    assert summary.excluded_before_infusion == 1  # P3 day -5
    assert counts(summary.row("death"))[:2] == (0, 0)


def test_no_follow_up_time_gives_no_rates() -> None:
    only_p8 = small_cohort.patients().filter(pl.col("patient_id") == "P8")
    summary = safety_summary(only_p8, small_cohort.adverse_events())
    assert summary.patient_years == 0.0
    assert all(row.rate is None for row in summary.rows)


def test_an_unknown_relatedness_is_refused() -> None:
    events = small_cohort.adverse_events().with_columns(
        pl.when(pl.col("term") == "event 2")
        .then(pl.lit("maybe"))
        .otherwise(pl.col("relatedness"))
        .alias("relatedness")
    )
    with pytest.raises(ValueError, match="maybe"):
        safety_summary(small_cohort.patients(), events)


def test_a_grade_outside_1_to_5_is_refused() -> None:
    events = small_cohort.adverse_events().with_columns(pl.lit(6, dtype=pl.Int64).alias("grade"))
    with pytest.raises(ValueError, match="grade"):
        safety_summary(small_cohort.patients(), events)
