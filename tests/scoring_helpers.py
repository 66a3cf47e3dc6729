"""Score a payload exactly as the score interface would, for instrument tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from lupus_msc.clinical.common import Instrument
from lupus_msc.scoring.jsonio import parse_exact, to_json, validation_problems


def score_json(instrument: Instrument[Any, Any], payload: dict[str, Any] | str) -> dict[str, Any]:
    """Score ``payload`` (a dict, or JSON text read exactly) and return the result as JSON data.

    A dict is round-tripped through JSON text so that its floats are read the way the CLI and the
    API read them: as exact decimals.
    """
    text = payload if isinstance(payload, str) else json.dumps(payload)
    model = instrument.input_model.model_validate(parse_exact(text))
    result: dict[str, Any] = json.loads(to_json(instrument.score(model)))
    return result


def refused_fields(instrument: Instrument[Any, Any], payload: dict[str, Any]) -> list[str]:
    """The field paths named when ``payload`` is refused; fails the test if it is accepted."""
    with pytest.raises(ValidationError) as caught:
        instrument.input_model.model_validate(parse_exact(json.dumps(payload)))
    return [field for field, _ in validation_problems(caught.value)]
