"""An infusion's start and end times must both carry a time zone (a naive end time used to reach
the comparison with the aware start and fail there with a TypeError instead of a field error)."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from lupus_msc.services.infusions import InfusionIn
from tests.pathway_helpers import infusion_body


def _body(started_at: str, ended_at: str | None) -> dict[str, object]:
    body = infusion_body({"id": str(uuid.uuid4())}, started_at)
    body["ended_at"] = ended_at
    return body


def test_an_end_time_without_a_time_zone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="ended_at must carry a time zone"):
        InfusionIn.model_validate(_body("2026-02-01T10:30:00+00:00", "2026-02-01 11:00"))


def test_a_start_time_without_a_time_zone_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="started_at must carry a time zone"):
        InfusionIn.model_validate(_body("2026-02-01T10:30:00", None))


def test_aware_times_in_order_are_accepted_and_an_end_before_the_start_is_not() -> None:
    accepted = InfusionIn.model_validate(
        _body("2026-02-01T10:30:00+00:00", "2026-02-01T12:00:00+01:00")
    )
    assert accepted.ended_at is not None and accepted.ended_at > accepted.started_at
    with pytest.raises(ValidationError, match="ended_at must not be before started_at"):
        InfusionIn.model_validate(_body("2026-02-01T10:30:00+00:00", "2026-02-01T11:00:00+01:00"))
