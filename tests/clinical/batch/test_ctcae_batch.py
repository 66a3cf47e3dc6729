"""Batch CTCAE equals the single-record CTCAE for every term, row and field (§12, §16.12).

The single-record input of a term is built from the row's columns (``TERMS``); for ALT, AST and
creatinine the baseline is the value at the patient's baseline visit, found here independently
(the first visit flagged ``is_baseline``, else the first visit). Where no single-record call is
possible (value null) or the single-record version refuses the input (ULN or baseline 0), the batch
must give no result at all.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lupus_msc.clinical import ctcae
from lupus_msc.clinical.batch import ctcae as batch_ctcae
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.clinical.batch.schema import BY_NAME
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.baselines import baseline_positions
from tests.clinical.batch.visits import NOTABLE, exact, frame_of, visit_tables

TERMS = batch_ctcae.TERMS
COLUMNS = [
    "is_baseline",
    *dict.fromkeys(
        name
        for columns in TERMS.values()
        for name in (columns.value, columns.lln, columns.uln, columns.hours)
        if name is not None
    ),
]
for _name, _values in {
    "hours_above_40": ["0", "23.9", "24", "24.1"],
    "creatinine_uln_mg_dl": ["1", "1.2"],
}.items():  # boundaries of columns only CTCAE reads
    NOTABLE.setdefault(_name, [])
    NOTABLE[_name] += [value for value in _values if value not in NOTABLE[_name]]

# (value column, reference: a column or "baseline", multipliers at the §12 cut-offs)
EDGES: list[tuple[str, str, tuple[str, ...]]] = [
    *((c.value, str(c.lln), ("1",)) for c in TERMS.values() if c.lln is not None),
    ("alt_u_l", "alt_uln_u_l", ("1", "3", "5", "20")),
    ("ast_u_l", "ast_uln_u_l", ("1", "3", "5", "20")),
    ("alt_u_l", "baseline", ("1.5", "3", "5", "20")),
    ("ast_u_l", "baseline", ("1.5", "3", "5", "20")),
    ("creatinine_mg_dl", "creatinine_uln_mg_dl", ("1", "1.5", "3", "6")),
    ("creatinine_mg_dl", "baseline", ("1.5", "3")),
    ("alt_uln_u_l", "zero", ("0",)),
    ("creatinine_uln_mg_dl", "zero", ("0",)),
]


def _near(reference: Decimal | int, multiplier: str, offset: int, column: str) -> Decimal | int:
    """``reference × multiplier`` (floored to the column's decimals) plus ``offset`` units."""
    spec = BY_NAME[column]
    unit = Decimal(1).scaleb(-spec.scale)
    value = (Decimal(reference) * Decimal(multiplier)).quantize(unit, ROUND_FLOOR) + offset * unit
    value = max(value, spec.low or Decimal(0))
    if spec.high is not None:
        value = min(value, spec.high)
    return int(value) if spec.kind == "int" else value


@st.composite
def ctcae_tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Visit tables with values put on and next to the ULN, LLN and baseline cut-offs."""
    rows = draw(visit_tables(COLUMNS))
    base = baseline_positions(rows)
    order = sorted(range(len(rows)), key=lambda i: base[i] != i)  # baseline visits first
    for i in order:
        for _ in range(draw(st.integers(0, 3))):
            column, reference, multipliers = draw(st.sampled_from(EDGES))
            source = rows[base[i]][column] if reference == "baseline" else rows[i].get(reference)
            if reference == "zero":
                source = 1
            if source is None:
                continue
            multiplier = draw(st.sampled_from(multipliers))
            rows[i][column] = _near(source, multiplier, draw(st.sampled_from([-1, 0, 1])), column)
    return rows


def single_payload(term: str, row: dict[str, Any], base_row: dict[str, Any]) -> dict[str, Any]:
    columns = TERMS[term]
    payload: dict[str, Any] = {
        "term": term,
        "unit": columns.unit,
        "value": exact(row, columns.value),
        "lln": None if columns.lln is None else exact(row, columns.lln),
        "uln": None if columns.uln is None else exact(row, columns.uln),
        "baseline": None if columns.uln is None else exact(base_row, columns.value),
        "hours_above_40": None if columns.hours is None else exact(row, columns.hours),
    }
    return {key: value for key, value in payload.items() if value is not None}


def refused_by_rule(payload: dict[str, Any]) -> bool:
    """§16.12 with §16.0: a ULN and a baseline must be positive (values here are in range)."""
    return payload.get("uln") == 0 or payload.get("baseline") == 0


def expected(term: str, row: dict[str, Any], base_row: dict[str, Any]) -> dict[str, Any] | None:
    """The single-record result's JSON, or None when it cannot be called or refuses the input."""
    payload = single_payload(term, row, base_row)
    if "value" not in payload:
        return None
    try:
        inp = ctcae.CtcaeInput.model_validate(payload)
    except ValidationError:
        assert refused_by_rule(payload), payload
        return None
    assert not refused_by_rule(payload), payload
    result = json.loads(to_json(ctcae.score(inp)))
    return {key: value for key, value in result.items() if key not in ("instrument", "section")}


def comparable(result: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if result is None else {**result, "missing": sorted(result["missing"])}


@settings(max_examples=2000, deadline=None)
@given(ctcae_tables())
def test_batch_equals_single_record_on_every_row_and_term(rows: list[dict[str, Any]]) -> None:
    scored = list(batch_ctcae.score(prepare(frame_of(rows))).iter_rows(named=True))
    base = baseline_positions(scored)
    for row, base_position in zip(scored, base, strict=True):
        batch = batch_ctcae.result_fields(row)
        inputs = batch_ctcae.single_record_inputs(row)
        for term in TERMS:
            single = expected(term, row, scored[base_position])
            payload = single_payload(term, row, scored[base_position])
            assert inputs[term] == (None if single is None else payload), (term, row)
            assert comparable(batch[term]) == comparable(single), (term, row)
            if row[TERMS[term].value] is None:
                assert row[f"ctcae.{term}.grade"] is None


def three_rows() -> pl.DataFrame:
    """Patient A: baseline flagged on the second visit; patient B: one unflagged visit."""
    return frame_of(
        [
            {"patient_id": "A", "visit_date": date(2024, 1, 1), "is_baseline": None,
             "alt_u_l": 100, "alt_uln_u_l": 40, "platelets_10e9_l": Decimal("75"),
             "platelets_lln_10e9_l": Decimal("150"), "creatinine_mg_dl": Decimal("1.8"),
             "creatinine_uln_mg_dl": Decimal("1.2"), "temperature_c": Decimal("40.1"),
             "hours_above_40": None},
            {"patient_id": "A", "visit_date": date(2024, 2, 1), "is_baseline": True,
             "alt_u_l": 50, "alt_uln_u_l": 40, "platelets_10e9_l": Decimal("74.9"),
             "platelets_lln_10e9_l": None, "creatinine_mg_dl": Decimal("0.6"),
             "creatinine_uln_mg_dl": Decimal("1.2"), "temperature_c": Decimal("38"),
             "hours_above_40": None},
            {"patient_id": "B", "visit_date": date(2024, 1, 1), "is_baseline": None,
             "alt_u_l": None, "alt_uln_u_l": 40, "platelets_10e9_l": Decimal("150"),
             "platelets_lln_10e9_l": None, "creatinine_mg_dl": Decimal("1.2"),
             "creatinine_uln_mg_dl": Decimal("1.2"), "temperature_c": Decimal("40.1"),
             "hours_above_40": Decimal("24.1")},
        ]
    )  # fmt: skip


def test_three_hand_worked_rows() -> None:
    """Grades read by hand from the §12 table (a cut-off value goes to the milder grade).

    A's baseline is its second visit (flagged): ALT 50 > ULN 40 (abnormal), creatinine 0.6.
    Row 1: ALT 100 = 2.0 × baseline 50 → "1.5–3.0 × baseline" → 1 (baseline);
    platelets 75.0 → not < 75, so grade 1 at most, and 75 < LLN 150 → 1 (lln);
    creatinine 1.8 = 1.5 × ULN 1.2 → grade 1 by ULN, 3.0 × baseline 0.6 → grade 2 by baseline
    ("> 1.5 – 3.0 × baseline"), the higher → 2 (baseline); fever 40.1 °C without hours → null.
    Row 2 (the baseline itself): ALT 50 = 1.0 × baseline → 0 (baseline); platelets 74.9 < 75 →
    2 (absolute, no LLN needed); creatinine 0.6 ≤ ULN → 0, 1.0 × baseline → 0 → 0 (uln);
    fever 38.0 → 1. Row 3: ALT null → no result; platelets 150 without LLN → null, missing lln;
    creatinine 1.2 = ULN and = baseline (own first visit) → 0 (uln); fever 40.1 °C for 24.1 h
    → 4 (> 24 h).
    """
    scored = batch_ctcae.score(prepare(three_rows()))
    rows = [batch_ctcae.result_fields(row) for row in scored.iter_rows(named=True)]

    def brief(result: dict[str, Any] | None) -> tuple[Any, ...] | None:
        return None if result is None else (result["grade"], result["basis"], result["missing"])

    terms = ("alt_increased", "platelet_count_decreased", "creatinine_increased", "fever")
    hours = ["hours_above_40"]
    assert [tuple(brief(row[term]) for term in terms) for row in rows] == [
        ((1, "baseline", []), (1, "lln", []), (2, "baseline", []), (None, "absolute", hours)),
        ((0, "baseline", []), (2, "absolute", []), (0, "uln", []), (1, "absolute", [])),
        (None, (None, "lln", ["lln"]), (0, "uln", []), (4, "absolute", [])),
    ]
    assert rows[0]["neutrophil_count_decreased"] is None
    assert scored["ctcae.alt_increased.baseline"].to_list() == [50, 50, None]
    assert scored["ctcae.creatinine_increased.baseline"].to_list() == [
        Decimal("0.6"),
        Decimal("0.6"),
        Decimal("1.2"),
    ]


def test_a_zero_uln_or_baseline_gives_no_result() -> None:
    """The single-record version refuses a ULN or baseline of 0 (§16.12 positive limits)."""
    rows = [
        {"patient_id": "A", "visit_date": date(2024, 1, d), "is_baseline": None,
         "alt_u_l": alt, "alt_uln_u_l": uln}
        for d, alt, uln in ((1, 0, 40), (2, 80, 40), (3, 80, 0))
    ]  # fmt: skip
    grades = batch_ctcae.score(prepare(frame_of(rows)))["ctcae.alt_increased.basis"].to_list()
    assert grades == [None, None, None]
