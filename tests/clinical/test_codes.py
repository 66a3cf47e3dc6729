"""Terminology codes (instruments.md §15, D20)."""

from __future__ import annotations

import pytest

from lupus_msc.clinical.codes import LOINC, SNOMED, CodeMismatch, check_loinc, loinc_fits


@pytest.mark.parametrize(
    ("concept", "code"),
    [
        ("c3", "4485-9"),
        ("c4", "4498-2"),
        ("anti_dsdna", "5130-0"),
        ("upcr", "2890-2"),
        ("urine_protein_24h", "2889-4"),
        ("egfr_ckdepi2021_cr", "98979-8"),
        ("egfr_ckdepi2021_cr_cys", "98980-6"),
        ("hemoglobin", "718-7"),
        ("urine_rbc_hpf", "13945-1"),
        ("urine_wbc_hpf", "5821-4"),
        ("esr", "4537-7"),
        ("esr", "30341-2"),
    ],
)
def test_section_15_codes_are_accepted(concept: str, code: str) -> None:
    assert check_loinc(concept, code).code == LOINC[concept].code  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("concept", "code", "reason"),
    [
        ("c4", "4486-7", "4498-2"),
        ("egfr_ckdepi2021_cr", "62238-1", "2009"),
        ("urine_rbc_hpf", "5808-1", "per volume"),
        ("upcr", "2889-4", "24-hour"),
        ("hemoglobin", "4544-3", "hematocrit"),
        ("neutrophils", "770-8", "percentage"),
    ],
)
def test_d20_known_misuses_are_refused_with_the_reason(
    concept: str, code: str, reason: str
) -> None:
    with pytest.raises(CodeMismatch, match=reason):
        check_loinc(concept, code)  # type: ignore[arg-type]


@pytest.mark.parametrize(("concept", "code"), [("lymphocytes", "731-0"), ("neutrophils", "751-8")])
def test_d20_absolute_count_codes_refuse_percentages(concept: str, code: str) -> None:
    assert check_loinc(concept, code, unit="10*9/L").code == code  # type: ignore[arg-type]
    with pytest.raises(CodeMismatch, match="percentage"):
        check_loinc(concept, code, unit="%")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("concept", "code", "unit", "fits"),
    [
        ("creatinine", "2160-0", "mg/dL", True),
        ("creatinine", "2160-0", "umol/L", False),
        ("upcr", "2890-2", "g/g", True),
        ("upcr", "2890-2", "mg/g", True),
        ("upcr", "2890-2", "mg/mg", True),
        ("upcr", "2890-2", "mg/mmol", False),
        ("hemoglobin", "718-7", "g/L", True),
        ("c3", "4485-9", "mg/dL", True),
    ],
)
def test_a_code_is_refused_for_a_unit_of_another_kind_of_quantity(
    concept: str, code: str, unit: str, fits: bool
) -> None:
    """§15: 2160-0 is Creatinine [Mass/volume] (µmol/L is substance per volume); 2890-2 is the
    protein/creatinine [Mass Ratio], "mass ratio only" (mg/mmol is mass per substance)."""
    assert loinc_fits(concept, unit) is fits  # type: ignore[arg-type]
    if fits:
        assert check_loinc(concept, code, unit=unit).code == code  # type: ignore[arg-type]
    else:
        with pytest.raises(CodeMismatch, match=f"refused for a result in {unit}"):
            check_loinc(concept, code, unit=unit)  # type: ignore[arg-type]


def test_an_unknown_code_names_the_expected_one() -> None:
    with pytest.raises(CodeMismatch, match="2160-0"):
        check_loinc("creatinine", "14682-9")


def test_snomed_codes_for_sle_and_lupus_nephritis() -> None:
    assert (SNOMED["sle"].code, SNOMED["lupus_nephritis"].code) == ("55464009", "68815009")
