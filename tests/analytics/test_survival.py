"""Kaplan–Meier estimates against a hand-worked example; event times from a hand-built cohort.

The hand-worked example (8 patients, days and whether the event was observed)::

    30 E   90 E   90 c   150 E   150 E   210 c   240 E   300 c

Product-limit S(t) = Π (1 − d/n) over event times ≤ t; a censoring tied with an event (day 90)
is counted after it, so that patient is still at risk at day 90:

    day   n at risk  d   S(t)                       Greenwood V(t) = Σ d / (n (n − d))
    30    8          1   7/8                        1/(8·7)                  = 1/56
    90    7          1   7/8 · 6/7 = 3/4            1/56 + 1/(7·6)           = 1/24
    150   5          2   3/4 · 3/5 = 9/20           1/24 + 2/(5·3)           = 7/40
    210   3          0   9/20 (censoring only)      7/40
    240   2          1   9/20 · 1/2 = 9/40          7/40 + 1/(2·1)           = 27/40
    300   1          0   9/40 (censoring only)      27/40

Median: the smallest t with S(t) ≤ 1/2 is day 150 (S falls from 3/4 to 9/20 there).
log(−log) 95% interval at day 150: θ = log(−log(9/20)), se = √(7/40) / |log(9/20)|,
interval exp(−exp(θ ± 1.959964 · se)) — computed below with ``math`` (``_loglog``).
Numbers at risk (time ≥ day): day 0 → 8, 90 → 7 (both day-90 patients), 180 → 3, 365 → 0.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from statistics import NormalDist

import polars as pl
import pytest

from lupus_msc.analytics.survival import (
    KaplanMeier,
    first_event_times,
    kaplan_meier,
    methods_text,
)

TOLERANCE = 1e-12
Z = NormalDist().inv_cdf(0.975)

DAYS = [30, 90, 90, 150, 150, 210, 240, 300]
EVENTS = [True, True, False, True, True, False, True, False]
#: (day, S(t), Greenwood V(t)) from the table in the module docstring.
HAND = [
    (0, Fraction(1), Fraction(0)),
    (30, Fraction(7, 8), Fraction(1, 56)),
    (90, Fraction(3, 4), Fraction(1, 24)),
    (150, Fraction(9, 20), Fraction(7, 40)),
    (210, Fraction(9, 20), Fraction(7, 40)),
    (240, Fraction(9, 40), Fraction(27, 40)),
    (300, Fraction(9, 40), Fraction(27, 40)),
]


def _times(days: list[int], events: list[bool]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": [f"P{i:02d}" for i in range(len(days))],
            "days": days,
            "event": events,
        },
        schema={"patient_id": pl.String, "days": pl.Int64, "event": pl.Boolean},
    )


def _loglog(s: float, v: float) -> tuple[float, float]:
    """The log(−log) (exponential Greenwood) 95% interval of S(t) with Greenwood sum V(t)."""
    if s == 1.0:
        return 1.0, 1.0
    theta = math.log(-math.log(s))
    se = math.sqrt(v) / abs(math.log(s))
    return math.exp(-math.exp(theta + Z * se)), math.exp(-math.exp(theta - Z * se))


@pytest.fixture
def worked() -> KaplanMeier:
    return kaplan_meier(_times(DAYS, EVENTS), at_risk_days=(0, 90, 180, 365), label="first LLDAS")


def test_product_limit_matches_the_hand_worked_example(worked: KaplanMeier) -> None:
    assert worked.timeline == tuple(day for day, _, _ in HAND)
    assert worked.survival == pytest.approx([float(s) for _, s, _ in HAND], abs=TOLERANCE)
    assert (worked.n, worked.events, worked.censored) == (8, 5, 3)


def test_a_censoring_tied_with_an_event_is_still_at_risk_for_it(worked: KaplanMeier) -> None:
    # Counted before the event, the day-90 factor would be 5/6 (S = 35/48), not 6/7 (S = 3/4).
    assert worked.survival_at(90) == pytest.approx(0.75, abs=TOLERANCE)
    assert worked.survival_at(90) != pytest.approx(35 / 48, abs=1e-6)


def test_loglog_interval_at_day_150_follows_greenwood() -> None:
    result = kaplan_meier(_times(DAYS, EVENTS))
    s, v = 9 / 20, 7 / 40
    theta = math.log(-math.log(s))
    se = math.sqrt(v) / abs(math.log(s))
    low, high = math.exp(-math.exp(theta + Z * se)), math.exp(-math.exp(theta - Z * se))
    i = result.timeline.index(150)
    assert result.ci_low[i] == pytest.approx(low, abs=TOLERANCE)
    assert result.ci_high[i] == pytest.approx(high, abs=TOLERANCE)
    assert low < s < high


def test_loglog_band_matches_at_every_time(worked: KaplanMeier) -> None:
    expected = [_loglog(float(s), float(v)) for _, s, v in HAND]
    assert worked.ci_low == pytest.approx([lo for lo, _ in expected], abs=TOLERANCE)
    assert worked.ci_high == pytest.approx([hi for _, hi in expected], abs=TOLERANCE)


def test_numbers_at_risk_count_patients_still_followed_at_each_day(worked: KaplanMeier) -> None:
    assert worked.at_risk == ((0, 8), (90, 7), (180, 3), (365, 0))


def test_median_and_its_interval_are_read_off_the_curve_and_band(worked: KaplanMeier) -> None:
    band = [(day, *_loglog(float(s), float(v))) for day, s, v in HAND]
    first_low = next(day for day, lo, _ in band if lo <= 0.5)
    assert all(hi > 0.5 for _, _, hi in band)  # the upper curve never reaches 0.5
    assert worked.median_days == 150
    assert worked.median_ci == (first_low, None)
    assert first_low == 30


def test_median_at_an_exact_half_is_the_first_time_s_reaches_it() -> None:
    # S: 3/4 at 10, 1/2 at 20, 1/4 at 30. Smallest t with S(t) ≤ 1/2 is 20 (R's survfit would
    # report the midpoint 25 of the flat stretch at 1/2; lifelines, and this module, do not).
    result = kaplan_meier(_times([10, 20, 30, 40], [True] * 4))
    assert result.median_days == 20


def test_median_not_reached_is_none() -> None:
    result = kaplan_meier(_times([90, 180, 365, 400], [True, False, False, False]))
    assert result.survival[-1] == pytest.approx(0.75, abs=TOLERANCE)
    assert result.median_days is None
    assert result.median_ci[1] is None


def test_all_censored_gives_a_flat_curve_and_no_median() -> None:
    result = kaplan_meier(_times([0, 90, 180], [False, False, False]))
    assert result.events == 0
    assert set(result.survival) == {1.0}
    assert result.median_days is None
    assert result.median_ci == (None, None)


def test_cumulative_incidence_is_one_minus_survival(worked: KaplanMeier) -> None:
    assert worked.cumulative_incidence == pytest.approx(
        [1 - float(s) for _, s, _ in HAND], abs=TOLERANCE
    )
    low, high = worked.cumulative_incidence_ci
    assert low == pytest.approx([1 - h for h in worked.ci_high], abs=TOLERANCE)
    assert high == pytest.approx([1 - lo for lo in worked.ci_low], abs=TOLERANCE)
    assert worked.cumulative_incidence_at(200) == pytest.approx(11 / 20, abs=TOLERANCE)
    assert worked.cumulative_incidence_at(29) == 0.0
    assert worked.cumulative_incidence_at(301) is None


def test_empty_cohort_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="empty cohort 'renal'"):
        kaplan_meier(_times([], []), label="renal")


def test_negative_and_missing_times_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        kaplan_meier(_times([-1, 30], [False, True]))
    with pytest.raises(ValueError, match="null"):
        kaplan_meier(pl.DataFrame({"days": [1, None], "event": [True, False]}))
    with pytest.raises(ValueError, match="horizon"):
        kaplan_meier(_times([800], [False]), horizon_days=730)


def test_methods_text_states_the_method_and_the_hand_worked_numbers(worked: KaplanMeier) -> None:
    text = methods_text(worked)
    for phrase in (
        "Time to first LLDAS",
        "Kaplan–Meier product-limit",
        "8 patients (5 events; 3 censored at their last recorded visit)",
        "Greenwood",
        "log(−log)",
        "median was 150 days (95% CI 30 days to not reached)",
    ):
        assert phrase in text
    assert text.count(".") == 1 and text.endswith(".")


def test_methods_text_names_the_horizon() -> None:
    result = kaplan_meier(_times([30, 730], [True, False]), horizon_days=730)
    assert "or at 730 days, whichever came first" in methods_text(result)


# first_event_times --------------------------------------------------------------------------

DAY0 = dt.date(2026, 1, 5)


def _visits(rows: list[tuple[str, int, bool | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": [p for p, _, _ in rows],
            "visit_date": [DAY0 + dt.timedelta(days=d) for _, d, _ in rows],
            "day": [d for _, d, _ in rows],
            "lldas": [o for _, _, o in rows],
        },
        schema={
            "patient_id": pl.String,
            "visit_date": pl.Date,
            "day": pl.Int64,
            "lldas": pl.Boolean,
        },
    )


VISITS = _visits(
    [
        ("A", 0, True),  # in LLDAS at baseline: not an event after infusion
        ("A", 30, False),
        ("A", 91, True),  # month 3: first event
        ("A", 182, True),
        ("B", -14, True),  # screening, before infusion
        ("B", 0, False),
        ("B", 30, None),  # not assessable
        ("B", 182, False),  # never reaches LLDAS: censored at day 182
        ("C", 0, True),  # only the baseline visit is positive
        ("C", 30, False),
        ("D", 0, False),
        ("D", 400, False),
        ("D", 800, True),  # after a 730-day horizon
        ("E", 0, True),  # no visit after infusion
        ("G", 0, False),
        ("G", 730, True),  # exactly on the horizon
        ("X", 30, True),  # not in the analysed cohort
    ]
)
PATIENTS = pl.DataFrame({"patient_id": ["A", "B", "C", "D", "E", "F", "G"]})


def _as_dict(frame: pl.DataFrame) -> dict[str, tuple[int, bool]]:
    return {r["patient_id"]: (r["days"], r["event"]) for r in frame.iter_rows(named=True)}


def test_first_event_times_without_horizon() -> None:
    times = first_event_times(VISITS, PATIENTS, "lldas")
    assert times.schema == pl.Schema(
        {"patient_id": pl.String, "days": pl.Int64, "event": pl.Boolean}
    )
    assert times["patient_id"].to_list() == ["A", "B", "C", "D", "E", "F", "G"]
    assert _as_dict(times) == {
        "A": (91, True),  # the month-3 visit
        "B": (182, False),  # censored at the last visit
        "C": (30, False),  # day-0 LLDAS ignored
        "D": (800, True),
        "E": (0, False),  # no post-infusion visit
        "F": (0, False),  # no visit at all
        "G": (730, True),
    }


def test_first_event_times_censors_at_the_horizon() -> None:
    times = first_event_times(VISITS, PATIENTS, "lldas", horizon_days=730)
    got = _as_dict(times)
    assert got["D"] == (730, False)
    assert got["G"] == (730, True)
    assert got["A"] == (91, True)
    assert got["B"] == (182, False)


def test_first_event_times_refuses_unknown_or_non_boolean_outcomes() -> None:
    with pytest.raises(ValueError, match="no outcome column 'doris'"):
        first_event_times(VISITS, PATIENTS, "doris")
    with pytest.raises(ValueError, match="must be Boolean"):
        first_event_times(VISITS, PATIENTS, "day")
    with pytest.raises(ValueError, match="horizon_days"):
        first_event_times(VISITS, PATIENTS, "lldas", horizon_days=0)


def test_first_event_times_feed_kaplan_meier() -> None:
    times = first_event_times(VISITS, PATIENTS, "lldas", horizon_days=730)
    result = kaplan_meier(times, label="first LLDAS", horizon_days=730)
    # Times 0c 0c 30c 91E 182c 730c 730E: at 91, 4 at risk → 3/4; at 730, 2 at risk → 3/8.
    assert (result.n, result.events) == (7, 2)
    assert result.survival_at(91) == pytest.approx(3 / 4, abs=TOLERANCE)
    assert result.survival_at(730) == pytest.approx(3 / 8, abs=TOLERANCE)
    assert result.median_days == 730
