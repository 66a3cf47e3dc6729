"""Batch SDI equals the single-record SDI on every row and field (§8, §16.7)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from lupus_msc.clinical import sdi
from lupus_msc.clinical.batch import sdi as batch_sdi
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.visits import frame_of, visit_tables

KEYS = list(sdi.BY_KEY)
EVERY_ITEM = 2 ** len(KEYS) - 1
COUNTS = 4
"""Counts drawn 0–4: 0 absent, 1 present, above 1 the "2 if > 1" items score 2."""


@st.composite
def sdi_items(draw: st.DrawFn) -> dict[str, int | None]:
    """The 41 item columns from two integers (fast to draw): which items are given (a bit mask:
    random, all or none) and their counts (base-5 digits). End-stage renal disease is drawn apart
    so that it is often present together with the two renal items it replaces."""
    given_items = draw(st.one_of(st.integers(0, EVERY_ITEM), st.sampled_from([EVERY_ITEM, 0])))
    code = draw(st.integers(0, (COUNTS + 1) ** len(KEYS) - 1))
    items: dict[str, int | None] = {
        f"sdi_{key}": code // (COUNTS + 1) ** bit % (COUNTS + 1) if given_items >> bit & 1 else None
        for bit, key in enumerate(KEYS)
    }
    items[f"sdi_{sdi.ESRD}"] = draw(st.sampled_from([None, 0, 1, 2]))
    return items


@st.composite
def sdi_tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = draw(visit_tables([]))
    for row in rows:
        row.update(draw(sdi_items()))
    return rows


def single_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {"items": {key: row[f"sdi_{key}"] for key in KEYS if row[f"sdi_{key}"] is not None}}


def single_result(row: dict[str, Any]) -> dict[str, Any]:
    result = json.loads(to_json(sdi.score(sdi.SdiInput.model_validate(single_payload(row)))))
    return {key: value for key, value in result.items() if key not in ("instrument", "section")}


@settings(max_examples=2000, deadline=None)
@given(sdi_tables())
def test_batch_equals_single_record_on_every_row(rows: list[dict[str, Any]]) -> None:
    scored = batch_sdi.score(prepare(frame_of(rows)))
    for row in scored.iter_rows(named=True):
        assert batch_sdi.result_fields(row) == single_result(row), row
        assert batch_sdi.single_record_input(row) == single_payload(row)


def three_rows() -> pl.DataFrame:
    given_none = dict.fromkeys((f"sdi_{key}" for key in KEYS), None)
    all_absent = dict.fromkeys((f"sdi_{key}" for key in KEYS), 0)
    return frame_of(
        [
            {"patient_id": "A", "visit_date": date(2024, 1, 1), **given_none,
             "sdi_cataract": 1, "sdi_cerebrovascular_accident": 2, "sdi_neuropathy": 3,
             "sdi_gfr_below_50_percent": 1, "sdi_proteinuria_3_5_g": 1},
            {"patient_id": "A", "visit_date": date(2024, 6, 1), **all_absent,
             "sdi_gfr_below_50_percent": 1, "sdi_proteinuria_3_5_g": 1,
             "sdi_end_stage_renal_disease": 2, "sdi_malignancy": 1},
            {"patient_id": "B", "visit_date": date(2024, 1, 1), **all_absent},
        ]
    )  # fmt: skip


def test_three_hand_worked_rows() -> None:
    """Totals worked by hand from the §8 table.

    Row 1: cataract 1 (ocular 1); CVA count 2 > 1 → 2, neuropathy count 3 but not a "2 if > 1"
    item → 1 (neuropsychiatric 3); GFR < 50 % 1 + proteinuria 1 (renal 2): total 6; 36 items not
    given → not assessed_all.
    Row 2: end-stage renal disease (count 2, but it scores 3 whatever the count) replaces GFR and
    proteinuria → renal 3; malignancy 1 → total 4; all 41 given → assessed_all.
    Row 3: all 41 given as 0 → total 0, nothing scored, assessed_all.
    """
    scored = batch_sdi.score(prepare(three_rows()))
    rows = [batch_sdi.result_fields(row) for row in scored.iter_rows(named=True)]
    assert rows[0] == {
        "total": 6,
        "organ_points": {"ocular": 1, "neuropsychiatric": 3, "renal": 2},
        "items_scored": {"cataract": 1, "cerebrovascular_accident": 2, "neuropathy": 1,
                         "gfr_below_50_percent": 1, "proteinuria_3_5_g": 1},
        "assessed_all": False,
        "missing": [],
    }  # fmt: skip
    assert rows[1] == {
        "total": 4,
        "organ_points": {"renal": 3, "malignancy": 1},
        "items_scored": {"end_stage_renal_disease": 3, "malignancy": 1},
        "assessed_all": True,
        "missing": [],
    }
    assert rows[2] == {
        "total": 0,
        "organ_points": {},
        "items_scored": {},
        "assessed_all": True,
        "missing": [],
    }
