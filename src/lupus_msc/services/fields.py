"""Field types shared by the services' input and output models."""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
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
ShortText = Annotated[str, Field(min_length=1, max_length=100)]
"""Text stored in a 100-character column: a name, a place, a label."""
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
Reason = Annotated[str, Field(min_length=3, max_length=1000)]


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, BaseModel):  # e.g. a clinical instrument's input inside a record
        return any(_holds_nul(item) for item in value.__dict__.values())
    return False


def _scalar(annotation: Any) -> Any:
    """``bool`` for ``bool`` and ``bool | None``; other annotations as they are."""
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [kind for kind in get_args(annotation) if kind is not type(None)]
        return kinds[0] if len(kinds) == 1 else annotation
    return annotation


_JSON_TYPES: dict[Any, tuple[type, ...]] = {
    bool: (bool,),
    dt.date: (str, dt.date),
    dt.datetime: (str, dt.datetime),
}
_MESSAGES = {
    bool: "must be true or false",
    dt.date: "must be a date written YYYY-MM-DD",
    dt.datetime: "must be a date and time written YYYY-MM-DDTHH:MM:SS with its UTC offset",
}


class In(BaseModel):
    """An input model: strict about unknown fields; numbers exact; booleans and dates as JSON
    writes them (``true``, ``"2026-01-31"``: no 0 for false or for 1970); no NUL character in
    any text (PostgreSQL cannot store one, so SQLite must not take one either)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _json_type(cls, value: Any, info: ValidationInfo) -> Any:
        kind = _scalar(cls.model_fields[info.field_name or ""].annotation)
        allowed = _JSON_TYPES.get(kind)
        if allowed is not None and value is not None and not isinstance(value, allowed):
            raise PydanticCustomError("json_type", _MESSAGES[kind])
        return value

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise PydanticCustomError("nul_character", "must not contain the NUL character")
        return value


class Out(BaseModel):
    """An output model built from a stored record."""

    model_config = ConfigDict(from_attributes=True)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
