"""Outcome proportions against hand-worked values on the fixed cohort of ``small_cohort``.

Wilson intervals are checked against the formula written out here with the standard library's
normal quantile (independent of SciPy), and against the published examples of Newcombe RG,
Stat Med 1998;17:857-72, Table I (81/263, 15/148, 0/20, 1/29; four decimals).
"""

from __future__ import annotations

import math
from datetime import timedelta
from statistics import NormalDist

import polars as pl
import pytest

from lupus_msc.analytics.proportions import (
    OUTCOMES,
    STRATA,
    TIMEPOINT_DAYS,
    TIMEPOINTS,
    OutcomeCell,
    OutcomeTable,
    Proportion,
    StratifiedOutcomeTable,
    methods_text,
    outcome_table,
    proportion,
    stratified_outcome_table,
    wilson_interval,
)
from tests.analytics import small_cohort
from tests.analytics.small_cohort import AS_OF


def wilson_by_hand(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson 1927: (p + z²/2n ± z √(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = x / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


@pytest.fixture(scope="module")
def table() -> OutcomeTable:
    return outcome_table(small_cohort.patients(), small_cohort.visits(), as_of=AS_OF)


def fraction(part: Proportion) -> tuple[int, int]:
    return part.numerator, part.denominator


# --- Wilson interval -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
     (1, 29, 0.0061, 0.1718)],
)  # fmt: skip
def test_wilson_matches_newcombe_1998_table(x: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(x, n)
    assert round(got[0], 4) == low
    assert round(got[1], 4) == high


@pytest.mark.parametrize(("x", "n"), [(1, 7), (3, 7), (4, 6), (3, 5), (2, 3), (50, 100)])
@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_wilson_matches_the_formula(x: int, n: int, confidence: float) -> None:
    expected = wilson_by_hand(x, n, confidence)
    assert wilson_interval(x, n, confidence) == pytest.approx(expected, abs=1e-12)


def test_wilson_at_zero_successes_starts_at_exactly_zero() -> None:
    z2 = NormalDist().inv_cdf(0.975) ** 2
    low, high = wilson_interval(0, 7)
    assert low == 0.0
    assert high == pytest.approx(z2 / (7 + z2), abs=1e-12)  # closed form for 0/n


def test_wilson_at_all_successes_ends_at_exactly_one() -> None:
    z2 = NormalDist().inv_cdf(0.975) ** 2
    low, high = wilson_interval(3, 3)
    assert high == 1.0
    assert low == pytest.approx(3 / (3 + z2), abs=1e-12)  # closed form for n/n: 0.4385


def test_wilson_refuses_n_of_zero_naming_n() -> None:
    with pytest.raises(ValueError, match="n=0"):
        wilson_interval(0, 0)


@pytest.mark.parametrize(("x", "n"), [(-1, 5), (6, 5)])
def test_wilson_refuses_successes_outside_0_to_n(x: int, n: int) -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(x, n)


def test_a_proportion_without_denominator_has_no_estimate() -> None:
    empty = proportion(0, 0)
    assert (empty.proportion, empty.ci_low, empty.ci_high) == (None, None, None)


# --- the outcome table ------------------------------------------------------------------------


def test_nominal_days_are_those_of_the_protocol() -> None:
    assert dict(TIMEPOINT_DAYS) == {
        "month1": 30,
        "month3": 90,
        "month6": 180,
        "month12": 360,
        "month24": 720,
    }


def test_the_table_has_every_outcome_at_every_time_point(table: OutcomeTable) -> None:
    assert len(table.cells) == 9 * 5
    assert {(c.outcome, c.timepoint) for c in table.cells} == {
        (o.column, t) for o in OUTCOMES for t in TIMEPOINTS
    }
    assert table.patients == 8


def test_outcome_definitions_cite_instruments_md() -> None:
    sections = {o.column: o.section for o in OUTCOMES}
    assert sections == {
        "sri4": "§4",
        "msri4": "§4",
        "lldas": "§5",
        "doris": "§6",
        "renal_complete": "§10",
        "renal_partial_or_better": "§10",
        "pred_le_5": "§11",
        "pred_le_7_5": "§11",
        "facit_mcid": "§13",
    }
    assert {o.column for o in OUTCOMES if o.renal_only} == {
        "renal_complete",
        "renal_partial_or_better",
    }


def test_sri4_at_month_12_nri_and_observed_differ(table: OutcomeTable) -> None:
    # Due at month 12 (360 days): P1-P6 (P7 was infused 180 days before the cut-off).
    # P1 T, P2 F, P3 T, P4 missed the visit, P5 visit with SRI-4 not assessable, P6 T.
    # NRI 3/6 = 1/2; observed cases 3/4 (P1, P2, P3, P6 assessable).
    cell = table.cell("sri4", "month12")
    assert fraction(cell.nri) == (3, 6)
    assert fraction(cell.observed) == (3, 4)
    assert cell.nri.proportion == 0.5
    assert cell.observed.proportion == 0.75
    assert (cell.missing_visits, cell.not_assessable) == (1, 1)
    assert (cell.nri.ci_low, cell.nri.ci_high) == pytest.approx(wilson_by_hand(3, 6))
    assert (cell.observed.ci_low, cell.observed.ci_high) == pytest.approx(wilson_by_hand(3, 4))


def test_a_patient_not_yet_due_at_month_24_is_not_a_non_responder(table: OutcomeTable) -> None:
    # P6 was infused 400 days before the cut-off: not due (720 > 400), not in the denominator.
    # P5 was infused 715 days before, but its month-24 visit is recorded early (day 710): due.
    # Due: P1 T, P2 T, P3 F, P4 missed, P5 T -> NRI 3/5; observed 3/4.
    cell = table.cell("sri4", "month24")
    assert fraction(cell.nri) == (3, 5)
    assert fraction(cell.observed) == (3, 4)
    assert (cell.missing_visits, cell.not_assessable) == (1, 0)


def test_everybody_is_due_once_the_cut_off_is_late_enough() -> None:
    # With the cut-off 1000 days later all eight are due at month 24: P6, P7 and P8 have no
    # month-24 visit and count as non-responders: 3/8.
    late = outcome_table(
        small_cohort.patients(), small_cohort.visits(), as_of=AS_OF + timedelta(days=1000)
    )
    cell = late.cell("sri4", "month24")
    assert fraction(cell.nri) == (3, 8)
    assert cell.missing_visits == 4  # P4, P6, P7, P8
    assert fraction(cell.observed) == (3, 4)


def test_a_patient_exactly_at_the_nominal_day_is_due(table: OutcomeTable) -> None:
    # P7: infused 180 days before the cut-off, died on day 120, no month-6 visit.
    # Month 6: P1 T, P2 T, P3 F, P4 T, P5 T, P6 F, P7 missed -> NRI 4/7, observed 4/6.
    cell = table.cell("sri4", "month6")
    assert fraction(cell.nri) == (4, 7)
    assert fraction(cell.observed) == (4, 6)
    assert (cell.missing_visits, cell.not_assessable) == (1, 0)


def test_a_patient_one_day_short_of_the_nominal_day_is_not_due() -> None:
    earlier = outcome_table(
        small_cohort.patients(), small_cohort.visits(), as_of=AS_OF - timedelta(days=1)
    )
    cell = earlier.cell("sri4", "month6")  # P7 now at day 179: out of the denominator
    assert fraction(cell.nri) == (4, 6)
    assert cell.missing_visits == 0


def test_month_1_leaves_out_the_patient_infused_29_days_ago(table: OutcomeTable) -> None:
    # Due: P1-P7 (P8 at day 29 < 30). P6 is the only responder; P3 not assessable.
    cell = table.cell("sri4", "month1")
    assert fraction(cell.nri) == (1, 7)
    assert fraction(cell.observed) == (1, 6)
    assert (cell.missing_visits, cell.not_assessable) == (0, 1)


def test_unscheduled_visits_do_not_count(table: OutcomeTable) -> None:
    # P2's SRI-4 response on the unscheduled day-60 visit is not a month-3 response.
    # Month 3: P1 T, P2 F, P3 T, P4 F, P5 n/a, P6 T, P7 F -> 3/7 and 3/6.
    cell = table.cell("sri4", "month3")
    assert fraction(cell.nri) == (3, 7)
    assert fraction(cell.observed) == (3, 6)


def test_renal_outcomes_count_renal_patients_only(table: OutcomeTable) -> None:
    # Renal patients P1, P3, P5. Month 6: T, T, F -> 2/3 (not 2/7).
    month6 = table.cell("renal_complete", "month6")
    assert fraction(month6.nri) == (2, 3)
    assert fraction(month6.observed) == (2, 3)
    # Month 12: P1 T, P3 F, P5 not assessable -> NRI 1/3, observed 1/2.
    month12 = table.cell("renal_complete", "month12")
    assert fraction(month12.nri) == (1, 3)
    assert fraction(month12.observed) == (1, 2)
    assert (month12.missing_visits, month12.not_assessable) == (0, 1)
    # Month 1: every renal patient seen, none assessed: 0/3 under NRI, nothing observed.
    month1 = table.cell("renal_complete", "month1")
    assert fraction(month1.nri) == (0, 3)
    assert month1.not_assessable == 3
    assert fraction(month1.observed) == (0, 0)
    assert month1.observed.proportion is None
    assert month1.observed.ci_low is None


def test_an_outcome_reached_by_all_has_an_interval_ending_at_one(table: OutcomeTable) -> None:
    cell = table.cell("renal_partial_or_better", "month6")  # P1, P3, P5 all T
    assert fraction(cell.nri) == (3, 3)
    assert cell.nri.ci_high == 1.0
    z2 = NormalDist().inv_cdf(0.975) ** 2
    assert cell.nri.ci_low == pytest.approx(3 / (3 + z2))


def test_prednisone_thresholds_are_inclusive(table: OutcomeTable) -> None:
    # Month 6 doses: P1 5, P2 2.5, P3 10, P4 5, P5 not recorded, P6 7.5, P7 missed.
    le5 = table.cell("pred_le_5", "month6")  # P1, P2, P4
    assert fraction(le5.nri) == (3, 7)
    assert fraction(le5.observed) == (3, 5)
    le75 = table.cell("pred_le_7_5", "month6")  # and P6 at exactly 7.5
    assert fraction(le75.nri) == (4, 7)
    assert fraction(le75.observed) == (4, 5)


def test_an_outcome_never_assessed_is_zero_under_nri(table: OutcomeTable) -> None:
    cell = table.cell("lldas", "month1")
    assert fraction(cell.nri) == (0, 7)
    assert cell.nri.ci_low == 0.0
    assert cell.nri.ci_high == pytest.approx(wilson_by_hand(0, 7)[1])
    assert cell.not_assessable == 7
    assert cell.observed.proportion is None


def test_nri_denominator_is_observed_plus_missing_plus_not_assessable(table: OutcomeTable) -> None:
    for cell in table.cells:
        assert cell.nri.denominator == (
            cell.observed.denominator + cell.missing_visits + cell.not_assessable
        )
        assert cell.nri.numerator == cell.observed.numerator <= cell.observed.denominator


def test_a_visit_recorded_twice_counts_once_with_the_later_record() -> None:
    visits = small_cohort.visits()
    again = visits.filter((pl.col("patient_id") == "P4") & (pl.col("timepoint") == "month6"))
    again = again.with_columns(
        pl.col("visit_date") + timedelta(days=2), pl.col("day") + 2, pl.lit(False).alias("sri4")
    )
    twice = pl.concat([visits, again]).sort("patient_id", "visit_date")
    cell = outcome_table(small_cohort.patients(), twice, as_of=AS_OF).cell("sri4", "month6")
    # P4's later month-6 record says F: P1, P2, P5 respond -> 3/7, observed 3/6
    assert fraction(cell.nri) == (3, 7)
    assert fraction(cell.observed) == (3, 6)


def test_visits_of_patients_outside_the_cohort_are_ignored() -> None:
    renal = small_cohort.patients().filter(pl.col("renal"))
    cell = outcome_table(renal, small_cohort.visits(), as_of=AS_OF).cell("sri4", "month12")
    assert fraction(cell.nri) == (2, 3)  # P1 T, P3 T, P5 n/a


def test_a_missing_column_is_named() -> None:
    visits = small_cohort.visits().drop("doris")
    with pytest.raises(ValueError, match="doris"):
        outcome_table(small_cohort.patients(), visits, as_of=AS_OF)


# --- stratified --------------------------------------------------------------------------------


def strata(stratum: str) -> StratifiedOutcomeTable:
    return stratified_outcome_table(
        small_cohort.patients(), small_cohort.visits(), stratum=stratum, as_of=AS_OF
    )


def test_stratified_by_renal_involvement() -> None:
    table = strata("renal")
    assert [(s.label, s.patients) for s in table.strata] == [("yes", 3), ("no", 5)]
    # renal: P1 T, P3 T, P5 n/a -> 2/3, observed 2/2
    yes = table.level("yes").table.cell("sri4", "month12")
    assert (fraction(yes.nri), fraction(yes.observed)) == ((2, 3), (2, 2))
    # non-renal, due at month 12: P2 F, P4 missed, P6 T -> 1/3, observed 1/2
    no = table.level("no").table.cell("sri4", "month12")
    assert (fraction(no.nri), fraction(no.observed)) == ((1, 3), (1, 2))


def test_infusions_are_grouped_1_2_and_3_or_more() -> None:
    table = strata("infusions")
    # infusions: P1 1, P2 2, P3 3, P4 1, P5 2, P6 1, P7 4, P8 1
    assert [(s.label, s.patients) for s in table.strata] == [("1", 4), ("2", 2), ("≥ 3", 2)]
    cell = table.level("≥ 3").table.cell("sri4", "month3")  # P3 T, P7 F
    assert fraction(cell.nri) == (1, 2)


def test_a_null_stratum_value_forms_an_unknown_group_listed_last() -> None:
    table = strata("tissue_source")
    assert [(s.label, s.patients) for s in table.strata] == [
        ("umbilical-cord", 3),
        ("bone-marrow", 2),
        ("adipose", 2),
        ("unknown", 1),
    ]
    cell = table.level("unknown").table.cell("sri4", "month1")  # P6 alone, T
    assert fraction(cell.nri) == (1, 1)


@pytest.mark.parametrize(
    ("stratum", "expected"),
    [
        ("dose_band", [("< 1", 2), ("1 to < 2", 3), ("≥ 2", 2), ("unknown", 1)]),
        ("sledai_band", [("0–5", 1), ("6–9", 2), ("10–14", 2), ("≥ 15", 2), ("unknown", 1)]),
    ],
)
def test_bands_keep_their_clinical_order(stratum: str, expected: list[tuple[str, int]]) -> None:
    assert [(s.label, s.patients) for s in strata(stratum).strata] == expected


@pytest.mark.parametrize("stratum", list(STRATA))
def test_strata_add_up_to_the_whole_cohort(stratum: str, table: OutcomeTable) -> None:
    parts = strata(stratum).strata
    assert sum(s.patients for s in parts) == 8
    for cell in table.cells:
        pieces: list[OutcomeCell] = [s.table.cell(cell.outcome, cell.timepoint) for s in parts]
        assert sum(p.nri.numerator for p in pieces) == cell.nri.numerator
        assert sum(p.nri.denominator for p in pieces) == cell.nri.denominator
        assert sum(p.observed.denominator for p in pieces) == cell.observed.denominator


def test_an_unknown_stratum_name_is_refused() -> None:
    with pytest.raises(ValueError, match="site"):
        strata("site")


# --- methods text -----------------------------------------------------------------------------


def test_methods_text_says_what_was_computed(table: OutcomeTable) -> None:
    text = methods_text(table)
    for phrase in (
        "non-responder imputation",
        "observed cases",
        "Wilson score",
        "95%",
        "2025-06-30",
        "30, 90, 180, 360, 720 days",
        "renal involvement only",
    ):
        assert phrase in text
