"""The screening form ↔ the screening service's input (``services.screening.ScreeningIn``).

Field names (the templates under ``templates/screening/`` use the same):
``screened_on``; ``eular_acr_2019.ana_titer``, ``eular_acr_2019.ana_equivalent_positive``
(``true``/``false``/empty = not recorded), ``eular_acr_2019.criteria`` (one checkbox per §7
criterion); ``sledai2k.<descriptor>`` (``true``/``false``/empty = not assessed, §1),
``sledai2k.labs.<lab>``, ``sledai2k.attribution_confirmed``, ``sledai2k.window_days``,
``sledai2k.flavor``; ``organ_involvement`` (checkboxes); ``treatments.<i>.drug|drug_class|
current|failed`` (a row without a drug is ignored); ``active_infection``, ``pregnant``
(three-valued like the ANA test); ``other.<field>`` for the further fields a protocol's rules name.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from lupus_msc.clinical.eular_acr_2019 import EularAcr2019Input
from lupus_msc.clinical.sledai2k import DESCRIPTORS, Sledai2kInput
from lupus_msc.services.fields import today
from lupus_msc.services.screening import ScreeningIn, TreatmentHistory
from lupus_msc.web.forms import FALSE, TRUE, FormErrors, number, typed_input

ROW = re.compile(r"^treatments\.(\d{1,2})\.drug$")
BLANK_ROWS = 3
"""Empty treatment rows offered below the recorded ones (no JavaScript needed to add one)."""


def _dotted(prefix: str, location: tuple[int | str, ...]) -> str:
    return ".".join([prefix, *(str(part) for part in location)] if prefix else map(str, location))


def _validated(
    model: type[BaseModel], data: dict[str, Any], prefix: str, errors: dict[str, str]
) -> Any:
    """``model`` from ``data``, or None with each problem added to ``errors`` by form name."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            errors.setdefault(_dotted(prefix, tuple(item["loc"])), item["msg"])
        return None


def _last(value: Any) -> str:
    text = value[-1] if isinstance(value, list) else value
    return text.strip() if isinstance(text, str) else ""


def _tri(value: Any) -> bool | None:
    text = _last(value).lower()
    return True if text in TRUE else False if text in FALSE else None


def _eular(values: dict[str, Any], errors: dict[str, str]) -> EularAcr2019Input | None:
    data, problems = typed_input(EularAcr2019Input, values, "eular_acr_2019.")
    errors.update(problems)
    data["ana_equivalent_positive"] = _tri(values.get("eular_acr_2019.ana_equivalent_positive"))
    if data.get("ana_titer") is None and data["ana_equivalent_positive"] is None:
        if data.get("criteria"):
            errors["eular_acr_2019.ana_titer"] = (
                "give the ANA titre or the equivalent test result: the entry criterion needs one"
            )
        return None
    if problems:
        return None
    result: EularAcr2019Input | None = _validated(EularAcr2019Input, data, "eular_acr_2019", errors)
    return result


def _sledai(values: dict[str, Any], errors: dict[str, str]) -> Sledai2kInput | None:
    data, problems = typed_input(Sledai2kInput, values, "sledai2k.")
    errors.update(problems)
    for descriptor in DESCRIPTORS:
        data[descriptor.key] = _tri(values.get(f"sledai2k.{descriptor.key}"))
    if not data.get("labs") and all(data[d.key] is None for d in DESCRIPTORS):
        return None
    if problems:
        return None
    result: Sledai2kInput | None = _validated(Sledai2kInput, data, "sledai2k", errors)
    return result


def _treatments(values: dict[str, Any], errors: dict[str, str]) -> list[TreatmentHistory]:
    rows = sorted(int(match.group(1)) for key in values if (match := ROW.match(key)))
    found = []
    for row in rows:
        prefix = f"treatments.{row}"
        if not _last(values.get(f"{prefix}.drug")):
            continue
        data = {
            "drug": _last(values.get(f"{prefix}.drug")),
            "drug_class": _last(values.get(f"{prefix}.drug_class")) or None,
            "current": _tri(values.get(f"{prefix}.current")) is True,
            "failed": _tri(values.get(f"{prefix}.failed")) is True,
        }
        treatment = _validated(TreatmentHistory, data, prefix, errors)
        if treatment is not None:
            found.append(treatment)
    return found


def _other(
    values: dict[str, Any], kinds: dict[str, type], errors: dict[str, str]
) -> dict[str, Any]:
    """The further rule fields, each typed as its rule compares it (number, yes/no, text)."""
    found: dict[str, Any] = {}
    for field, kind in kinds.items():
        text = _last(values.get(f"other.{field}"))
        if not text:
            continue
        if kind is bool:
            if _tri(text) is not None:
                found[field] = _tri(text)
        elif kind is Decimal:
            value = number(text)
            if value is None:
                errors[f"other.{field}"] = "must be a number"
            else:
                found[field] = value
        else:
            found[field] = text
    return found


def read(
    values: dict[str, Any],
    *,
    other_kinds: dict[str, type],
    lenient: bool = False,
    errors: dict[str, str] | None = None,
) -> ScreeningIn:
    """The screening in the posted form, or FormErrors naming each field.

    ``lenient`` (the live preview) leaves out the parts that cannot be read yet instead of
    refusing, so what can be scored is scored while the user is still typing; the fields left
    out are named in ``errors``.
    """
    errors = {} if errors is None else errors
    data: dict[str, Any] = {
        "eular_acr_2019": _eular(values, errors),
        "sledai2k": _sledai(values, errors),
        "organ_involvement": _list(values.get("organ_involvement")),
        "treatments": _treatments(values, errors),
        "active_infection": _tri(values.get("active_infection")),
        "pregnant": _tri(values.get("pregnant")),
        "other": _other(values, other_kinds, errors),
    }
    if _last(values.get("screened_on")):
        data["screened_on"] = _last(values.get("screened_on"))
    if errors and not lenient:
        raise FormErrors("please correct the fields marked below", errors)
    try:
        return ScreeningIn.model_validate(data)
    except ValidationError as error:
        if lenient:
            errors.update({str(item["loc"][0]): item["msg"] for item in error.errors()})
            return _what_can_be_read(data, error)
        fields = {_dotted("", tuple(item["loc"])): item["msg"] for item in error.errors()}
        raise FormErrors("please correct the fields marked below", fields) from error


def _what_can_be_read(data: dict[str, Any], error: ValidationError) -> ScreeningIn:
    """The preview's input: parts that do not validate left out; no valid date → today."""
    unreadable = {item["loc"][0] for item in error.errors() if item["loc"]}
    kept = {key: value for key, value in data.items() if key not in unreadable}
    if "screened_on" not in kept:
        kept["screened_on"] = today()
    return ScreeningIn.model_validate(kept)


def _list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [item for item in items if isinstance(item, str) and item]


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def prefill(data: dict[str, Any]) -> dict[str, Any]:
    """Form values from a recorded screening's ``data`` (to start a re-screening from it)."""
    values: dict[str, Any] = {"organ_involvement": list(data.get("organ_involvement", []))}
    for key in ("screened_on", "active_infection", "pregnant"):
        if key in data:
            values[key] = _text(data[key])
    eular = data.get("eular_acr_2019") or {}
    for key in ("ana_titer", "ana_equivalent_positive"):
        if key in eular:
            values[f"eular_acr_2019.{key}"] = _text(eular[key])
    values["eular_acr_2019.criteria"] = list(eular.get("criteria", []))
    sledai = data.get("sledai2k") or {}
    for key, value in sledai.items():
        if key == "labs":
            values.update({f"sledai2k.labs.{lab}": _text(v) for lab, v in value.items()})
        else:
            values[f"sledai2k.{key}"] = _text(value)
    for row, treatment in enumerate(data.get("treatments", [])):
        values.update({f"treatments.{row}.{k}": _text(v) for k, v in treatment.items()})
    values.update({f"other.{k}": _text(v) for k, v in data.get("other", {}).items()})
    return values


def treatment_rows(values: dict[str, Any]) -> range:
    """Row numbers to show: every row filled in, then a few empty ones."""
    filled = [int(match.group(1)) for key in values if (match := ROW.match(key))]
    return range(max(filled, default=-1) + 1 + BLANK_ROWS)
