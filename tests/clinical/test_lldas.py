"""Lupus Low Disease Activity State (instruments.md §5, contract §16.4)."""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.clinical import lldas, sledai2k
from tests.scoring_helpers import refused_fields, score_json

# Arthritis (4 points) at this and the previous visit, PGA 1, prednisone 7.5: every criterion
# holds exactly at its limit.
AT_LIMITS: dict[str, Any] = {
    "sledai_descriptors": ["arthritis"],
    "previous_sledai_descriptors": ["arthritis"],
    "pga": 1,
    "prednisone_mg_day": 7.5,
}

# §5 mapping of criterion 1, typed out from the text (not from the module).
MAJOR_ORGAN = [
    "seizure",
    "psychosis",
    "organic_brain_syndrome",
    "visual_disturbance",
    "cranial_nerve_disorder",
    "lupus_headache",
    "cva",
    "vasculitis",
    "urinary_casts",
    "hematuria",
    "proteinuria",
    "pyuria",
    "pleurisy",
    "pericarditis",
    "fever",
]
ALLOWED = [
    "arthritis",
    "myositis",
    "rash",
    "alopecia",
    "mucosal_ulcers",
    "low_complement",
    "increased_dna_binding",
    "thrombocytopenia",
    "leukopenia",
]


def score(payload: dict[str, Any] | str) -> dict[str, Any]:
    return score_json(lldas.INSTRUMENT, payload)


def visit(**changes: Any) -> dict[str, Any]:
    return score({**AT_LIMITS, **changes})


def test_every_criterion_at_its_limit_is_lldas() -> None:
    """SLEDAI 4 (≤ 4), nothing new, PGA 1 (≤ 1), prednisone 7.5 (≤ 7.5), no trial drug."""
    result = visit()
    assert (result["instrument"], result["section"]) == ("lldas", "§5")
    assert result["lldas"] is True
    assert result["failed_criteria"] == []
    assert result["sledai_total"] == 4
    assert result["missing"] == []


def test_the_mapping_splits_the_24_descriptors_as_section_5_says() -> None:
    assert set(MAJOR_ORGAN) == lldas.MAJOR_ORGAN
    assert set(ALLOWED) == lldas.ALLOWED
    assert set(MAJOR_ORGAN) | set(ALLOWED) == set(sledai2k.WEIGHTS)
    assert len(MAJOR_ORGAN) + len(ALLOWED) == 24


# --- criterion 1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("descriptors", "total", "met"),
    [
        (["rash", "thrombocytopenia"], 3, True),
        (["low_complement", "increased_dna_binding"], 4, True),  # serology counts in SLEDAI-2K
        (["arthritis", "leukopenia"], 5, False),  # 5 > 4, no major organ involved
        (["arthritis", "rash"], 6, False),
        ([], 0, True),
    ],
)
def test_sledai_at_most_4(descriptors: list[str], total: int, met: bool) -> None:
    result = visit(sledai_descriptors=descriptors, previous_sledai_descriptors=descriptors)
    assert result["sledai_total"] == total
    assert result["lldas"] is met
    assert result["failed_criteria"] == ([] if met else [1])


@pytest.mark.parametrize("descriptor", MAJOR_ORGAN)
def test_any_major_organ_descriptor_fails_criterion_1(descriptor: str) -> None:
    result = visit(sledai_descriptors=[descriptor], previous_sledai_descriptors=[descriptor])
    assert result["lldas"] is False
    assert result["failed_criteria"] == [1]


def test_fever_alone_fails_criterion_1_although_it_scores_only_1() -> None:
    result = visit(sledai_descriptors=["fever"], previous_sledai_descriptors=["fever"])
    assert (result["sledai_total"], result["failed_criteria"]) == (1, [1])


@pytest.mark.parametrize("descriptor", ALLOWED)
def test_allowed_descriptors_may_contribute(descriptor: str) -> None:
    result = visit(sledai_descriptors=[descriptor], previous_sledai_descriptors=[descriptor])
    assert result["lldas"] is True


@pytest.mark.parametrize("flag", ["hemolytic_anemia", "gi_activity"])
def test_hemolytic_anemia_or_gi_activity_fails_criterion_1(flag: str) -> None:
    result = visit(**{flag: True})
    assert (result["lldas"], result["failed_criteria"]) == (False, [1])
    assert visit(**{flag: False})["lldas"] is True


# --- criterion 2 (D11: Oon, against the previous assessment) -------------------------------------


def test_d11_a_new_descriptor_since_the_previous_visit_fails_criterion_2() -> None:
    """D11, Oon: any SLEDAI item new since the previous assessment fails criterion 2 — here new
    alopecia (+2, total 2), which is no SFI flare at all (a rise < 3), so Parodis' reading (no
    moderate/severe SFI flare versus baseline) would have let it pass."""
    result = visit(sledai_descriptors=["alopecia"], previous_sledai_descriptors=[])
    assert result["sledai_total"] == 2
    assert (result["lldas"], result["failed_criteria"]) == (False, [2])


def test_d11_comparison_is_with_the_previous_visit_only() -> None:
    """Rash present last visit and now is not new, whatever baseline was."""
    result = visit(sledai_descriptors=["rash"], previous_sledai_descriptors=["rash", "arthritis"])
    assert result["lldas"] is True


def test_clinician_reported_new_features_fail_criterion_2() -> None:
    result = visit(new_features=True)
    assert (result["lldas"], result["failed_criteria"]) == (False, [2])


def test_clinician_judgement_alone_decides_criterion_2() -> None:
    payload = {**AT_LIMITS, "new_features": False}
    del payload["previous_sledai_descriptors"]
    assert score(payload)["lldas"] is True


def test_a_descriptor_new_on_the_list_fails_even_if_the_clinician_says_nothing_new() -> None:
    result = visit(sledai_descriptors=["rash"], previous_sledai_descriptors=[], new_features=False)
    assert result["failed_criteria"] == [2]


def test_first_visit_is_undecided_and_names_what_would_decide() -> None:
    """§5 missing data: no previous assessment → criterion 2 indeterminate → LLDAS indeterminate."""
    payload = {**AT_LIMITS}
    del payload["previous_sledai_descriptors"]
    result = score(payload)
    assert result["lldas"] is None
    assert result["failed_criteria"] == []
    assert set(result["missing"]) == {"previous_sledai_descriptors", "new_features"}
    assert score({**payload, "previous_sledai_descriptors": None})["lldas"] is None


def test_first_visit_with_a_failed_criterion_is_false() -> None:
    """§16.0: a composite is false as soon as one criterion is false."""
    result = score({"sledai_descriptors": [], "pga": 1.5, "prednisone_mg_day": 0})
    assert result["lldas"] is False
    assert result["failed_criteria"] == [3]
    assert result["missing"] == []


# --- criteria 3, 4, 5 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pga", "met"), [("0.99", True), ("1", True), ("1.0", True), ("1.01", False)]
)
def test_pga_at_most_1(pga: str, met: bool) -> None:
    result = score(
        '{"sledai_descriptors": [], "previous_sledai_descriptors": [], '
        f'"pga": {pga}, "prednisone_mg_day": 0}}'
    )
    assert result["lldas"] is met
    assert result["failed_criteria"] == ([] if met else [3])


@pytest.mark.parametrize(
    ("dose", "met"), [("7.49", True), ("7.5", True), ("7.50", True), ("7.51", False), ("20", False)]
)
def test_prednisone_at_most_7_5(dose: str, met: bool) -> None:
    result = score(
        '{"sledai_descriptors": [], "previous_sledai_descriptors": [], '
        f'"pga": 0, "prednisone_mg_day": {dose}}}'
    )
    assert result["lldas"] is met
    assert result["failed_criteria"] == ([] if met else [4])


def test_investigational_drug_fails_criterion_5() -> None:
    assert visit(investigational_drug=True)["failed_criteria"] == [5]


def test_poorly_tolerated_immunosuppressants_fail_criterion_5() -> None:
    assert visit(immunosuppressants_tolerated=False)["failed_criteria"] == [5]
    assert visit(immunosuppressants_tolerated=True)["lldas"] is True


def test_every_failing_criterion_is_listed() -> None:
    result = visit(
        sledai_descriptors=["proteinuria"],
        previous_sledai_descriptors=[],
        pga=2,
        prednisone_mg_day=10,
        investigational_drug=True,
    )
    assert result["lldas"] is False
    assert set(result["failed_criteria"]) == {1, 2, 3, 4, 5}


def test_duplicate_descriptors_count_once() -> None:
    result = visit(sledai_descriptors=["rash", "rash"], previous_sledai_descriptors=["rash"])
    assert (result["sledai_total"], result["lldas"]) == (2, True)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["sledai_descriptors", "pga", "prednisone_mg_day"])
def test_it_refuses_a_missing_required_field(field: str) -> None:
    payload = {**AT_LIMITS}
    del payload[field]
    assert refused_fields(lldas.INSTRUMENT, payload) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sledai_descriptors": ["headache"]}, "sledai_descriptors[0]"),
        ({"sledai_descriptors": "arthritis"}, "sledai_descriptors"),
        ({"previous_sledai_descriptors": ["rash", "hives"]}, "previous_sledai_descriptors[1]"),
        ({"pga": 3.5}, "pga"),
        ({"pga": -1}, "pga"),
        ({"pga": "1"}, "pga"),
        ({"prednisone_mg_day": -0.5}, "prednisone_mg_day"),
        ({"prednisone_mg_day": "5"}, "prednisone_mg_day"),
        ({"new_features": "no"}, "new_features"),
        ({"hemolytic_anemia": 0}, "hemolytic_anemia"),
        ({"investigational_drug": "false"}, "investigational_drug"),
        ({"immunosuppressants_tolerated": "yes"}, "immunosuppressants_tolerated"),
        ({"sledai_total": 4}, "sledai_total"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(change: dict[str, Any], field: str) -> None:
    assert refused_fields(lldas.INSTRUMENT, {**AT_LIMITS, **change}) == [field]
