"""SLICC/ACR Damage Index over a prepared visit table (§8, §16.7), equal to ``clinical.sdi``.

Each of the 41 items is a column ``sdi_<key>``: a count ≥ 0 (1 = present), null = not given.
Result columns (prefix ``sdi.``): ``total`` (Int16), ``organ.<organ>`` (Int8 points per organ),
``items_scored`` and ``items_scoring_2`` (bit masks over ``KEYS``: the items that score, and those
that score 2 because their count is above 1), and ``assessed_all`` (all 41 given). End-stage renal
disease scores 3 and replaces the GFR and proteinuria items (§8); every item's points come from
``clinical.sdi``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl

from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.sdi import ESRD, ITEMS, ORGANS, REPLACED_BY_ESRD, SdiItem

PREFIX = "sdi."
KEYS = tuple(item.key for item in ITEMS)
"""Bit i of the item masks ↔ KEYS[i] (the §8 order)."""
POINTS = {item.key: item.points for item in ITEMS}

_ESRD_SCORES = (pl.col(f"sdi_{ESRD}") > 0).fill_null(False)


def _points(item: SdiItem) -> pl.Expr:
    """Points of one item (§8): 0 if absent, 0 or not given; 2 for a count > 1 where the item
    allows it; else the item's points. GFR and proteinuria give way to end-stage renal disease."""
    count = pl.col(f"sdi_{item.key}")
    if item.repeatable:
        points = pl.when(count > 1).then(2).when(count > 0).then(item.points).otherwise(0)
    else:
        points = pl.when(count > 0).then(item.points).otherwise(0)
    if item.key in REPLACED_BY_ESRD:
        points = pl.when(_ESRD_SCORES).then(0).otherwise(points)
    return points.cast(pl.Int8)


def _point_column(key: str) -> str:
    return f"_sdi_points_{key}"


@cache
def _expressions() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Each item's points as a temporary column (computed once), then the result columns."""
    first = [_points(item).alias(_point_column(item.key)) for item in ITEMS]
    points = {item.key: pl.col(_point_column(item.key)) for item in ITEMS}
    organs = [
        pl.sum_horizontal([points[item.key] for item in ITEMS if item.organ == organ])
        .cast(pl.Int8)
        .alias(f"{PREFIX}organ.{organ}")
        for organ in ORGANS
    ]
    results = [
        pl.sum_horizontal(points.values()).cast(pl.Int16).alias(PREFIX + "total"),
        *organs,
        mask_expr([(bit, points[key] > 0) for bit, key in enumerate(KEYS)]).alias(
            PREFIX + "items_scored"
        ),
        mask_expr([(bit, points[key] == 2) for bit, key in enumerate(KEYS)]).alias(
            PREFIX + "items_scoring_2"
        ),
        pl.all_horizontal([pl.col(f"sdi_{key}").is_not_null() for key in KEYS]).alias(
            PREFIX + "assessed_all"
        ),
    ]
    return first, results


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the SDI result columns to a prepared visit table (§8, §16.7)."""
    first, results = _expressions()
    return (
        frame.with_columns(first)
        .with_columns(results)
        .drop([_point_column(item.key) for item in ITEMS])
    )


def result_fields(row: dict[str, Any]) -> dict[str, Any]:
    """One scored row in the single-record result's shape (§16.7)."""
    doubled = set(names_in(row[PREFIX + "items_scoring_2"], KEYS))
    scored = {
        key: 2 if key in doubled else POINTS[key]
        for key in names_in(row[PREFIX + "items_scored"], KEYS)
    }
    organ_points = {
        organ: row[f"{PREFIX}organ.{organ}"] for organ in ORGANS if row[f"{PREFIX}organ.{organ}"]
    }
    return {
        "total": row[PREFIX + "total"],
        "organ_points": organ_points,
        "items_scored": scored,
        "assessed_all": row[PREFIX + "assessed_all"],
        "missing": [],
    }


def single_record_input(row: dict[str, Any]) -> dict[str, Any]:
    """The single-record input (§16.7) for one prepared row: the items given."""
    return {"items": {key: row[f"sdi_{key}"] for key in KEYS if row[f"sdi_{key}"] is not None}}
