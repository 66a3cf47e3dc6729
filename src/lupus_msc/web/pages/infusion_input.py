"""The infusion forms' text as typed numbers: ``web.forms.to_input`` passes text on, while the
services' input models take JSON numbers only (``clinical.common.Num``). Each field is converted
by its annotation (``Decimal`` exactly, whole numbers to ``int``); text that is not a number is
named, so the refusal is shown next to its field."""

from __future__ import annotations

import re
import types
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from lupus_msc.scoring.jsonio import field_path
from lupus_msc.web.forms import FormErrors, to_input

M = TypeVar("M", bound=BaseModel)
WHOLE = re.compile(r"^[+-]?\d{1,12}$")


def _kinds(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Annotated:
        return _kinds(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [kind for arg in get_args(annotation) for kind in _kinds(arg)]
    return [annotation]


def _number(kinds: list[Any], text: str) -> tuple[Any, str | None]:
    if Decimal in kinds:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            return text, "must be a number"
        return (value, None) if value.is_finite() else (text, "must be a number")
    if int in kinds:
        return (int(text), None) if WHOLE.match(text.strip()) else (text, "must be a whole number")
    return text, None


def _typed(
    model: type[BaseModel], data: dict[str, Any], prefix: str, errors: dict[str, str]
) -> None:
    for name, info in model.model_fields.items():
        if name not in data:
            continue
        kinds = _kinds(info.annotation)
        nested = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
        if nested is not None and isinstance(data[name], dict):
            _typed(nested, data[name], f"{prefix}{name}.", errors)
        elif isinstance(data[name], str):
            data[name], problem = _number(kinds, data[name])
            if problem:
                errors[prefix + name] = problem


def parse_numbers(model: type[M], values: dict[str, Any]) -> M:
    """``model`` from a posted form, numbers typed; FormErrors names every bad field."""
    data = to_input(model, values)
    errors: dict[str, str] = {}
    _typed(model, data, "", errors)
    try:
        built = model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            errors.setdefault(field_path(tuple(item["loc"])), item["msg"])
    if errors:
        raise FormErrors("please correct the fields marked below", errors)
    return built
