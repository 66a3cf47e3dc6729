"""The de-identified FHIR Patient keeps the age at the first infusion, ages over 89 as ``>= 90``
(HIPAA Safe Harbor 164.514(b)(2)(i)(C); issue 8). Expectations are by hand: every patient is
born on 15 June, the day of the year of the first infusion, so the age is the difference of
the years; one is born a day later, so the 90th birthday is still a day ahead."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from fhir.resources.R4B.patient import Patient

from lupus_msc.interop.fhir_deidentify import FhirKey, deidentify

AGE_URL = "https://lupus-msc.org/fhir/StructureDefinition/age-at-first-infusion"
FIRST_INFUSION = dt.date(2020, 6, 15)


def _identified(born: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(uuid.uuid4()),
        "identifier": [
            {"system": "https://lupus-msc.org/fhir/sid/study-code", "value": "S01-0007"}
        ],
        "name": [{"family": "Okafor", "given": ["Adaeze"]}],
        "gender": "female",
        "birthDate": born,
    }


def _key(first_infusion: dt.date | None) -> FhirKey:
    return FhirKey(
        patient_id=uuid.uuid4(),
        pseudonym="P-ABCDEFGHIJ",
        offset_days=-37,
        secret=uuid.uuid4(),
        identifiers=frozenset({"okafor", "adaeze", "s01", "0007"}),
        first_infusion=first_infusion,
    )


def _private(born: str, first_infusion: dt.date | None = FIRST_INFUSION) -> dict[str, Any]:
    return deidentify(_identified(born), _key(first_infusion))


def _ages(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["valueAge"] for e in resource.get("extension", []) if e["url"] == AGE_URL]


def _years(value: int, comparator: str | None = None) -> dict[str, Any]:
    age: dict[str, Any] = (
        {"value": value} if comparator is None else {"value": value, "comparator": comparator}
    )
    return {**age, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        ("1975-06-15", _years(45)),
        ("1931-06-15", _years(89)),
        ("1930-06-16", _years(89)),  # 90 the day after the infusion
        ("1930-06-15", _years(90, ">=")),
        ("1923-06-15", _years(90, ">=")),  # 97
    ],
    ids=["45", "89", "89-the-day-before-90", "90", "97"],
)
def test_the_age_at_the_first_infusion_is_kept_ages_over_89_as_90_or_older(
    born: str, expected: dict[str, Any]
) -> None:
    private = _private(born)
    assert _ages(private) == [expected]
    line = json.dumps(private, separators=(",", ":"))
    dumped = Patient.model_validate(private).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    assert json.dumps(dumped, separators=(",", ":")) == line  # valid R4B, in its element order


@pytest.mark.parametrize(
    ("born", "real_age"), [("1923-06-15", 97), ("1926-02-01", 94), ("1910-12-31", 109)]
)
def test_neither_the_birth_date_nor_an_age_over_89_appears_anywhere(
    born: str, real_age: int
) -> None:
    text = json.dumps(_private(born))
    for secret in (born, born[:4], born[5:], str(real_age), "Okafor", "S01-0007"):
        assert secret not in text
    assert '"value": 90' in text


def test_a_patient_never_infused_has_no_age() -> None:
    private = _private("1975-06-15", first_infusion=None)
    assert "extension" not in private
    assert "1975" not in json.dumps(private)
    Patient.model_validate(private)
