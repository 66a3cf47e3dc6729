"""Evaluate a protocol's eligibility rules on screening data, three-valued (§0.4, §16.0)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal

from lupus_msc.clinical.common import Tri, all_of
from lupus_msc.protocol.model import Condition, EligibilityRule, Protocol

_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">=": lambda left, right: left >= right,
    ">": lambda left, right: left > right,
    "<=": lambda left, right: left <= right,
    "<": lambda left, right: left < right,
}


def _as_number(value: object, field: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    raise TypeError(f"screening field {field} must be a number, got {value!r}")


def _same_kind(value: object, condition: Condition) -> object:
    """The screening value in the rule's kind: a number as Decimal; bool and text as they are."""
    expected = condition.value
    if isinstance(expected, Decimal):
        return _as_number(value, condition.field)
    if isinstance(expected, bool) and not isinstance(value, bool):
        raise TypeError(f"screening field {condition.field} must be true/false, got {value!r}")
    if isinstance(expected, str) and not isinstance(value, str):
        raise TypeError(f"screening field {condition.field} must be text, got {value!r}")
    return value


def evaluate(rule: EligibilityRule, screening: Mapping[str, object]) -> Tri:
    """Whether ``rule`` holds; None when its screening field is missing or null (§0.4).

    Comparisons are literal and exact (§0.1): ``sledai2k_total >= 8`` holds for 8, not for 7.
    A value of the wrong kind (text for a number, 1 for true/false) raises TypeError.
    """
    condition = rule.condition
    raw = screening.get(condition.field)
    if raw is None:
        return None
    if isinstance(condition.value, Decimal) and condition.op in _COMPARE:
        return _COMPARE[condition.op](_as_number(raw, condition.field), condition.value)
    value = _same_kind(raw, condition)
    return (value == condition.value) is (condition.op == "==")


def evaluate_all(protocol: Protocol, screening: Mapping[str, object]) -> dict[str, Tri]:
    """Every eligibility rule of ``protocol`` by id, in the protocol's order."""
    return {rule.id: evaluate(rule, screening) for rule in protocol.eligibility}


def eligible(protocol: Protocol, screening: Mapping[str, object]) -> Tri:
    """All rules hold (three-valued AND, §16.0): False if one fails, None if one is undecided."""
    return all_of(evaluate_all(protocol, screening).values())
