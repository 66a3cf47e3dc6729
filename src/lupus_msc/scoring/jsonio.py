"""Exact JSON for the score interface (§16.0): numbers read as Decimal, errors named by field."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson
from pydantic import BaseModel, ValidationError


class ScoreInputError(ValueError):
    """Bad input for an instrument: carries one (field, message) entry per problem."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


def _refuse_constant(name: str) -> Any:
    raise ScoreInputError([("(body)", f"{name} is not a JSON number")])


def parse_exact(text: str | bytes) -> Any:
    """Parse JSON text, reading every non-integer number as an exact ``Decimal``."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ScoreInputError([("(body)", f"not valid JSON: {error}")]) from error


def field_path(location: tuple[int | str, ...], prefix: str = "") -> str:
    """``("labs", "platelets_10e9_l")`` → ``labs.platelets_10e9_l``; list positions as ``[i]``."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(body)"


# Plainer words for pydantic's most common messages; the rest are clear as they are.
_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
}


def validation_problems(error: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """Pydantic's errors as (field path, message) pairs."""
    return [
        (
            field_path(item["loc"], prefix),
            _MESSAGES.get(item["type"], item["msg"].removeprefix("Value error, ")),
        )
        for item in error.errors()
    ]


def to_json(result: BaseModel | list[BaseModel]) -> str:
    """A result (or list of results) as JSON text, exact decimals printed digit for digit."""
    if isinstance(result, list):
        data: Any = [item.model_dump() for item in result]
    else:
        data = result.model_dump()
    text: str = simplejson.dumps(data, use_decimal=True, ensure_ascii=False)
    return text
