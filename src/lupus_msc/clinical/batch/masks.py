"""Sets of named items held as integer bit masks, so a result list costs one integer per row."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def mask_expr(flags: Sequence[tuple[int, pl.Expr]]) -> pl.Expr:
    """Sum of ``1 << bit`` for each (bit, condition) whose condition holds (null: it does not)."""
    # Multiplying a 0/1 column by the bit's value is cheaper than a when/then per bit.
    parts = [condition.fill_null(False).cast(pl.Int64) * (1 << bit) for bit, condition in flags]
    return pl.sum_horizontal(parts).cast(pl.Int64)


def names_in(mask: int | None, names: Sequence[str]) -> list[str]:
    """The names whose bits are set in ``mask`` (bit i ↔ names[i])."""
    if mask is None:
        return []
    return [name for bit, name in enumerate(names) if mask >> bit & 1]
