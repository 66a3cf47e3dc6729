"""Posted forms to service input: numbers typed exactly by annotation, checkboxes, dotted
nested fields, field-named refusals; and which service refusals stay beside the form."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import pytest
from pydantic import BaseModel

from lupus_msc.services.errors import Forbidden, NotFound, Refused, refused
from lupus_msc.services.infusions import Vitals
from lupus_msc.web.forms import FormErrors, Refusal, parse


class Inner(BaseModel):
    c3_g_l: Decimal | None = None


class Sample(BaseModel):
    weight_kg: Decimal
    pga_band: Literal[0, 1, 2, 3] = 0
    fever: bool = False
    labs: Inner = Inner()
    tags: list[str] = []


def test_numbers_are_exact_decimals_and_ticked_boxes_are_true() -> None:
    got = parse(
        Sample,
        {
            "weight_kg": "61.10",
            "pga_band": "2",
            "fever": ["false", "on"],
            "labs.c3_g_l": "0.9",
            "tags": "a",
        },
    )
    assert got.weight_kg == Decimal("61.10") and str(got.weight_kg) == "61.10"
    assert (got.pga_band, got.fever, got.labs.c3_g_l, got.tags) == (2, True, Decimal("0.9"), ["a"])


def test_an_unticked_box_is_false_and_an_empty_field_is_not_given() -> None:
    got = parse(Sample, {"weight_kg": "70", "fever": "false", "labs.c3_g_l": ""})
    assert got.fever is False and got.labs.c3_g_l is None


def test_text_that_is_not_a_number_is_refused_by_field_name() -> None:
    with pytest.raises(FormErrors) as caught:
        parse(Sample, {"weight_kg": "sixty", "labs.c3_g_l": "low"})
    assert caught.value.fields == {
        "weight_kg": "must be a number",
        "labs.c3_g_l": "must be a number",
    }


def test_a_service_model_refuses_implausible_values_by_field() -> None:
    with pytest.raises(FormErrors) as caught:
        parse(
            Vitals,
            {
                "systolic_mmhg": "400",
                "diastolic_mmhg": "80",
                "heart_rate_bpm": "70",
                "temperature_c": "36.8",
            },
        )
    assert set(caught.value.fields) == {"systolic_mmhg"}


def test_rule_refusals_stay_beside_the_form_and_access_refusals_do_not() -> None:
    shown = Refusal.of(refused("lot_id", "is not released"))
    assert (shown.errors, shown.status) == ({"lot_id": "is not released"}, 409)
    assert Refusal.of(FormErrors("bad", {"x": "y"})).status == 422
    for error in (Forbidden("no"), NotFound("none")):
        with pytest.raises(type(error)):
            Refusal.of(error)
    assert isinstance(refused("a", "b"), Refused)
