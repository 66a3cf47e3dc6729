"""What every instrument shares: exact numbers, input and result bases, three-valued logic.

The conventions are those of instruments.md §0 and §16.0: numbers are compared exactly (Decimal,
never binary floats), unknown fields are refused, and a yes/no result is ``True``, ``False`` or
``None`` (undecidable from the inputs given), with ``missing`` naming what would decide it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

Tri = bool | None
"""A three-valued answer: True, False, or None when the inputs given cannot decide it (§0.4)."""


MAX_SIGNIFICANT_DIGITS = 28
"""Decimal's default precision: longer inputs could not be computed with exactly."""
MAGNITUDE_LIMIT = 18
"""Numbers beyond 10^±18 are no clinical measurement, and would make exact arithmetic explode."""


def _reasonable(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise PydanticCustomError("number_type", "must be a finite number")
    if value and not -MAGNITUDE_LIMIT <= value.adjusted() <= MAGNITUDE_LIMIT:
        raise PydanticCustomError("number_size", "must be between 1e-18 and 1e18 in size")
    if len(value.as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
        raise PydanticCustomError("number_size", "has more than 28 significant digits")
    return value


def _exact_decimal(value: object) -> Decimal:
    """Accept a JSON number (int, or Decimal as our JSON reader produces) and refuse the rest."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "must be a number, not true/false")
    if isinstance(value, Decimal):
        return _reasonable(value)
    if isinstance(value, int):
        return _reasonable(Decimal(value))
    if isinstance(value, float) and math.isfinite(value):
        # Callers that parsed JSON lossily still get the shortest decimal that prints the same.
        return Decimal(repr(value))
    raise PydanticCustomError("number_type", "must be a number")


def _whole_number(value: object) -> object:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


WholeNumberOnly = BeforeValidator(_whole_number)
"""Metadata for ``Literal`` integer choices, which would otherwise accept 10.0 for 10."""


def _json_number(value: Decimal) -> int | float:
    """A bound for a JSON schema: integral values as integers, others as floats."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _exact_output(value: Decimal) -> int | Decimal:
    """Integral values as integers; others as the exact decimal without trailing zeros (§16.0)."""
    if value == value.to_integral_value():
        return int(value)
    return Decimal(format(value.normalize(), "f"))


_BOUND_HOLDS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "ge": lambda value, bound: value >= bound,
    "le": lambda value, bound: value <= bound,
    "gt": lambda value, bound: value > bound,
}
_BOUND_WORDS = {"ge": "at least", "le": "at most", "gt": "greater than"}
_BOUND_SCHEMA_KEYS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum"}


@dataclass(frozen=True)
class Num:
    """Field metadata for an exact-decimal input number with optional bounds.

    Use as ``Annotated[Decimal, Num(ge=0, le=3)]``: JSON numbers (ints, or the Decimals our JSON
    reader produces) are accepted, strings and booleans refused, and bounds are checked exactly.
    """

    ge: int | str | None = None
    le: int | str | None = None
    gt: int | str | None = None

    def _bounds(self) -> dict[str, Decimal]:
        given = {"ge": self.ge, "le": self.le, "gt": self.gt}
        return {key: Decimal(bound) for key, bound in given.items() if bound is not None}

    def _check(self, value: Decimal) -> Decimal:
        for key, bound in self._bounds().items():
            if not _BOUND_HOLDS[key](value, bound):
                raise PydanticCustomError(
                    "out_of_range",
                    "must be {relation} {bound} (got {value})",
                    {"relation": _BOUND_WORDS[key], "bound": str(bound), "value": str(value)},
                )
        return value

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            self._check,
            core_schema.no_info_before_validator_function(_exact_decimal, handler(source)),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema: dict[str, Any] = {"type": "number"}
        for key, bound in self._bounds().items():
            json_schema[_BOUND_SCHEMA_KEYS[key]] = _json_number(bound)
        return json_schema


Exact = Annotated[Decimal, Num()]
NonNegative = Annotated[Decimal, Num(ge=0)]
Positive = Annotated[Decimal, Num(gt=0)]
Percent = Annotated[Decimal, Num(ge=0, le=100)]
Pga = Annotated[Decimal, Num(ge=0, le=3)]
"""Physician global assessment on the 0–3 scale (§3)."""
WeightKg = Annotated[Decimal, Num(ge=2, le=400)]
PlateletsPerNl = Annotated[Decimal, Num(ge=0, le=2000)]
"""Platelets, 10⁹/L (§16.0 physiological range)."""
WbcPerNl = Annotated[Decimal, Num(ge=0, le=500)]
"""White cells, 10⁹/L (§16.0 physiological range)."""
TemperatureC = Annotated[Decimal, Num(ge=25, le=45)]
HemoglobinGdl = Annotated[Decimal, Num(ge=0, le=25)]


ExactOut = Annotated[
    Decimal,
    PlainSerializer(_exact_output, return_type=int | Decimal),
    WithJsonSchema({"type": "number"}),
]
"""An output number computed exactly; our JSON writer (scoring.jsonio) prints every digit, and
integers as integers (§16.0)."""


class InstrumentInput(BaseModel):
    """Base of every instrument's input: strict types, unknown fields refused (§16.0)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class InstrumentResult(BaseModel):
    """Base of every instrument's result: which instrument, which section, what was missing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    section: str
    missing: list[str] = Field(default_factory=list)


def all_of(answers: Iterable[Tri]) -> Tri:
    """Three-valued AND (§16.0): False if any is False, else None if any is None, else True."""
    collected = list(answers)
    if any(answer is False for answer in collected):
        return False
    if any(answer is None for answer in collected):
        return None
    return True


def any_of(answers: Iterable[Tri]) -> Tri:
    """Three-valued OR: True if any is True, else None if any is None, else False."""
    collected = list(answers)
    if any(answer is True for answer in collected):
        return True
    if any(answer is None for answer in collected):
        return None
    return False


InputT = TypeVar("InputT", bound=InstrumentInput)
ResultT = TypeVar("ResultT", bound=InstrumentResult)


@dataclass(frozen=True)
class Instrument(Generic[InputT, ResultT]):
    """One scorable instrument: its public name, section, models and pure scoring function."""

    name: str
    section: str
    title: str
    input_model: type[InputT]
    result_model: type[ResultT]
    score: Callable[[InputT], ResultT]
