"""DORIS 2021 definition of remission (instruments.md §6, contract §16.5)."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from lupus_msc.clinical import doris
from tests.scoring_helpers import refused_fields, score_json

# Clinically quiet with active serology, PGA 0.4, prednisone 5 mg: remission under D9 and D10.
QUIET: dict[str, Any] = {
    "sledai_descriptors": ["low_complement", "increased_dna_binding"],
    "pga": 0.4,
    "prednisone_mg_day": 5,
}


def score(payload: dict[str, Any] | str) -> dict[str, Any]:
    return score_json(doris.INSTRUMENT, payload)


def assess(**changes: Any) -> dict[str, Any]:
    return score({**QUIET, **changes})


def test_remission_with_active_serology() -> None:
    """§6: clinical SLEDAI = 0 "irrespective of serology" — low C3/C4 and anti-DNA may persist."""
    result = assess()
    assert (result["instrument"], result["section"]) == ("doris", "§6")
    assert result["remission"] is True
    assert result["clinical_sledai"] == 0
    assert result["failed_components"] == []
    assert result["missing"] == []


@pytest.mark.parametrize(
    ("descriptors", "clinical"),
    [
        (["leukopenia"], 1),  # the smallest clinical item still breaks remission
        (["arthritis", "low_complement"], 4),  # serology left out of the count
        (["rash", "alopecia", "increased_dna_binding"], 4),
        (["proteinuria"], 4),  # laboratory, but not serology: counts
    ],
)
def test_any_clinical_descriptor_breaks_remission(descriptors: list[str], clinical: int) -> None:
    result = assess(sledai_descriptors=descriptors)
    assert result["clinical_sledai"] == clinical
    assert result["remission"] is False
    assert result["failed_components"] == ["clinical_sledai"]


def test_no_descriptor_at_all_is_clinical_sledai_0() -> None:
    assert assess(sledai_descriptors=[])["remission"] is True


@pytest.mark.parametrize(("pga", "met"), [("0.49", True), ("0.5", False), ("0.51", False)])
def test_pga_below_0_5(pga: str, met: bool) -> None:
    result = score(f'{{"sledai_descriptors": [], "pga": {pga}, "prednisone_mg_day": 0}}')
    assert result["remission"] is met
    assert result["failed_components"] == ([] if met else ["pga"])


def test_d10_doris_pga_0_5_is_not_remission() -> None:
    """D10: "< 0.5" (2021 definition, S29), not S30's "≤ 0.5"."""
    result = assess(pga=0.5)
    assert result["remission"] is False
    assert result["failed_components"] == ["pga"]


@pytest.mark.parametrize(
    ("dose", "comparator", "met"),
    [
        ("4.99", "le", True),
        ("5", "le", True),
        ("5.0", "le", True),
        ("5.01", "le", False),
        ("4.99", "lt", True),
        ("5", "lt", False),
        ("5.00", "lt", False),
        ("5.01", "lt", False),
    ],
)
def test_prednisone_5_with_either_comparator(dose: str, comparator: str, met: bool) -> None:
    result = score(
        '{"sledai_descriptors": [], "pga": 0, '
        f'"prednisone_mg_day": {dose}, "prednisone_comparator": "{comparator}"}}'
    )
    assert result["remission"] is met
    assert result["failed_components"] == ([] if met else ["prednisone"])


def test_d9_doris_prednisone_5_counts_by_default() -> None:
    """D9: "≤ 5 mg/day" (abstract S28, 2017 framework, S29) is the default comparator."""
    payload = {"sledai_descriptors": [], "pga": 0, "prednisone_mg_day": 5}
    assert score(payload)["remission"] is True


def test_d9_lt_comparator_excludes_5() -> None:
    """D9 alternative: the Table 2 box's "< 5 mg/day", selected with "lt"."""
    assert assess(prednisone_comparator="lt")["failed_components"] == ["prednisone"]


def test_unstable_other_drugs_fail() -> None:
    result = assess(other_drugs_stable=False)
    assert (result["remission"], result["failed_components"]) == (False, ["stable_drugs"])
    assert assess(other_drugs_stable=True)["remission"] is True


def test_every_failing_component_is_listed() -> None:
    result = assess(
        sledai_descriptors=["arthritis"], pga=1, prednisone_mg_day=10, other_drugs_stable=False
    )
    assert set(result["failed_components"]) == {
        "clinical_sledai",
        "pga",
        "prednisone",
        "stable_drugs",
    }


def test_remission_is_always_decided() -> None:
    """pga and prednisone_mg_day are required, so nothing §6 needs can be missing."""
    assert typing.get_type_hints(doris.DorisResult)["remission"] is bool
    result = score({"sledai_descriptors": [], "pga": 0, "prednisone_mg_day": 0})
    assert result["remission"] is True
    assert result["missing"] == []


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["sledai_descriptors", "pga", "prednisone_mg_day"])
def test_it_refuses_a_missing_required_field(field: str) -> None:
    payload = {**QUIET}
    del payload[field]
    assert refused_fields(doris.INSTRUMENT, payload) == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pga": None}, "pga"),
        ({"pga": 3.01}, "pga"),
        ({"pga": "0.4"}, "pga"),
        ({"prednisone_mg_day": -1}, "prednisone_mg_day"),
        ({"prednisone_mg_day": True}, "prednisone_mg_day"),
        ({"prednisone_comparator": "eq"}, "prednisone_comparator"),
        ({"prednisone_comparator": "<"}, "prednisone_comparator"),
        ({"other_drugs_stable": "yes"}, "other_drugs_stable"),
        ({"sledai_descriptors": ["anti_dsdna"]}, "sledai_descriptors[0]"),
        ({"sledai_descriptors": None}, "sledai_descriptors"),
        ({"remission": True}, "remission"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(change: dict[str, Any], field: str) -> None:
    assert refused_fields(doris.INSTRUMENT, {**QUIET, **change}) == [field]
