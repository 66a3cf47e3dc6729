"""Typed array aliases and the bridges from numpy arrays to visit-table columns.

Every generator module works on whole numpy arrays (one value per patient or per visit) and hands
its columns over as :data:`Pending` columns: the values are final (clipped to the schema range,
rounded to the column's scale, nulls marked) and only the wrapping as a polars Series of the dtype
the visit table (``clinical.batch.schema``) accepts is left for later, so that blocks of patients
can be drawn in worker threads that run numpy only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import polars as pl

from lupus_msc.clinical.batch.schema import BY_NAME

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Pending = Callable[[], pl.Series]
"""A finished column, waiting to be wrapped as a polars Series."""
Columns = dict[str, Pending]


def _nulls_where(series: pl.Series, missing: Bools | None) -> pl.Series:
    """``series`` with nulls where ``missing`` (one vectorised pass)."""
    if missing is None:
        return series
    nulled = pl.select(pl.when(pl.lit(pl.Series(missing))).then(None).otherwise(series))
    return nulled.to_series().alias(series.name)


def decimal(name: str, values: Floats, missing: Bools | None = None) -> Pending:
    """A decimal column: ``values`` clipped to the schema range, rounded to its scale."""
    column = BY_NAME[name]
    low = float(column.low) if column.low is not None else -np.inf
    high = float(column.high) if column.high is not None else np.inf
    rounded = np.round(np.clip(values, low, high), column.scale)
    if missing is not None:
        rounded[missing] = np.nan
    return lambda: pl.Series(name, rounded, nan_to_null=True)


def integer(
    name: str,
    values: npt.NDArray[np.integer],
    dtype: type[pl.DataType] = pl.Int8,
    missing: Bools | None = None,
) -> Pending:
    """An integer column of ``dtype`` with nulls where ``missing``."""

    def build() -> pl.Series:
        return _nulls_where(pl.Series(name, values).cast(dtype), missing)

    return build


def boolean(name: str, values: Bools, missing: Bools | None = None) -> Pending:
    """A boolean column with nulls where ``missing``."""
    if missing is None:
        return lambda: pl.Series(name, values)
    return lambda: pl.Series(name, np.ma.masked_array(values, missing))


def choice(
    name: str, codes: Ints, categories: tuple[str, ...], missing: Bools | None = None
) -> Pending:
    """A choice column as an Enum of ``categories``: ``codes`` index them (nulls where missing)."""
    positions = codes.astype(np.uint32)

    def build() -> pl.Series:
        lookup = pl.Series(name, categories, dtype=pl.Enum(categories))
        return _nulls_where(lookup.gather(pl.Series(positions)), missing)

    return build


def flags_to_lists(name: str, masks: Ints, names: tuple[str, ...], missing: Bools) -> Pending:
    """A list-of-text column from bit masks (bit i ↔ ``names[i]``); null where ``missing``.

    Only the distinct masks are turned into lists; every row then gathers its list by position.
    """
    codes = np.where(missing, -1, masks)
    distinct, position = np.unique(codes, return_inverse=True)
    lists = [
        None if code < 0 else [item for bit, item in enumerate(names) if code >> bit & 1]
        for code in distinct.tolist()
    ]
    positions = position.astype(np.uint32)
    return lambda: pl.Series(name, lists, dtype=pl.List(pl.String)).gather(pl.Series(positions))


def chance(rng: np.random.Generator, size: int, probability: float | Floats) -> Bools:
    """Independent events, each with ``probability`` (a number or one per element)."""
    drawn: Bools = rng.random(size, dtype=np.float32) < probability
    return drawn


def normal(rng: np.random.Generator, size: int, sigma: float) -> Floats:
    """Centred normal noise (drawn in single precision, which noise does not need more than)."""
    drawn = rng.standard_normal(size, dtype=np.float32)
    noise: Floats = np.multiply(drawn, sigma, dtype=np.float64)
    return noise


def jitter(rng: np.random.Generator, size: int, half_width: float) -> Floats:
    """Uniform noise on [-half_width, half_width]: cheap scatter where its shape does not matter."""
    drawn = rng.random(size, dtype=np.float32) - np.float32(0.5)
    noise: Floats = np.multiply(drawn, 2 * half_width, dtype=np.float64)
    return noise


def lognormal(rng: np.random.Generator, size: int, sigma: float) -> Floats:
    """Multiplicative noise with median 1."""
    noise: Floats = np.exp(normal(rng, size, sigma))
    return noise


def uniform(
    rng: np.random.Generator, low: float | Floats, high: float | Floats, size: int
) -> Floats:
    """Uniform draws between ``low`` and ``high`` (numbers or one pair per element)."""
    drawn: Floats = rng.uniform(low, high, size)
    return drawn


def bounded(values: Floats, low: float, high: float, places: int | None = None) -> Floats:
    """``values`` clipped to [low, high], rounded to ``places`` decimals when given."""
    clipped: Floats = np.clip(values, low, high).astype(np.float64)
    if places is None:
        return clipped
    rounded: Floats = np.round(clipped, places)
    return rounded
