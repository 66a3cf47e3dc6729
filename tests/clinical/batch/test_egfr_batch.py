"""Batch CKD-EPI 2021 equals the single-record eGFR on every row and field (§9, §16.8).

Rows the single-record version refuses (sex, age or creatinine not given, age below 18, a zero
creatinine or cystatin C) must come out of the batch with every result null.
"""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lupus_msc.clinical import egfr
from lupus_msc.clinical.batch import egfr as batch_egfr
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.visits import exact, frame_of, visit_tables

COLUMNS = ["sex", "age_years", "creatinine_mg_dl", "cystatin_c_mg_l"]
FLOATS = ("egfr_cr", "egfr_cr_cys")


@st.composite
def egfr_tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Visit tables, with the edges of the accepted inputs (age 17/18, zero labs) drawn often."""
    rows = draw(visit_tables(COLUMNS))
    for row in rows:
        edge = draw(st.sampled_from(["none", "none", "none", "age", "creatinine", "cystatin"]))
        if edge == "age":
            row["age_years"] = draw(st.sampled_from([17, 18, 120]))
        elif edge == "creatinine":
            row["creatinine_mg_dl"] = Decimal(0)
        elif edge == "cystatin":
            row["cystatin_c_mg_l"] = Decimal(0)
    return rows


def single_payload(row: dict[str, Any]) -> dict[str, Any]:
    payload = {name: exact(row, name) for name in COLUMNS}
    return {name: value for name, value in payload.items() if value is not None}


def expected_refusal(row: dict[str, Any]) -> bool:
    """Independent statement of what §16.8/§16.0 refuse, to check the test's own premise."""
    return (
        row["sex"] is None
        or row["age_years"] is None
        or row["age_years"] < 18
        or row["creatinine_mg_dl"] in (None, 0)
        or row["cystatin_c_mg_l"] == 0
    )


def assert_same(batch: dict[str, Any], single: dict[str, Any]) -> None:
    assert set(batch) == set(single) - {"instrument", "section"}
    for key, value in batch.items():
        if key in FLOATS and value is not None and single[key] is not None:
            assert math.isclose(value, single[key], rel_tol=1e-12, abs_tol=0), key
        elif key == "missing":
            assert sorted(value) == sorted(single[key])
        else:
            assert value == single[key], key


@settings(max_examples=2000, deadline=None)
@given(egfr_tables())
def test_batch_equals_single_record_on_every_row(rows: list[dict[str, Any]]) -> None:
    scored = batch_egfr.score(prepare(frame_of(rows)))
    for row in scored.iter_rows(named=True):
        batch = batch_egfr.result_fields(row)
        payload = single_payload(row)
        try:
            inp = egfr.EgfrInput.model_validate(payload)
        except ValidationError:
            assert expected_refusal(row), row
            assert batch_egfr.single_record_input(row) is None
            assert {key: batch[key] for key in (*FLOATS, "category", "loinc")} == dict.fromkeys(
                (*FLOATS, "category", "loinc")
            ), row
            absent = [
                name for name in ("sex", "age_years", "creatinine_mg_dl") if row[name] is None
            ]
            assert sorted(batch["missing"]) == sorted(absent), row
            continue
        assert not expected_refusal(row), row
        assert batch_egfr.single_record_input(row) == payload
        assert_same(batch, json.loads(to_json(egfr.score(inp))))


def three_rows() -> pl.DataFrame:
    return frame_of(
        [
            {"patient_id": "A", "visit_date": date(2024, 1, 1), "sex": "male", "age_years": 55,
             "creatinine_mg_dl": Decimal("1.2"), "cystatin_c_mg_l": None},
            {"patient_id": "A", "visit_date": date(2024, 6, 1), "sex": "male", "age_years": 50,
             "creatinine_mg_dl": Decimal("1.0"), "cystatin_c_mg_l": Decimal("1.0")},
            {"patient_id": "B", "visit_date": date(2024, 1, 1), "sex": "female", "age_years": 17,
             "creatinine_mg_dl": Decimal("0.6"), "cystatin_c_mg_l": None},
        ]
    )  # fmt: skip


def test_three_hand_worked_rows() -> None:
    """Values worked by hand from the §9 formulas (the first two are §9's worked examples).

    Row 1, male 55 y, Scr 1.2: Scr/κ = 1.2/0.9 = 1.3333 > 1, so 1.3333^−1.200 = 0.7081;
    0.9938^55 = 0.7103; 142 × 0.7081 × 0.7103 = 71.4 → G2 (60–89), LOINC 98979-8.
    Row 2, male 50 y, Scr 1.0, Scys 1.0: eGFRcr = 142 × (1.0/0.9)^−1.2 × 0.9938^50
    = 142 × 0.8812 × 0.7327 = 91.7; eGFRcr-cys = 135 × (1.1111)^−0.544 (0.9443)
    × (1.0/0.8)^−0.778 (0.8406) × 0.9961^50 (0.8225) = 88.1 → category from cr-cys: G2, 98980-6.
    Row 3, female aged 17: refused by the adult equation (§9 [IMPL], §16.0 18–120) → all null.
    """
    scored = batch_egfr.score(prepare(three_rows()))
    rows = [batch_egfr.result_fields(row) for row in scored.iter_rows(named=True)]
    assert rows[0]["egfr_cr"] == pytest.approx(71.4, abs=0.05)
    assert (rows[0]["egfr_cr_cys"], rows[0]["category"], rows[0]["loinc"]) == (
        None,
        "G2",
        "98979-8",
    )
    assert rows[1]["egfr_cr"] == pytest.approx(91.7, abs=0.05)
    assert rows[1]["egfr_cr_cys"] == pytest.approx(88.1, abs=0.05)
    assert (rows[1]["category"], rows[1]["loinc"]) == ("G2", "98980-6")
    assert rows[2] == {
        "egfr_cr": None,
        "egfr_cr_cys": None,
        "category": None,
        "loinc": None,
        "missing": [],
    }


def test_the_kink_is_decided_on_exact_creatinine() -> None:
    """§9: Scr exactly κ (0.7 female) takes the max(…)^−1.2 branch, 0.69 the min(…)^α one;
    at κ itself both terms are 1, so eGFR = 142 × 0.9938^40 × 1.012 = 112.05."""
    rows = [
        {"patient_id": "A", "visit_date": date(2024, 1, d), "sex": "female", "age_years": 40,
         "creatinine_mg_dl": Decimal(scr), "cystatin_c_mg_l": None}
        for d, scr in ((1, "0.69"), (2, "0.7"), (3, "0.71"))
    ]  # fmt: skip
    values = batch_egfr.score(prepare(frame_of(rows)))["egfr-ckdepi2021.egfr_cr"].to_list()
    assert values[1] == pytest.approx(142 * 0.9938**40 * 1.012, rel=1e-12)
    assert values[0] == pytest.approx(142 * (0.69 / 0.7) ** -0.241 * 0.9938**40 * 1.012, rel=1e-12)
    assert values[2] == pytest.approx(142 * (0.71 / 0.7) ** -1.2 * 0.9938**40 * 1.012, rel=1e-12)
