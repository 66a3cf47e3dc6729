"""From a posted HTML form to a service's input model, and from refusals back to the fields.

Form conventions (the macros in ``templates/macros.html`` follow them):
- an empty field means "not given" (the model's default, usually None);
- a nested model's fields are named with dots (``labs.c3_g_l``);
- a checkbox is preceded by a hidden ``false`` of the same name, so an unticked box says false
  and a ticked one sends ``false`` then ``on`` (the last value wins);
- a multiple choice sends its values as a list.
"""

from __future__ import annotations

import types
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from lupus_msc.scoring.jsonio import field_path
from lupus_msc.services.errors import ServiceError

M = TypeVar("M", bound=BaseModel)
TRUE = frozenset({"on", "true", "yes", "1"})
FALSE = frozenset({"off", "false", "no", "0"})


class FormErrors(Exception):
    """The form cannot be accepted: a message per field name, and one for the whole form."""

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    @classmethod
    def of(cls, error: ServiceError) -> FormErrors:
        return cls(error.message, dict(error.fields))


def _kinds(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [kind for kind in get_args(annotation) if kind is not type(None)]
    return [annotation]


def _model_kind(annotation: Any) -> type[BaseModel] | None:
    for kind in _kinds(annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
    return None


def _is_list(annotation: Any) -> bool:
    return any(get_origin(kind) in (list, set, frozenset, tuple) for kind in _kinds(annotation))


def _one(value: Any) -> Any:
    return value[-1] if isinstance(value, list) else value


def _bool(value: Any) -> Any:
    text = str(_one(value)).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return value  # the model names the field and says what it wants


def to_input(model: type[BaseModel], values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The JSON-like input for ``model`` from the form's ``values`` (see the module docstring)."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = prefix + name
        nested = _model_kind(info.annotation)
        if nested is not None:
            inner = to_input(nested, values, key + ".")
            if inner:
                data[name] = inner
            continue
        if key not in values:
            continue
        value = values[key]
        if _is_list(info.annotation):
            items = value if isinstance(value, list) else [value]
            data[name] = [item for item in items if item != ""]
        elif value in ("", [""]):
            continue
        elif bool in _kinds(info.annotation):
            data[name] = _bool(value)
        else:
            data[name] = _one(value)
    return data


def parse(model: type[M], values: dict[str, Any], **fixed: Any) -> M:
    """``model`` from the form's ``values`` (plus ``fixed`` fields the page decides), or
    FormErrors naming each field as the form names it."""
    try:
        return model.model_validate({**to_input(model, values), **fixed})
    except ValidationError as error:
        fields: dict[str, str] = {}
        for item in error.errors():
            fields.setdefault(field_path(tuple(item["loc"])), item["msg"])
        raise FormErrors("please correct the fields marked below", fields) from error
