"""FACIT-Fatigue over a prepared visit table (§13; contract §16.13), equal to ``clinical.facit_f``.

Result columns (prefix ``facit-f.``): ``score``, ``baseline_score`` and ``change`` as exact
Decimal(scale 3) columns, ``answered`` (Int8), ``improved`` (bool) and ``missing`` (bit mask over
``MISSING_NAMES``). The score is computed in integer thousandths: round half up of
``sum × 13 / answered`` to 3 decimals is ``(2 × sum × 13000 + answered) // (2 × answered)``.

The baseline score of a visit is the score at its patient's baseline visit (``longitudinal``:
the visit flagged ``is_baseline``, else the first visit), when that visit has a score; the baseline
visit itself then has change 0 and is not improved, exactly as the single-record version gives
with ``baseline_score`` equal to its own score. A row with an answer the single-record version
refuses (5, 6 or 7; ``prepare`` refuses them too, so only a frame prepared otherwise holds one)
gets no result: every result column null.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import polars as pl

from lupus_msc.clinical.batch.frame import decimal_column
from lupus_msc.clinical.batch.longitudinal import add_positions, baseline
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.facit_f import (
    ITEMS,
    MAX_ITEM_SCORE,
    MCID,
    MIN_ANSWERED,
    NOT_ANSWERED,
    POSITIVE_ITEMS,
)

PREFIX = "facit-f."
MISSING_NAMES = (*(f"responses.{item}" for item in ITEMS), "baseline_score")
"""Bit i of ``missing`` ↔ MISSING_NAMES[i] (§16.13 input names)."""
SCALE = 3
"""§13: the score is rounded to 3 decimals; kept exactly as integer thousandths."""
_MCID_THOUSANDTHS = int(MCID.scaleb(SCALE))

_SCORE = "_facit_score_milli"
_BASELINE = "_facit_baseline_milli"


def _column(item: str) -> pl.Expr:
    return pl.col(f"facit_{item}")


def _accepted() -> pl.Expr:
    """Rows whose every answer is 0–4, 8, 9 or null, as the single-record input requires (the
    visit table holds 0–9: the answers between 4 and the lowest "not answered" code are out)."""
    refused = [
        _column(item).is_between(MAX_ITEM_SCORE + 1, min(NOT_ANSWERED) - 1) for item in ITEMS
    ]
    return ~pl.any_horizontal(refused).fill_null(False)


def _answered(item: str) -> pl.Expr:
    """§13 step 1: an answer 0–4 (the visit table holds no negative answer)."""
    return (_column(item) <= MAX_ITEM_SCORE).fill_null(False)


def _item_score(item: str) -> pl.Expr:
    """§13 step 2: An5 and An7 as answered, every other item reversed (4 − answer); 0 if none."""
    answer = _column(item)
    scored = answer if item in POSITIVE_ITEMS else MAX_ITEM_SCORE - answer
    return pl.when(_answered(item)).then(scored).otherwise(0)


def _score_thousandths() -> pl.Expr:
    """§13 steps 3–4: mean × 13 rounded half up to 3 decimals, null below 7 answers."""
    answered = pl.sum_horizontal([_answered(item).cast(pl.Int64) for item in ITEMS])
    total = pl.sum_horizontal([_item_score(item) for item in ITEMS]).cast(pl.Int64)
    numerator = 2 * total * len(ITEMS) * 10**SCALE + answered
    return pl.when(answered >= MIN_ANSWERED).then(numerator // (2 * answered))


@cache
def _expressions() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The score and baseline-score columns (thousandths), then the result columns."""
    accepted = _accepted()
    own = pl.when(accepted).then(_score_thousandths())
    first = [own.alias(_SCORE), baseline(own).alias(_BASELINE)]
    score, base = pl.col(_SCORE), pl.when(accepted).then(pl.col(_BASELINE))
    change = score - base
    unanswered = [(bit, score.is_null() & ~_answered(item)) for bit, item in enumerate(ITEMS)]
    answered = pl.sum_horizontal([_answered(item).cast(pl.Int8) for item in ITEMS])
    results = [
        decimal_column(score, SCALE).alias(PREFIX + "score"),
        decimal_column(base, SCALE).alias(PREFIX + "baseline_score"),
        decimal_column(change, SCALE).alias(PREFIX + "change"),
        pl.when(accepted).then(answered).cast(pl.Int8).alias(PREFIX + "answered"),
        (change >= _MCID_THOUSANDTHS).alias(PREFIX + "improved"),
        pl.when(accepted)
        .then(mask_expr([*unanswered, (len(ITEMS), base.is_null())]))
        .alias(PREFIX + "missing"),
    ]
    return first, results


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the FACIT-F result columns to a prepared visit table (§13, §16.13)."""
    positioned = add_positions(frame)
    added = [column for column in positioned.columns if column not in frame.columns]
    first, results = _expressions()
    scored = positioned.with_columns(first).with_columns(results)
    return scored.drop([*added, _SCORE, _BASELINE])


def _number(value: Decimal | None) -> int | float | None:
    """An exact score as the single-record JSON carries it: integral values as integers."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def result_fields(row: dict[str, Any]) -> dict[str, Any]:
    """One scored row in the single-record result's shape (§16.13); all null if refused."""
    return {
        "score": _number(row[PREFIX + "score"]),
        "answered": row[PREFIX + "answered"],
        "change": _number(row[PREFIX + "change"]),
        "improved": row[PREFIX + "improved"],
        "missing": names_in(row[PREFIX + "missing"], MISSING_NAMES),
    }


def single_record_input(row: dict[str, Any]) -> dict[str, Any] | None:
    """The single-record input (§16.13) for one scored row, with the batch's baseline score;
    None where the single-record version refuses the answers (the batch gives no result)."""
    if row[PREFIX + "answered"] is None:
        return None
    payload: dict[str, Any] = {"responses": {item: row[f"facit_{item}"] for item in ITEMS}}
    if row[PREFIX + "baseline_score"] is not None:
        payload["baseline_score"] = row[PREFIX + "baseline_score"]
    return payload
