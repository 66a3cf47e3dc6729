"""Batch SLEDAI-2K equals the single-record SLEDAI-2K on every row and field (§1, §16.1)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from lupus_msc.clinical import sledai2k
from lupus_msc.clinical.batch import sledai2k as batch_sledai2k
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.visits import frame_of, visit_tables

LAB_FIELDS = list(sledai2k.SledaiLabs.model_fields)
COLUMNS = [*sledai2k.WEIGHTS, "attribution_confirmed", *LAB_FIELDS]


def single_input(row: dict[str, Any]) -> sledai2k.Sledai2kInput:
    return sledai2k.Sledai2kInput.model_validate(batch_sledai2k.single_record_input(row))


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """Lists of names are unordered sets (§16.0)."""
    return {
        key: sorted(value) if isinstance(value, list) else value
        for key, value in result.items()
        if key not in ("instrument", "section")
    }


@settings(max_examples=2000, deadline=None)
@given(visit_tables(COLUMNS))
def test_batch_equals_single_record_on_every_row(rows: list[dict[str, Any]]) -> None:
    import json

    scored = batch_sledai2k.score(prepare(frame_of(rows)))
    for row in scored.iter_rows(named=True):
        single = json.loads(to_json(sledai2k.score(single_input(row))))
        assert comparable(batch_sledai2k.result_fields(row)) == comparable(single), row
