"""Validate a visit table and prepare it for the batch instruments.

``prepare`` refuses a table before any scoring starts when a column is unknown, of the wrong
type, or holds a value out of range or with more decimals than the column keeps; the error names
the column (and the first offending row). A prepared table is sorted by patient and visit date,
has every schema column (absent optional ones as nulls), and holds each decimal column as exact
fixed-point integers: ``round(value × 10^scale)`` (see ``schema``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from lupus_msc.clinical.batch.schema import BY_NAME, VISIT_COLUMNS, Column
from lupus_msc.clinical.prednisone_equivalent import as_decimal

ROW = "row_number"
"""Position of the visit in the prepared (patient, date)-sorted table."""


class BatchInputError(ValueError):
    """A visit table that cannot be scored; ``column`` names the culprit."""

    def __init__(self, column: str, message: str) -> None:
        self.column = column
        super().__init__(f"{column}: {message}")


def _dtype_fits(column: Column, dtype: pl.DataType) -> bool:
    if column.kind == "decimal":
        return dtype.is_numeric()
    if column.kind == "int":
        return dtype.is_integer()
    if column.kind == "bool":
        return dtype == pl.Boolean
    if column.kind == "date":
        return dtype == pl.Date
    if column.kind == "text_list":
        return isinstance(dtype, pl.List) and dtype.inner in (pl.String, pl.Categorical)
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


_EXPECTED = {
    "decimal": "a number",
    "int": "an integer",
    "bool": "a boolean",
    "date": "a date",
    "text": "text",
    "choice": "text",
    "text_list": "a list of text",
}


def check_columns(schema: Mapping[str, pl.DataType]) -> None:
    """Refuse unknown columns, missing required ones and wrong types, naming the column."""
    for name, dtype in schema.items():
        column = BY_NAME.get(name)
        if column is None:
            raise BatchInputError(name, "unknown column (see the visit table in the README)")
        if not _dtype_fits(column, dtype):
            raise BatchInputError(name, f"must be {_EXPECTED[column.kind]}, not {dtype}")
    for column in VISIT_COLUMNS:
        if column.required and column.name not in schema:
            raise BatchInputError(column.name, "required column is missing")


def fixed(column: Column) -> pl.Expr:
    """A decimal column as exact fixed-point 32-bit integers (value × 10^scale), nulls kept.

    32 bits hold every column's range (``schema.FIXED_POINT_MAX``) and halve the memory of a
    10-million-visit table; products that could exceed them are cast wider where they are formed.
    """
    scaled: pl.Expr = pl.col(column.name).cast(pl.Float64) * (10**column.scale)
    return scaled.round(0).cast(pl.Int32)


def fixed_threshold(name: str, value: Decimal | str | int) -> int:
    """A threshold in the fixed-point units of column ``name``; it must be exact at that scale."""
    column = BY_NAME[name]
    scaled = Decimal(value).scaleb(column.scale)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not exact at {column.scale} decimals ({name})")
    return int(scaled)


def _first_bad_row(frame: pl.DataFrame, bad: pl.Expr) -> str:
    row = frame.filter(bad).select("patient_id", "visit_date").row(0)
    return f"patient {row[0]}, visit {row[1]}"


def _value_checks(column: Column) -> list[tuple[pl.Expr, str]]:
    """(is-bad expression, message) pairs for the values of one column."""
    values = pl.col(column.name)
    checks: list[tuple[pl.Expr, str]] = []
    if column.kind == "decimal":
        scaled = values.cast(pl.Float64) * (10**column.scale)
        checks.append(
            ((scaled - scaled.round(0)).abs() > 1e-6, f"has more than {column.scale} decimals")
        )
    if column.low is not None:
        checks.append((values < float(column.low), f"must be at least {column.low}"))
    if column.high is not None:
        checks.append((values > float(column.high), f"must be at most {column.high}"))
    if column.kind == "choice":
        checks.append(
            (~values.is_in(column.choices), f"must be one of {', '.join(column.choices)}")
        )
    if column.allowed:
        allowed = ", ".join(str(value) for value in column.allowed)
        checks.append((~values.is_in(column.allowed), f"must be one of {allowed}"))
    if column.kind == "text_list":
        outside = values.list.eval(~pl.element().is_in(column.choices)).list.any()
        checks.append((outside, f"may hold only {', '.join(column.choices)}"))
    return [(bad.fill_null(False), message) for bad, message in checks]


def check_values(frame: pl.DataFrame) -> None:
    """Refuse the first out-of-range, over-precise or unknown value, naming column and row."""
    checks = [
        (column, bad, message)
        for column in VISIT_COLUMNS
        if column.name in frame.columns
        for bad, message in _value_checks(column)
    ]
    keys = pl.col("patient_id").is_null() | pl.col("visit_date").is_null()
    found = frame.select(
        keys.any().alias("keys"),
        *[bad.any().alias(str(index)) for index, (_, bad, _) in enumerate(checks)],
    ).row(0, named=True)
    if found["keys"]:
        raise BatchInputError("patient_id", "patient_id and visit_date must be given on every row")
    for index, (column, bad, message) in enumerate(checks):
        if found[str(index)]:
            raise BatchInputError(column.name, f"{message} ({_first_bad_row(frame, bad)})")


def _with_all_columns(frame: pl.DataFrame) -> pl.DataFrame:
    absent = [column for column in VISIT_COLUMNS if column.name not in frame.columns]
    nulls = [pl.lit(None, dtype=prepared_type(column)).alias(column.name) for column in absent]
    return frame.with_columns(nulls) if nulls else frame


def polars_type(column: Column) -> pl.DataType:
    """The polars type a column of this kind is read as (decimals: as floats)."""
    kinds: dict[str, pl.DataType] = {
        "decimal": pl.Float64(),
        "int": pl.Int32(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "text": pl.String(),
        "choice": pl.String(),
        "text_list": pl.List(pl.String),
    }
    return kinds[column.kind]


def prepared_type(column: Column) -> pl.DataType:
    """The type a column has in a prepared table: choices become enumerations (compact, and
    free when the input already is one), everything else as ``polars_type``."""
    if column.kind == "choice":
        return pl.Enum(column.choices)
    return polars_type(column)


def _in_visit_order(frame: pl.DataFrame) -> bool:
    """Whether rows already run by patient, then strictly increasing date (no sort needed)."""
    patient, day = pl.col("patient_id"), pl.col("visit_date")
    later = (patient > patient.shift(1)) | ((patient == patient.shift(1)) & (day > day.shift(1)))
    return bool(frame.select(later.fill_null(True).all()).item())


def sorted_visits(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in visit order; two visits of one patient on one date are refused."""
    if _in_visit_order(frame):
        return frame
    ordered = frame.sort("patient_id", "visit_date")
    patient, day = pl.col("patient_id"), pl.col("visit_date")
    repeated = (patient == patient.shift(1)) & (day == day.shift(1))
    if ordered.select(repeated.any()).item():
        where = _first_bad_row(ordered, repeated)
        raise BatchInputError("visit_date", f"two visits on one date ({where})")
    return ordered


def prepare(frame: pl.DataFrame) -> pl.DataFrame:
    """Validate ``frame`` and return it sorted, complete and in fixed-point form (module doc)."""
    check_columns(frame.schema)
    check_values(frame)
    frame = sorted_visits(frame)
    conversions = [
        fixed(column).alias(column.name) if column.kind == "decimal"
        else pl.col(column.name).cast(prepared_type(column)).alias(column.name)
        for column in VISIT_COLUMNS
        if column.kind in ("decimal", "int", "choice")
    ]  # fmt: skip
    return (
        _with_all_columns(frame)
        .with_columns(conversions)
        .select([column.name for column in VISIT_COLUMNS])
        .with_row_index(ROW)
    )


def exact_value(row: dict[str, Any], name: str) -> Decimal | Any:
    """A prepared row's value as the single-record interface takes it (decimals exact)."""
    value = row[name]
    column = BY_NAME.get(name)
    if value is None or column is None or column.kind != "decimal":
        return value
    return Decimal(value).scaleb(-column.scale)


def fixed_value(value: int | None, column: str) -> Decimal | None:
    """A fixed-point integer in the units of decimal column ``column`` (e.g. a previous visit's
    PGA kept in hundredths) as the exact Decimal the single-record interface takes."""
    if value is None:
        return None
    return Decimal(value).scaleb(-BY_NAME[column].scale)


def exact_json(number: Decimal) -> int | Decimal:
    """An exact number as the single-record JSON shows it (§16.0): integral as int, else the
    plain decimal without trailing zeros."""
    if number == number.to_integral_value():
        return int(number)
    return Decimal(format(number.normalize(), "f"))


def fixed_to_exact(value: int, scale: int) -> int | Decimal:
    """A fixed-point integer (value × 10^scale) as the single-record JSON shows it (§16.0)."""
    return exact_json(Decimal(value).scaleb(-scale))


def fraction_to_exact(numerator: int | None, denominator: int | None) -> Decimal | None:
    """An exact fraction column pair as the single-record Decimal (§11 ``as_decimal``: exact
    when it ends in decimal, else 28 significant digits); None when unknown."""
    if numerator is None or denominator is None:
        return None
    return as_decimal(Fraction(numerator, denominator))


def decimal_column(fixed: pl.Expr, scale: int) -> pl.Expr:
    """Fixed-point integers as an exact Decimal column of ``scale`` decimals (scale 0: as is)."""
    if scale == 0:
        return fixed
    # n / 10^scale in binary is the double nearest the decimal (|n| < 2^53), and the cast rounds
    # it back to ``scale`` places: exact, and four times faster than dividing a Decimal column.
    exact: pl.Expr = (fixed.cast(pl.Float64) / 10**scale).cast(pl.Decimal(38, scale))
    return exact
