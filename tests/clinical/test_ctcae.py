"""CTCAE v5.0 grading (§12, contract §16.12).

Expected grades are read by hand from the §12 table: "< LLN – 75.0" means grade 1 from 75.0 up to
the LLN, a value equal to a cut-off belongs to the milder grade, and "> 3.0 – 5.0 × ULN" means
grade 2 above 3 × ULN up to and including 5 × ULN.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from lupus_msc.clinical.ctcae import INSTRUMENT, TABLES, TERM_UNITS, Interval
from tests.scoring_helpers import refused_fields, score_json


def grade(term: str, value: float, unit: str, **extra: Any) -> Any:
    return score_json(INSTRUMENT, {"term": term, "value": value, "unit": unit, **extra})["grade"]


def result(term: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return score_json(INSTRUMENT, {"term": term, "value": value, "unit": unit, **extra})


# --- the tables themselves -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_table_is_contiguous_without_overlap(name: str) -> None:
    table = TABLES[name]
    first, last = table[0], table[-1]
    assert first.low is None or (first.low == 0 and first.low_closed)
    assert last.high is None
    for interval in table:
        if interval.low is not None and interval.high is not None:
            assert interval.low < interval.high, f"{name}: empty interval {interval}"
    for lower, upper in itertools.pairwise(table):
        assert lower.high is not None
        assert lower.high == upper.low, f"{name}: gap or overlap at {lower.high}"
        assert lower.high_closed != upper.low_closed, f"{name}: {lower.high} in both or neither"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_table_gives_one_grade_per_value_and_grades_are_monotonic(name: str) -> None:
    table = TABLES[name]
    grades = [interval.grade for interval in table]
    assert grades in (sorted(grades), sorted(grades, reverse=True))
    assert len(set(grades)) == len(grades)
    ends = {end for interval in table for end in (interval.low, interval.high) if end is not None}
    probes = {end + delta for end in ends for delta in (Decimal("-0.001"), 0, Decimal("0.001"))}
    for probe in probes:
        if probe >= 0 or table[0].low is None:
            assert sum(interval.contains(probe) for interval in table) == 1, (name, probe)


def test_tables_carry_the_section_12_cut_offs() -> None:
    """The cut-offs typed from §12, independently of the table constructors."""

    def cuts(name: str) -> list[Decimal | None]:
        return [interval.high for interval in TABLES[name]][:-1]

    assert cuts("neutrophil_count_decreased") == [Decimal(v) for v in ("0.5", "1.0", "1.5")]
    assert cuts("white_blood_cell_decreased") == [Decimal(v) for v in ("1.0", "2.0", "3.0")]
    assert cuts("platelet_count_decreased") == [Decimal(v) for v in ("25", "50", "75")]
    assert cuts("lymphocyte_count_decreased") == [Decimal(v) for v in ("0.2", "0.5", "0.8")]
    assert cuts("anemia_g_dl") == [Decimal(8), Decimal(10)]
    assert cuts("anemia_mmol_l") == [Decimal("4.9"), Decimal("6.2")]
    assert cuts("aminotransferase_uln") == [Decimal(v) for v in ("1", "3", "5", "20")]
    assert cuts("aminotransferase_baseline") == [Decimal(v) for v in ("1.5", "3", "5", "20")]
    assert cuts("creatinine_uln") == [Decimal(v) for v in ("1", "1.5", "3", "6")]
    assert cuts("creatinine_baseline") == [Decimal("1.5"), Decimal(3)]
    assert cuts("fever_c") == [Decimal(v) for v in ("38", "39", "40")]
    assert cuts("fever_hours_above_40") == [Decimal(24)]


def test_interval_contains_scales_its_ends() -> None:
    above_three_uln = Interval(2, Decimal(3), Decimal(5), False, True)
    assert not above_three_uln.contains(Decimal(120), Decimal(40))
    assert above_three_uln.contains(Decimal("120.1"), Decimal(40))
    assert above_three_uln.contains(Decimal(200), Decimal(40))


# --- decreased counts: below / at / above every cut-off --------------------------------------

COUNT_CASES: list[tuple[str, float, list[tuple[float, int]]]] = [
    # term, lln, [(value, grade)]: grade 1 lies from the grade-2 cut-off up to the LLN
    (
        "platelet_count_decreased",
        150,
        [
            (0, 4),
            (24.9, 4),
            (25, 3),
            (25.1, 3),
            (49.9, 3),
            (50, 2),
            (50.1, 2),
            (74.9, 2),
            (75, 1),
            (75.1, 1),
            (149.9, 1),
            (150, 0),
            (150.1, 0),
        ],
    ),
    (
        "neutrophil_count_decreased",
        2.0,
        [
            (0.49, 4),
            (0.5, 3),
            (0.51, 3),
            (0.99, 3),
            (1.0, 2),
            (1.01, 2),
            (1.49, 2),
            (1.5, 1),
            (1.51, 1),
            (1.99, 1),
            (2.0, 0),
            (2.01, 0),
        ],
    ),
    (
        "white_blood_cell_decreased",
        4.0,
        [
            (0.99, 4),
            (1.0, 3),
            (1.01, 3),
            (1.99, 3),
            (2.0, 2),
            (2.01, 2),
            (2.99, 2),
            (3.0, 1),
            (3.01, 1),
            (3.99, 1),
            (4.0, 0),
            (4.01, 0),
        ],
    ),
    (
        "lymphocyte_count_decreased",
        1.0,
        [
            (0.19, 4),
            (0.2, 3),
            (0.21, 3),
            (0.49, 3),
            (0.5, 2),
            (0.51, 2),
            (0.79, 2),
            (0.8, 1),
            (0.81, 1),
            (0.99, 1),
            (1.0, 0),
            (1.01, 0),
        ],
    ),
]


@pytest.mark.parametrize(
    ("term", "lln", "value", "expected"),
    [(term, lln, value, expected) for term, lln, cases in COUNT_CASES for value, expected in cases],
)
def test_count_cut_offs_in_10e9_per_litre(
    term: str, lln: float, value: float, expected: int
) -> None:
    assert grade(term, value, "10*9/L", lln=lln) == expected


@pytest.mark.parametrize(
    ("term", "lln", "value", "expected"),
    [(term, lln, value, expected) for term, lln, cases in COUNT_CASES for value, expected in cases],
)
def test_count_cut_offs_in_per_mm3(term: str, lln: float, value: float, expected: int) -> None:
    """1000/mm³ = 1 × 10⁹/L; the LLN is given in /mm³ like the value."""
    per_mm3 = float(Decimal(str(value)) * 1000)
    lln_mm3 = float(Decimal(str(lln)) * 1000)
    assert grade(term, per_mm3, "/mm3", lln=lln_mm3) == expected


def test_platelets_40_without_lln_is_grade_3_from_the_absolute_cut_off() -> None:
    answer = result("platelet_count_decreased", 40, "10*9/L")
    assert answer["grade"] == 3
    assert answer["basis"] == "absolute"
    assert answer["missing"] == []


@pytest.mark.parametrize("value", [75, 100, 300])
def test_platelets_at_or_above_75_without_lln_are_undecided(value: int) -> None:
    answer = result("platelet_count_decreased", value, "10*9/L")
    assert answer["grade"] is None
    assert answer["basis"] == "lln"
    assert answer["missing"] == ["lln"]


def test_a_count_at_or_above_lln_is_grade_0_on_the_lln_basis() -> None:
    answer = result("white_blood_cell_decreased", 5, "10*9/L", lln=4)
    assert (answer["grade"], answer["basis"]) == (0, "lln")


def test_grade_1_rests_on_lln() -> None:
    answer = result("white_blood_cell_decreased", 3.5, "10*9/L", lln=4)
    assert (answer["grade"], answer["basis"]) == (1, "lln")


def test_absolute_cut_offs_win_over_a_low_lln() -> None:
    """ANC 1.3 with a lab LLN of 1.2: CTCAE grade 2 is "< 1.5 – 1.0" whatever the LLN (S58)."""
    answer = result("neutrophil_count_decreased", 1.3, "10*9/L", lln=1.2)
    assert (answer["grade"], answer["basis"]) == (2, "absolute")


def test_per_mm3_75000_platelets_is_grade_1_below_lln() -> None:
    assert grade("platelet_count_decreased", 75000, "/mm3", lln=150000) == 1
    assert grade("platelet_count_decreased", 74999, "/mm3") == 2


# --- anemia ----------------------------------------------------------------------------------

ANEMIA_CASES: list[tuple[str, float, list[tuple[float, int]]]] = [
    # unit, lln, [(value, grade)]: §12 paired cut-offs for each unit
    (
        "g/dL",
        12,
        [
            (0, 3),
            (7.9, 3),
            (8.0, 2),
            (8.1, 2),
            (9.9, 2),
            (10.0, 1),
            (10.1, 1),
            (11.9, 1),
            (12, 0),
            (12.1, 0),
        ],
    ),
    (
        "g/L",
        120,
        [(79, 3), (80, 2), (81, 2), (99, 2), (100, 1), (101, 1), (119, 1), (120, 0), (121, 0)],
    ),
    (
        "mmol/L",
        7.4,
        [
            (4.8, 3),
            (4.9, 2),
            (5.0, 2),
            (6.1, 2),
            (6.2, 1),
            (6.3, 1),
            (7.3, 1),
            (7.4, 0),
            (7.5, 0),
        ],
    ),
]


@pytest.mark.parametrize(
    ("unit", "lln", "value", "expected"),
    [
        (unit, lln, value, expected)
        for unit, lln, cases in ANEMIA_CASES
        for value, expected in cases
    ],
)
def test_anemia_cut_offs(unit: str, lln: float, value: float, expected: int) -> None:
    assert grade("anemia", value, unit, lln=lln) == expected


def test_anemia_mmol_l_uses_ctcae_cut_offs_not_a_molar_conversion() -> None:
    """6.2 mmol/L is the CTCAE twin of 10.0 g/dL; a 0.6206 conversion would put it at 9.99."""
    assert grade("anemia", 6.2, "mmol/L", lln=7.4) == 1
    assert grade("anemia", 6.19, "mmol/L", lln=7.4) == 2


def test_anemia_grade_1_without_lln_is_undecided_but_grade_2_is_not() -> None:
    assert result("anemia", 11, "g/dL")["missing"] == ["lln"]
    assert grade("anemia", 11, "g/dL") is None
    assert grade("anemia", 9, "g/dL") == 2


# --- ALT / AST -------------------------------------------------------------------------------

NORMAL_BASELINE_CASES = [
    (40, 0),
    (40.1, 1),
    (119.9, 1),
    (120, 1),
    (120.1, 2),
    (199.9, 2),
    (200, 2),
    (200.1, 3),
    (799.9, 3),
    (800, 3),
    (800.1, 4),
]
"""ULN 40 U/L: 3 × ULN = 120, 5 × ULN = 200, 20 × ULN = 800."""

ABNORMAL_BASELINE_CASES = [
    (41, 0),
    (89.9, 0),
    (90, 1),
    (90.1, 1),
    (179.9, 1),
    (180, 1),
    (180.1, 2),
    (300, 2),
    (300.1, 3),
    (1200, 3),
    (1200.1, 4),
]
"""ULN 40, baseline 60 U/L: 1.5 × 60 = 90, 3 × 60 = 180, 5 × 60 = 300, 20 × 60 = 1200."""


@pytest.mark.parametrize("term", ["alt_increased", "ast_increased"])
@pytest.mark.parametrize(("value", "expected"), NORMAL_BASELINE_CASES)
def test_aminotransferase_with_normal_baseline_uses_uln(
    term: str, value: float, expected: int
) -> None:
    answer = result(term, value, "U/L", uln=40)
    assert (answer["grade"], answer["basis"]) == (expected, "uln")
    assert grade(term, value, "U/L", uln=40, baseline=30) == expected
    assert grade(term, value, "U/L", uln=40, baseline=40) == expected  # baseline = ULN is normal


@pytest.mark.parametrize("term", ["alt_increased", "ast_increased"])
@pytest.mark.parametrize(("value", "expected"), ABNORMAL_BASELINE_CASES)
def test_aminotransferase_with_abnormal_baseline_uses_baseline(
    term: str, value: float, expected: int
) -> None:
    answer = result(term, value, "U/L", uln=40, baseline=60)
    assert (answer["grade"], answer["basis"]) == (expected, "baseline")


def test_aminotransferase_above_uln_but_below_1_5_baseline_is_grade_0() -> None:
    """§12: with an abnormal baseline, a value > ULN but < 1.5 × baseline is grade 0."""
    assert grade("alt_increased", 80, "U/L", uln=40, baseline=60) == 0


def test_baseline_just_above_uln_switches_the_rule() -> None:
    """Baseline 40.1 > ULN 40: 60.1 is < 1.5 × 40.1 = 60.15 → 0 (the ULN rule would say 1)."""
    assert grade("alt_increased", 60.1, "U/L", uln=40, baseline=40.1) == 0
    assert grade("alt_increased", 60.15, "U/L", uln=40, baseline=40.1) == 1


@pytest.mark.parametrize("term", ["alt_increased", "ast_increased"])
def test_aminotransferase_without_uln_is_undecided(term: str) -> None:
    answer = result(term, 500, "U/L", baseline=60)
    assert answer["grade"] is None
    assert answer["missing"] == ["uln"]


# --- creatinine ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, 0),
        (1.01, 1),
        (1.49, 1),
        (1.5, 1),
        (1.51, 2),
        (2.99, 2),
        (3.0, 2),
        (3.01, 3),
        (5.99, 3),
        (6.0, 3),
        (6.01, 4),
    ],
)
def test_creatinine_uln_cut_offs(value: float, expected: int) -> None:
    """ULN 1.0 mg/dL: grade 1 > 1–1.5, 2 > 1.5–3, 3 > 3–6, 4 > 6 × ULN."""
    answer = result("creatinine_increased", value, "mg/dL", uln=1.0)
    assert (answer["grade"], answer["basis"]) == (expected, "uln")


@pytest.mark.parametrize(
    ("value", "expected", "basis"),
    [
        (1.19, 0, "uln"),  # < 1.5 × 0.8 = 1.2 and < ULN
        (1.2, 0, "uln"),  # = 1.5 × baseline: milder; = ULN: grade 0
        (1.21, 2, "baseline"),  # > 1.5 × baseline → 2, beats ULN grade 1
        (1.8, 2, "baseline"),  # 1.5 × ULN → 1; 2.25 × baseline → 2
        (1.81, 2, "uln"),  # > 1.5 × ULN → 2; baseline → 2: a tie keeps the ULN basis
        (2.4, 2, "uln"),  # 3 × baseline → 2; 2 × ULN → 2
        (2.41, 3, "baseline"),  # > 3 × baseline → 3 beats ULN grade 2
        (7.2, 3, "uln"),  # 6 × ULN → 3; baseline → 3: a tie
        (7.21, 4, "uln"),  # > 6 × ULN → 4 beats baseline 3
    ],
)
def test_creatinine_takes_the_higher_of_uln_and_baseline_grades(
    value: float, expected: int, basis: str
) -> None:
    """ULN 1.2, baseline 0.8 mg/dL."""
    answer = result("creatinine_increased", value, "mg/dL", uln=1.2, baseline=0.8)
    assert (answer["grade"], answer["basis"]) == (expected, basis)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100, 0), (150, 1), (150.1, 2), (300, 2), (300.1, 3), (600, 3), (600.1, 4)],
)
def test_creatinine_in_umol_l_grades_the_same_ratios(value: float, expected: int) -> None:
    """ULN 100 µmol/L: the ratios are unit-free, so 150 is exactly 1.5 × ULN → grade 1."""
    assert grade("creatinine_increased", value, "umol/L", uln=100) == expected


def test_creatinine_without_uln_is_undecided_even_with_a_baseline() -> None:
    """A baseline grade of 3 could still be a ULN grade 4: undecidable without the ULN."""
    answer = result("creatinine_increased", 5, "mg/dL", baseline=1)
    assert answer["grade"] is None
    assert answer["missing"] == ["uln"]


# --- fever -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("celsius", "expected"),
    [
        (25, 0),
        (37.9, 0),
        (38.0, 1),
        (38.1, 1),
        (38.9, 1),
        (39.0, 1),
        (39.1, 2),
        (39.9, 2),
        (40.0, 2),
    ],
)
def test_fever_cut_offs_up_to_40(celsius: float, expected: int) -> None:
    answer = result("fever", celsius, "Cel")
    assert (answer["grade"], answer["basis"], answer["missing"]) == (expected, "absolute", [])


@pytest.mark.parametrize(("hours", "expected"), [(0, 3), (23.9, 3), (24, 3), (24.1, 4), (72, 4)])
def test_fever_above_40_is_graded_by_hours_above_40(hours: float, expected: int) -> None:
    assert grade("fever", 40.1, "Cel", hours_above_40=hours) == expected


def test_fever_above_40_without_duration_is_undecided() -> None:
    answer = result("fever", 40.1, "Cel")
    assert answer["grade"] is None
    assert answer["missing"] == ["hours_above_40"]


def test_hours_above_40_do_not_matter_at_40_or_below() -> None:
    assert grade("fever", 40.0, "Cel", hours_above_40=48) == 2


def test_d19_fever_39_3_is_grade_2_not_grade_1() -> None:
    """D19: grade 1 is 38.0–39.0 °C (S60), not the third-party "39.0–39.5"."""
    assert grade("fever", 39.3, "Cel") == 2
    assert grade("fever", 38.5, "Cel") == 1


# --- D18 and common output -------------------------------------------------------------------


def test_d18_lab_terms_have_no_grade_5() -> None:
    """D18: Investigations terms stop at grade 4; derived anemia stops at grade 3."""
    assert grade("platelet_count_decreased", 0, "10*9/L") == 4
    assert grade("neutrophil_count_decreased", 0, "10*9/L") == 4
    assert grade("alt_increased", 100000, "U/L", uln=40) == 4
    assert grade("creatinine_increased", 50, "mg/dL", uln=1) == 4
    assert grade("anemia", 0, "g/dL") == 3
    assert grade("fever", 45, "Cel", hours_above_40=1000) == 4


def test_every_result_names_instrument_section_and_version() -> None:
    answer = result("fever", 37, "Cel")
    assert answer["instrument"] == "ctcae"
    assert answer["section"] == "§12"
    assert answer["ctcae_version"] == "5.0"


def test_reference_values_a_term_does_not_use_are_ignored() -> None:
    """A lab feed may send LLN and ULN for every analyte; platelets use only the LLN."""
    assert grade("platelet_count_decreased", 100, "10*9/L", lln=150, uln=400, baseline=200) == 1


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "unit"),
    [
        ("platelet_count_decreased", "g/dL"),
        ("neutrophil_count_decreased", "U/L"),
        ("anemia", "10*9/L"),
        ("anemia", "Cel"),
        ("alt_increased", "mg/dL"),
        ("ast_increased", "/mm3"),
        ("creatinine_increased", "U/L"),
        ("fever", "mg/dL"),
    ],
)
def test_it_refuses_a_unit_that_does_not_fit_the_term(term: str, unit: str) -> None:
    assert refused_fields(INSTRUMENT, {"term": term, "value": 1, "unit": unit}) == ["unit"]


def test_every_term_accepts_its_own_units() -> None:
    for term, allowed in TERM_UNITS.items():
        for unit in allowed:
            value = 38 if term == "fever" else 1
            assert result(term, value, unit, lln=1, uln=1)["instrument"] == "ctcae"


@pytest.mark.parametrize("unit", ["mg/L", "F", "10^9/L", ""])
def test_it_refuses_an_unknown_unit(unit: str) -> None:
    payload = {"term": "fever", "value": 38, "unit": unit}
    assert refused_fields(INSTRUMENT, payload) == ["unit"]


def test_it_refuses_an_unknown_term() -> None:
    payload = {"term": "infusion_related_reaction", "value": 1, "unit": "U/L"}
    assert "term" in refused_fields(INSTRUMENT, payload)


@pytest.mark.parametrize(
    ("term", "value", "unit"),
    [
        ("platelet_count_decreased", 2000.1, "10*9/L"),
        ("platelet_count_decreased", 2000001, "/mm3"),
        ("platelet_count_decreased", -1, "10*9/L"),
        ("white_blood_cell_decreased", 500.1, "10*9/L"),
        ("neutrophil_count_decreased", 500.1, "10*9/L"),
        ("lymphocyte_count_decreased", 500001, "/mm3"),
        ("anemia", 25.1, "g/dL"),
        ("anemia", 251, "g/L"),
        ("anemia", -0.1, "mmol/L"),
        ("anemia", 15.6, "mmol/L"),  # 25 g/dL × 0.62 (CTCAE pairs 10.0 g/dL with 6.2 mmol/L)
        ("alt_increased", -1, "U/L"),
        ("creatinine_increased", -0.1, "mg/dL"),
        ("fever", 24.9, "Cel"),
        ("fever", 45.1, "Cel"),
    ],
)
def test_it_refuses_a_value_outside_the_physiological_range(
    term: str, value: float, unit: str
) -> None:
    assert refused_fields(INSTRUMENT, {"term": term, "value": value, "unit": unit}) == ["value"]


@pytest.mark.parametrize(
    ("term", "value", "unit"),
    [
        ("platelet_count_decreased", 2000, "10*9/L"),
        ("platelet_count_decreased", 2000000, "/mm3"),
        ("anemia", 25, "g/dL"),
        ("anemia", 250, "g/L"),
        ("anemia", 15.5, "mmol/L"),
        ("fever", 25, "Cel"),
        ("fever", 45, "Cel"),
    ],
)
def test_it_accepts_the_ends_of_the_physiological_range(term: str, value: float, unit: str) -> None:
    assert result(term, value, unit, hours_above_40=1)["instrument"] == "ctcae"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"value": "40"}, "value"),
        ({"value": True}, "value"),
        ({"lln": -1}, "lln"),
        ({"uln": 0}, "uln"),
        ({"baseline": 0}, "baseline"),
        ({"hours_above_40": -1}, "hours_above_40"),
        ({"grade": 3}, "grade"),
    ],
)
def test_it_refuses_bad_numbers_and_unknown_fields(extra: dict[str, Any], field: str) -> None:
    payload = {"term": "platelet_count_decreased", "value": 40, "unit": "10*9/L", **extra}
    assert refused_fields(INSTRUMENT, payload) == [field]


@pytest.mark.parametrize("field", ["term", "value", "unit"])
def test_it_refuses_a_missing_required_field(field: str) -> None:
    payload = {"term": "platelet_count_decreased", "value": 40, "unit": "10*9/L"}
    del payload[field]
    assert refused_fields(INSTRUMENT, payload) == [field]
