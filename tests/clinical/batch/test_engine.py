"""The batch engine end to end: all stages, sizes, refusals, and extreme values (no overflow)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from lupus_msc.clinical.batch import engine
from lupus_msc.clinical.batch.frame import BatchInputError, prepare
from lupus_msc.clinical.batch.schema import FIXED_POINT_MAX, VISIT_COLUMNS, Column
from lupus_msc.scoring.jsonio import to_json
from lupus_msc.scoring.registry import INSTRUMENTS
from lupus_msc.synth.visits import generate_visits


def test_every_number_column_fits_32_bit_fixed_point() -> None:
    for column in VISIT_COLUMNS:
        if column.kind in ("decimal", "int"):
            assert column.high is not None, column.name
            assert column.high.scaleb(column.scale) <= FIXED_POINT_MAX, column.name


def _extreme(column: Column, end: str) -> Any:
    if column.kind == "decimal":
        bound = column.high if end == "high" else column.low
        return float(bound)  # type: ignore[arg-type]
    if column.kind == "int":
        if column.allowed:
            return max(column.allowed) if end == "high" else min(column.allowed)
        return int(column.high if end == "high" else column.low)  # type: ignore[arg-type]
    if column.kind == "bool":
        return end == "high"
    if column.kind == "choice":
        return column.choices[-1] if end == "high" else column.choices[0]
    if column.kind == "text_list":
        return list(column.choices)
    return None


def extreme_table() -> pl.DataFrame:
    """Two patients, three visits each, every column at its maximum or its minimum."""
    rows = []
    for patient, ends in (("HIGH", ("high", "low", "high")), ("LOW", ("low", "high", "low"))):
        for index, end in enumerate(ends):
            row = {
                column.name: _extreme(column, end)
                for column in VISIT_COLUMNS
                if column.kind not in ("text", "date")
            }
            row |= {"patient_id": patient, "visit_date": date(2025, 1, 1) + timedelta(days=index)}
            rows.append(row)
    return pl.DataFrame(rows)


def same(batch: Any, single: Any) -> bool:
    """Equal as JSON values: numbers to 1e-12, lists of names as sets, the rest exactly."""
    if isinstance(batch, int | float) and isinstance(single, int | float):
        return bool(batch == pytest.approx(single, rel=1e-12))
    if isinstance(batch, list) and isinstance(single, list):
        if all(isinstance(item, str) for item in [*batch, *single]):
            return sorted(batch) == sorted(single)
        return len(batch) == len(single) and all(map(same, batch, single))
    if isinstance(batch, dict) and isinstance(single, dict):
        return batch.keys() == single.keys() and all(same(batch[k], single[k]) for k in batch)
    return bool(batch == single)


def test_extreme_values_score_as_the_single_record_scorers_do() -> None:
    """Overflow in 32-bit fixed point would show as a disagreement with the exact scorers."""
    scored = engine.score_prepared(prepare(extreme_table()))
    compared = 0
    for row in scored.iter_rows(named=True):
        for module, name in engine.PER_RECORD:
            payload = module.single_record_input(row)
            if payload is None:
                continue
            instrument = INSTRUMENTS[name]
            single = json.loads(
                to_json(instrument.score(instrument.input_model.model_validate(payload)))
            )
            batch = module.result_fields(row)
            for field, value in batch.items():
                assert same(value, single[field]), (name, field, row["patient_id"])
            compared += 1
    assert compared >= 6 * 3


def test_score_visits_keeps_the_input_columns_sorted_and_adds_every_instrument() -> None:
    visits = generate_visits(30, seed=11)
    shuffled = visits.sample(fraction=1.0, shuffle=True, seed=2)
    scored = engine.score_visits(shuffled)
    assert scored.height == visits.height
    assert scored.select(visits.columns).equals(visits.sort("patient_id", "visit_date"))
    instruments = {name.split(".")[0] for name in engine.result_columns(scored)}
    assert instruments >= {
        "sledai2k", "prednisone-equivalent", "egfr-ckdepi2021", "ctcae", "facit-f", "sdi",
        "sri", "sfi", "lldas", "doris", "renal-response", "episodes",
    }  # fmt: skip
    assert not [name for name in scored.columns if name.startswith("_")]


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"platelets_10e9_l": [5000.0]}, "platelets_10e9_l"),
        ({"pga": [1.234]}, "pga"),
        ({"facit_HI7": [6]}, "facit_HI7"),
        ({"sex": ["unknown"]}, "sex"),
        ({"platelets": [100.0]}, "platelets"),
        ({"pga": ["high"]}, "pga"),
    ],
)
def test_bad_tables_are_refused_naming_the_column(
    change: dict[str, list[Any]], column: str
) -> None:
    table = pl.DataFrame({"patient_id": ["P1"], "visit_date": [date(2025, 1, 1)], **change})
    with pytest.raises(BatchInputError) as refused:
        engine.score_visits(table)
    assert refused.value.column == column


def test_two_visits_on_one_date_are_refused() -> None:
    table = pl.DataFrame({"patient_id": ["P1", "P1"], "visit_date": [date(2025, 1, 1)] * 2})
    with pytest.raises(BatchInputError, match="two visits"):
        engine.score_visits(table)


def test_decimal_scale_is_exact_at_the_last_kept_place() -> None:
    table = pl.DataFrame(
        {"patient_id": ["P1"], "visit_date": [date(2025, 1, 1)], "pga": [Decimal("1.23")]}
    )
    assert prepare(table)["pga"].to_list() == [123]


def test_scoring_whole_patients_in_chunks_changes_no_result() -> None:
    """Chunks never split a patient, so previous and baseline visits are always in the chunk."""
    visits = generate_visits(40, seed=4)
    whole = engine.score_visits(visits, rows_per_chunk=10**9)
    chunked = engine.score_visits(visits, rows_per_chunk=37)
    assert len(engine.patient_chunks(prepare(visits), 37)) > 5
    floats = [name for name, dtype in whole.schema.items() if dtype == pl.Float64]
    assert chunked.drop(floats).equals(whole.drop(floats))
    # powers (eGFR) may differ in the last binary place between vectorised and scalar code
    for name in floats:
        for got, expected in zip(chunked[name], whole[name], strict=True):
            assert (got is None and expected is None) or got == pytest.approx(expected, rel=1e-12)


def test_chunks_cover_every_row_once_and_keep_patients_whole() -> None:
    prepared = prepare(generate_visits(25, seed=9))
    chunks = engine.patient_chunks(prepared, 50)
    assert [row for chunk in chunks for row in chunk] == list(range(prepared.height))
    patients = prepared["patient_id"].to_list()
    for chunk in chunks[1:]:
        assert patients[chunk.start] != patients[chunk.start - 1]
