"""Field types shared by the services' input and output models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

MAX_DIGITS = 15
"""Registry numbers keep at most 15 significant digits, so a JSON number carries them exactly."""


def _fifteen_digits(value: Decimal) -> Decimal:
    if len(value.normalize().as_tuple().digits) > MAX_DIGITS:
        raise PydanticCustomError("number_size", "has more than 15 significant digits")
    return value


Digits = AfterValidator(_fifteen_digits)
"""Use with ``Num`` bounds: ``Annotated[Decimal, Num(ge=2, le=400), Digits]``."""


def _json_number(value: Decimal) -> int | float:
    if value == value.to_integral_value():
        return int(value)
    return float(value)


NumberOut = Annotated[
    Decimal,
    PlainSerializer(_json_number, return_type=int | float),
    WithJsonSchema({"type": "number"}),
]
"""A stored exact decimal shown as a JSON number (at most 15 significant digits, so exact)."""

Text = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
Reason = Annotated[str, Field(min_length=3, max_length=1000)]


class In(BaseModel):
    """An input model: strict about unknown fields; numbers exact."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Out(BaseModel):
    """An output model built from a stored record."""

    model_config = ConfigDict(from_attributes=True)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
