"""Kept for the pages that imported the typed form parsing from here; it lives in web.forms."""

from lupus_msc.web.forms import kinds, number, typed_input, validated
from lupus_msc.web.forms import parse as parse_typed

__all__ = ["kinds", "number", "parse_typed", "typed_input", "validated"]
