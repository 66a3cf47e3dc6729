"""Batch prednisone equivalents equal the single-record ones on every row (§11, §16.11)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from lupus_msc.clinical import prednisone_equivalent
from lupus_msc.clinical.batch import prednisone_equivalent as batch
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.visits import frame_of, visit_tables

SLOT_FIELDS = ("drug", "dose_mg", "doses_per_day", "every_days")
COLUMNS = ["weight_kg", *[f"glucocorticoid_{s}_{f}" for s in (1, 2) for f in SLOT_FIELDS]]
FLOAT_FIELDS = ("prednisone_mg_day", "mg_kg_day")


def close(batch_value: Any, single_value: Any) -> bool:
    if batch_value is None or single_value is None:
        return batch_value is single_value
    return batch_value == pytest.approx(single_value, rel=1e-12, abs=1e-12)


@settings(max_examples=2000, deadline=None)
@given(visit_tables(COLUMNS))
def test_batch_equals_single_record_on_every_row(rows: list[dict[str, Any]]) -> None:
    scored = batch.score(prepare(frame_of(rows)))
    for row in scored.iter_rows(named=True):
        batch_result = batch.result_fields(row)
        payload = batch.single_record_input(row)
        if payload is None:
            assert batch_result is None
            continue
        model = prednisone_equivalent.PrednisoneEquivalentInput.model_validate(payload)
        single = json.loads(to_json(prednisone_equivalent.score(model)))
        assert batch_result is not None
        for field in FLOAT_FIELDS:
            assert close(batch_result.pop(field), single.pop(field)), (field, row)
        for batch_drug, single_drug in zip(
            batch_result.pop("per_drug"), single.pop("per_drug"), strict=True
        ):
            assert batch_drug["drug"] == single_drug["drug"]
            assert close(batch_drug["prednisone_mg_day"], single_drug["prednisone_mg_day"])
        del single["instrument"], single["section"]
        assert batch_result == single, row


def test_dexamethasone_1_125_mg_is_exactly_7_5_in_batch_too() -> None:
    """§11: 1.125 mg × 5/0.75 = 7.5 exactly: low band, LLDAS dose met, DORIS not."""
    from datetime import date

    import polars as pl

    frame = pl.DataFrame(
        {
            "patient_id": ["P1", "P1"],
            "visit_date": [date(2025, 1, 1), date(2025, 2, 1)],
            "glucocorticoid_1_drug": ["dexamethasone", "methylprednisolone"],
            "glucocorticoid_1_dose_mg": [1.125, 16.0],
        }
    )
    rows = batch.score(prepare(frame)).iter_rows(named=True)
    first, second = (batch.result_fields(row) for row in rows)
    assert first is not None and second is not None
    assert (first["band"], first["lldas_dose_ok"], first["doris_dose_ok"]) == ("low", True, False)
    assert second["prednisone_mg_day"] == 20  # §11 worked example: methylprednisolone 16 mg
    assert second["band"] == "medium"
