"""Batch FACIT-F equals the single-record FACIT-F on every row and field (§13, §16.13).

The single-record input of a row is its 13 answers with ``baseline_score`` = the batch's baseline
score; that baseline score is itself checked against the single-record score of the patient's
baseline visit, found here independently (first visit flagged ``is_baseline``, else the first).
The visit table refuses the answers 5–7 (schema); they are put into prepared tables here to check
that the batch gives no result where the single-record version refuses the input.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lupus_msc.clinical import facit_f
from lupus_msc.clinical.batch import facit_f as batch_facit_f
from lupus_msc.clinical.batch.frame import ROW, BatchInputError, prepare
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.baselines import baseline_positions
from tests.clinical.batch.visits import frame_of, visit_tables

ITEMS = facit_f.ITEMS
REFUSED = [5, 6, 7]
"""Inside the visit table's 0–9 range, refused by it and by the single-record input (§16.13)."""


UNANSWERED: list[int | None] = [None, 8, 9]


def _digits(code: int, base: int) -> list[int]:
    return [code // base**index % base for index in range(len(ITEMS))]


@st.composite
def facit_answers(draw: st.DrawFn) -> list[int | None]:
    """13 answers from three integers (fast to draw): which items are unanswered (a random bit
    mask, or the items after the first 6–13), the answers 0–4 (base-5 digits) and the kind of
    non-answer (null, 8 or 9)."""
    everything = 2 ** len(ITEMS)
    first_answered = st.integers(6, len(ITEMS)).map(lambda answered: everything - 2**answered)
    unanswered = draw(st.one_of(st.integers(0, everything - 1), first_answered))
    values = _digits(draw(st.integers(0, 5 ** len(ITEMS) - 1)), 5)
    kinds = _digits(draw(st.integers(0, 3 ** len(ITEMS) - 1)), 3)
    return [
        UNANSWERED[kinds[index]] if unanswered >> index & 1 else values[index]
        for index in range(len(ITEMS))
    ]


Refusal = tuple[int, str, int]
"""(row position, FACIT column, refused answer) to put into a prepared table."""


@st.composite
def facit_tables(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """Visit tables with random answers, often just around the 7-answer limit; now and then a
    refused 5–7 for a row (put in after preparation, see ``prepared_with``)."""
    rows = draw(visit_tables(["is_baseline"]))
    refusals: list[Refusal] = []
    for position, row in enumerate(rows):
        answers = draw(facit_answers())
        row.update({f"facit_{item}": value for item, value in zip(ITEMS, answers, strict=True)})
        if draw(st.integers(0, 49)) == 0:
            item = draw(st.sampled_from(ITEMS))
            refusals.append((position, f"facit_{item}", draw(st.sampled_from(REFUSED))))
    return rows, refusals


def prepared_with(rows: list[dict[str, Any]], refusals: list[Refusal]) -> pl.DataFrame:
    """The prepared table of ``rows`` (already in visit order) holding the refused answers, which
    ``prepare`` itself would refuse."""
    prepared = prepare(frame_of(rows))
    for position, column, answer in refusals:
        changed = pl.when(pl.col(ROW) == position).then(answer).otherwise(pl.col(column))
        prepared = prepared.with_columns(changed.cast(prepared.schema[column]).alias(column))
    return prepared


def single_payload(row: dict[str, Any], baseline_score: Decimal | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"responses": {item: row[f"facit_{item}"] for item in ITEMS}}
    if baseline_score is not None:
        payload["baseline_score"] = baseline_score
    return payload


def single_result(row: dict[str, Any], baseline_score: Decimal | None) -> dict[str, Any] | None:
    """The single-record result's JSON, or None when it refuses the answers."""
    payload = single_payload(row, baseline_score)
    responses = payload["responses"]
    try:
        inp = facit_f.FacitFInput.model_validate(payload)
    except ValidationError:
        assert any(value in REFUSED for value in responses.values()), responses
        return None
    result = json.loads(to_json(facit_f.score(inp)))
    return {key: value for key, value in result.items() if key not in ("instrument", "section")}


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "missing": sorted(result["missing"])}


@settings(max_examples=2000, deadline=None)
@given(facit_tables())
def test_batch_equals_single_record_on_every_row(
    table: tuple[list[dict[str, Any]], list[Refusal]],
) -> None:
    scored = list(batch_facit_f.score(prepared_with(*table)).iter_rows(named=True))
    for row, base in zip(scored, baseline_positions(scored), strict=True):
        batch_baseline = row["facit-f.baseline_score"]
        single = single_result(row, batch_baseline)
        batch = batch_facit_f.result_fields(row)
        assert batch_facit_f.single_record_input(row) == (
            None if single is None else single_payload(row, batch_baseline)
        )
        if single is None:
            assert batch == dict.fromkeys(("score", "answered", "change", "improved"), None) | {
                "missing": []
            }, row
            assert batch_baseline is None
            continue
        own_baseline = single_result(scored[base], None)
        expected_baseline = None if own_baseline is None else own_baseline["score"]
        assert (None if batch_baseline is None else float(batch_baseline)) == expected_baseline
        assert comparable(batch) == comparable(single), row


def three_rows() -> pl.DataFrame:
    """Patient A: two visits, the first the baseline (none flagged); patient B: one visit."""
    worked: list[int | None] = [1, 2, 0, 3, 1, 2, 3, 2, 9, 1, None, 4, 0]
    all_zero: list[int | None] = [0] * 13
    six_answered: list[int | None] = [4] * 6 + [None] * 7
    visits: list[tuple[str, date, list[int | None]]] = [
        ("A", date(2024, 1, 1), worked),
        ("A", date(2024, 3, 1), all_zero),
        ("B", date(2024, 1, 1), six_answered),
    ]
    return frame_of(
        [
            {"patient_id": patient, "visit_date": day, "is_baseline": None,
             **{f"facit_{item}": value for item, value in zip(ITEMS, answers, strict=True)}}
            for patient, day, answers in visits
        ]
    )  # fmt: skip


def test_three_hand_worked_rows() -> None:
    """Scores worked by hand from §13's algorithm.

    Row 1 (the single-record docstring's example): An8 = 9 and An14 = null unanswered, 11
    answered; reversed HI7 3, HI12 2, An1 4, An2 1, An3 3, An4 2, An12 3, An15 0, An16 4 (22),
    An5 3 + An7 2 (5): 27 / 11 × 13 = 31.909; it is the baseline, so change 0, not improved.
    Row 2: every answer 0 → the 11 reversed items give 4 each, An5 and An7 0: 44 / 13 × 13 = 44;
    change 44 − 31.909 = 12.091 ≥ 4 → improved.
    Row 3: only 6 answered (≤ 0.5 × 13) → no score; the baseline (itself) has none either, so
    change and improved are null and missing names the 7 unanswered items and baseline_score.
    """
    scored = batch_facit_f.score(prepare(three_rows()))
    rows = [batch_facit_f.result_fields(row) for row in scored.iter_rows(named=True)]
    assert rows[0] == {"score": 31.909, "answered": 11, "change": 0, "improved": False,
                       "missing": []}  # fmt: skip
    assert rows[1] == {"score": 44, "answered": 13, "change": 12.091, "improved": True,
                       "missing": []}  # fmt: skip
    assert rows[2]["score"] is None
    assert (rows[2]["answered"], rows[2]["change"], rows[2]["improved"]) == (6, None, None)
    assert sorted(rows[2]["missing"]) == sorted(
        [f"responses.{item}" for item in ITEMS[6:]] + ["baseline_score"]
    )
    assert scored["facit-f.score"].to_list()[0] == Decimal("31.909")


def test_a_refused_answer_gives_no_result() -> None:
    """An answer of 5 is refused by §16.13 (0–4, 8, 9) and by the visit table; a prepared table
    holding one anyway gets no result on that row."""
    row = {"patient_id": "A", "visit_date": date(2024, 1, 1), "is_baseline": None,
           **{f"facit_{item}": 2 for item in ITEMS}}  # fmt: skip
    with pytest.raises(BatchInputError, match="facit_An5"):
        prepare(frame_of([{**row, "facit_An5": 5}]))
    scored = batch_facit_f.score(prepared_with([row], [(0, "facit_An5", 5)]))
    result = batch_facit_f.result_fields(scored.row(0, named=True))
    assert result == {"score": None, "answered": None, "change": None, "improved": None,
                      "missing": []}  # fmt: skip


def test_improved_from_a_change_of_exactly_4() -> None:
    """§16.13 improved = change ≥ 4 (MCID, §13). With all 13 items answered the score is the sum
    of item scores: baseline all 2 → 26; then An5 and An7 at 4 (+4) → 30, change 4, improved;
    then An5 4, An7 3 (+3) → 29, change 3, not improved."""
    visits = [(1, 2, 2), (2, 4, 4), (3, 4, 3)]
    rows = [
        {"patient_id": "A", "visit_date": date(2024, month, 1), "is_baseline": None,
         **{f"facit_{item}": 2 for item in ITEMS}, "facit_An5": an5, "facit_An7": an7}
        for month, an5, an7 in visits
    ]  # fmt: skip
    scored = batch_facit_f.score(prepare(frame_of(rows)))
    assert scored["facit-f.change"].to_list() == [Decimal(0), Decimal(4), Decimal(3)]
    assert scored["facit-f.improved"].to_list() == [False, True, False]
