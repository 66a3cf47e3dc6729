"""Versioned programme definitions (DESIGN.md ``protocol/``) and the shipped default protocol."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from lupus_msc.protocol.eligibility import eligible, evaluate, evaluate_all
from lupus_msc.protocol.loading import ProtocolError, load_protocol
from lupus_msc.protocol.model import Condition, Dosing, EligibilityRule, Protocol, Visit

DEFAULT_PROTOCOL_FILE = "default_uc_msc.yaml"


def default_protocol_text() -> str:
    """The YAML text of the shipped default protocol."""
    return files("lupus_msc.protocol").joinpath(DEFAULT_PROTOCOL_FILE).read_text(encoding="utf-8")


@cache
def default_protocol() -> Protocol:
    """The shipped default: intravenous umbilical-cord MSC at 1 × 10⁶ cells/kg (§14)."""
    return load_protocol(default_protocol_text())


__all__ = [
    "DEFAULT_PROTOCOL_FILE",
    "Condition",
    "Dosing",
    "EligibilityRule",
    "Protocol",
    "ProtocolError",
    "Visit",
    "default_protocol",
    "default_protocol_text",
    "eligible",
    "evaluate",
    "evaluate_all",
    "load_protocol",
]
