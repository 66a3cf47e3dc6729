"""Column types that keep clinical values exact and times unambiguous on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal stored digit for digit: NUMERIC on PostgreSQL, text on SQLite.

    SQLite has no decimal type; its NUMERIC affinity would turn 0.1 into a binary float, and a
    clinical value must come back exactly as it was entered (instruments.md §0.1).
    """

    impl = String(48)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(48))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment in time, always timezone-aware UTC in Python; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored; give it a time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)  # noqa: S101 - the column type guarantees it
        if value.tzinfo is None:  # SQLite keeps no zone: what we stored was UTC
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
