"""The programme definition: eligibility rules, dosing, visit schedule and release specification.

A protocol is data (DESIGN.md, ``protocol/``): it is read from a versioned YAML file and checked
here. Every model is strict and refuses unknown fields, like the instrument inputs (§16.0).
Cross-field rules raise :class:`FieldIssue`, which names the offending field relative to the model,
so that the loader can report the exact field path and YAML line.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from lupus_msc.cells.release import ReleaseSpec
from lupus_msc.clinical.common import Positive

FieldPath = tuple[str | int, ...]

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
"""A screening-field or rule name: lower-case snake_case."""
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
"""A protocol or visit code: lower case, digits, ``_`` and ``-``."""
Text = Annotated[str, Field(min_length=1, max_length=500)]

Op = Literal["==", "!=", ">=", ">", "<=", "<"]
ORDERING_OPS: frozenset[str] = frozenset({">=", ">", "<=", "<"})

Route = Literal["intravenous", "renal-artery", "local-injection"]
"""Routes seen in SLE/LN studies (§14): intravenous, renal artery (Zeng 2016), local injection."""

Assessment = Literal[
    "eligibility",
    "consent",
    "eular-acr-2019",
    "sledai2k",
    "pga",
    "sfi",
    "labs",
    "serology",
    "urine",
    "egfr",
    "vitals",
    "weight",
    "pregnancy-test",
    "infection-screen",
    "glucocorticoid-dose",
    "medications",
    "facit-f",
    "sdi",
    "ctcae",
    "infusion",
]
"""The fixed vocabulary of assessments a visit may ask for (instruments are named as in §16)."""


class FieldIssue(ValueError):
    """A cross-field rule broken at ``field`` (a path relative to the model that raised it)."""

    def __init__(self, field: FieldPath, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _condition_value(value: object) -> bool | Decimal | str:
    """Accept true/false, a number (kept exact) or text; refuse lists, mappings, dates, nulls."""
    if isinstance(value, bool | str | Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    raise PydanticCustomError("condition_value", "must be true/false, a number or text")


ConditionValue = Annotated[bool | Decimal | str, PlainValidator(_condition_value)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Condition(_Strict):
    """``field op value`` over one named screening field, e.g. ``sledai2k_total >= 8``."""

    field: Identifier
    op: Op
    value: ConditionValue

    @model_validator(mode="after")
    def _ordering_needs_a_number(self) -> Condition:
        if self.op in ORDERING_OPS and not isinstance(self.value, Decimal):
            raise FieldIssue(("value",), f"must be a number for the comparison {self.op}")
        return self


class EligibilityRule(_Strict):
    """One inclusion or exclusion rule, stated as what must hold for a candidate to be eligible."""

    id: Identifier
    description: Text
    condition: Condition


class Dosing(_Strict):
    """Weight-based dose per infusion, its allowed range, and the number of infusions (§14)."""

    route: Route
    dose_per_kg: Positive
    dose_min_per_kg: Positive
    dose_max_per_kg: Positive
    infusions: Annotated[int, Field(ge=1, le=20)]
    interval_days: Annotated[int, Field(ge=1, le=365)] | None = None
    thaw_to_infusion_max_minutes: Annotated[int, Field(ge=1, le=1440)]
    """How long a thawed lot may wait before the infusion starts."""

    @model_validator(mode="after")
    def _consistent(self) -> Dosing:
        if self.dose_min_per_kg > self.dose_per_kg:
            raise FieldIssue(("dose_min_per_kg",), "must be at most dose_per_kg")
        if self.dose_max_per_kg < self.dose_per_kg:
            raise FieldIssue(("dose_max_per_kg",), "must be at least dose_per_kg")
        if self.infusions > 1 and self.interval_days is None:
            raise FieldIssue(("interval_days",), "is required when infusions is more than 1")
        return self

    def infusion_days(self) -> list[int]:
        """Study days of the infusions: 0, then every ``interval_days``."""
        return [index * (self.interval_days or 0) for index in range(self.infusions)]


class Visit(_Strict):
    """A scheduled visit: its study day (0 = first infusion), window, and assessments due."""

    code: Code
    day: Annotated[int, Field(ge=-365, le=3650)]
    window_before_days: Annotated[int, Field(ge=0, le=365)]
    window_after_days: Annotated[int, Field(ge=0, le=365)]
    assessments: list[Assessment]

    @model_validator(mode="after")
    def _assessments_once(self) -> Visit:
        seen: set[str] = set()
        for index, assessment in enumerate(self.assessments):
            if assessment in seen:
                raise FieldIssue(("assessments", index), f"{assessment!r} is listed twice")
            seen.add(assessment)
        return self


def _duplicate(values: list[str]) -> int | None:
    """Index of the first value already seen earlier in ``values``."""
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            return index
        seen.add(value)
    return None


class Protocol(_Strict):
    """A versioned programme definition (DESIGN.md ``protocol/``)."""

    id: Code
    version: Annotated[str, Field(max_length=20, pattern=r"^\d+\.\d+(\.\d+)?$")]
    title: Text
    eligibility: Annotated[list[EligibilityRule], Field(min_length=1)]
    dosing: Dosing
    visits: Annotated[list[Visit], Field(min_length=1)]
    release_spec: ReleaseSpec

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        rule = _duplicate([r.id for r in self.eligibility])
        if rule is not None:
            raise FieldIssue(("eligibility", rule, "id"), "must be unique")
        code = _duplicate([v.code for v in self.visits])
        if code is not None:
            raise FieldIssue(("visits", code, "code"), "must be unique")
        for index in range(1, len(self.visits)):
            if self.visits[index].day <= self.visits[index - 1].day:
                raise FieldIssue(("visits", index, "day"), "must be after the previous visit's day")
        days = {visit.day for visit in self.visits}
        if 0 not in days:
            raise FieldIssue(("visits",), "must include the day-0 (first infusion) visit")
        for day in self.dosing.infusion_days():
            if day not in days:
                raise FieldIssue(("dosing", "interval_days"), f"infusion day {day} has no visit")
        return self
