"""From a posted HTML form to a service's input model, and from refusals back to the fields.

Form conventions (the macros in ``templates/macros.html`` follow them):
- an empty field means "not given" (the model's default, usually None);
- a nested model's fields are named with dots (``labs.c3_g_l``);
- a checkbox is preceded by a hidden ``false`` of the same name, so an unticked box says false
  and a ticked one sends ``false`` then ``on`` (the last value wins);
- a multiple choice sends its values as a list.

Each field is converted by its annotation: ``Decimal`` exactly from the text (the clinical
models refuse numbers written as strings), whole numbers and integer ``Literal`` choices to
``int``, booleans as the checkbox macro sends them; text that is not of its type is named as
the field's error, so the refusal is shown next to it.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from lupus_msc.scoring.jsonio import field_path
from lupus_msc.services.errors import ServiceError

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


@dataclass(frozen=True)
class Refusal:
    """What a form page shows when its input is refused: a message per field, one for the
    whole form, and the status to answer with."""

    errors: dict[str, str]
    message: str
    status: int

    @classmethod
    def of(cls, error: FormErrors | ServiceError) -> Refusal:
        """The refusal to show beside the form; a 401, 403 or 404 is not about the form's
        content and is raised again, for the error page (or the sign-in) to answer."""
        if isinstance(error, FormErrors):
            return cls(error.fields, error.message, 422)
        if error.status in (401, 403, 404):
            raise error
        return cls(dict(error.fields), error.message, error.status)


M = TypeVar("M", bound=BaseModel)
WHOLE = re.compile(r"^[+-]?\d{1,12}$")


def kinds(annotation: Any) -> list[Any]:
    """The types an annotation allows (``Annotated`` unwrapped, ``None`` left out)."""
    if get_origin(annotation) is Annotated:
        return kinds(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        found: list[Any] = []
        for kind in get_args(annotation):
            if kind is not type(None):
                found.extend(kinds(kind))
        return found
    return [annotation]


def _model(annotation: Any) -> type[BaseModel] | None:
    for kind in kinds(annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
    return None


def _is_list(annotation: Any) -> bool:
    return any(get_origin(kind) in (list, set, frozenset, tuple) for kind in kinds(annotation))


def _literal_ints(annotation: Any) -> bool:
    return any(
        get_origin(kind) is Literal and all(isinstance(arg, int) for arg in get_args(kind))
        for kind in kinds(annotation)
    )


def number(text: str) -> Decimal | None:
    """``text`` as an exact finite decimal, or None if it is not one."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _scalar(annotation: Any, text: str) -> tuple[Any, str | None]:
    """The typed value of one field's text, or the message saying why it is not one."""
    allowed = kinds(annotation)
    lowered = text.strip().lower()
    if bool in allowed and (lowered in TRUE or lowered in FALSE):
        return lowered in TRUE, None
    if Decimal in allowed:
        value = number(text)
        return (value, None) if value is not None else (text, "must be a number")
    if int in allowed or _literal_ints(annotation):
        if WHOLE.match(text.strip()):
            return int(text), None
        return text, "must be a whole number"
    return text, None


def _one(value: Any) -> Any:
    return value[-1] if isinstance(value, list) else value


def typed_input(
    model: type[BaseModel], values: dict[str, Any], prefix: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """The input for ``model`` from the form ``values`` (dotted names for nested models; an
    empty field is "not given"), and the fields whose text is not of their type."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, info in model.model_fields.items():
        key = prefix + name
        nested = _model(info.annotation)
        if nested is not None:
            inner, problems = typed_input(nested, values, key + ".")
            errors.update(problems)
            if inner:
                data[name] = inner
            continue
        if key not in values:
            continue
        raw = values[key]
        if _is_list(info.annotation):
            items = raw if isinstance(raw, list) else [raw]
            data[name] = [item for item in items if item != ""]
            continue
        text = _one(raw)
        if not isinstance(text, str):
            data[name] = text  # already typed by the page
            continue
        if text.strip() == "":
            continue
        value, problem = _scalar(info.annotation, text)
        if problem is not None:
            errors[key] = problem
        data[name] = value
    return data, errors


def validated(model: type[M], data: dict[str, Any], errors: dict[str, str]) -> M:
    """``model`` from ``data``, or FormErrors naming every field (type and model problems)."""
    fields = dict(errors)
    try:
        built = model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            fields.setdefault(field_path(tuple(item["loc"])), item["msg"])
        raise FormErrors("please correct the fields marked below", fields) from error
    if fields:
        raise FormErrors("please correct the fields marked below", fields)
    return built


def to_input(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The typed input for ``model``; text that is not of its type is left for the model to
    name."""
    return typed_input(model, values)[0]


def parse(model: type[M], values: dict[str, Any], **fixed: Any) -> M:
    """``model`` from the form's ``values`` (plus ``fixed`` fields the page decides), or
    FormErrors naming each field as the form names it."""
    data, errors = typed_input(model, values)
    return validated(model, {**data, **fixed}, errors)
