"""Score JSON input with one instrument: one object → one result, an array → an array (§16.0)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from lupus_msc.clinical.common import Instrument
from lupus_msc.scoring.jsonio import ScoreInputError, parse_exact, to_json, validation_problems
from lupus_msc.scoring.registry import get_instrument


def _validate_one(instrument: Instrument[Any, Any], data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ScoreInputError([(prefix or "(body)", "must be a JSON object")])
    try:
        return instrument.input_model.model_validate(data)
    except ValidationError as error:
        raise ScoreInputError(validation_problems(error, prefix)) from error


def score_data(name: str, data: Any) -> BaseModel | list[BaseModel]:
    """Validate every element first (one bad element rejects the whole array), then score."""
    instrument = get_instrument(name)
    if isinstance(data, list):
        problems: list[tuple[str, str]] = []
        inputs = []
        for index, element in enumerate(data):
            try:
                inputs.append(_validate_one(instrument, element, f"[{index}]"))
            except ScoreInputError as error:
                problems.extend(error.problems)
        if problems:
            raise ScoreInputError(problems)
        return [instrument.score(item) for item in inputs]
    result: BaseModel = instrument.score(_validate_one(instrument, data, ""))
    return result


def score_text(name: str, text: str | bytes) -> str:
    """JSON text in, JSON text out; raises ``ScoreInputError`` or ``UnknownInstrument``."""
    get_instrument(name)  # an unknown name is reported before the body is read
    return to_json(score_data(name, parse_exact(text)))
