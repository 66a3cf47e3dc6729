"""Release tests and the release decision: the lot-release rule of issue 5, one test per part
(§14; isct-release §16.14)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
import uuid
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from lupus_msc.cells.lot_state import LotState
from lupus_msc.cells.release import IsctReleaseInput
from lupus_msc.services import products, release
from lupus_msc.services.errors import Forbidden, NotFound
from lupus_msc.services.release import ReleaseTestIn, TestName
from lupus_msc.store.models import Lot, QualificationKind, ReleaseDecision, ReleaseTest
from tests.registry_fixtures import Registry
from tests.services.test_products import (
    PASSING,
    actor,
    fields,
    new_lot,
    read,
    record_results,
    refused_unchanged,
    release_in,
    released_lot,
    write,
)

TESTED = dt.date(2020, 2, 3)


def _test(name: str, value: Any, **changes: Any) -> ReleaseTestIn:
    return ReleaseTestIn.model_validate(
        {"name": name, "value": value, "tested_on": TESTED, **changes}
    )


def _record(registry: Registry, lot_id: uuid.UUID, data: ReleaseTestIn) -> ReleaseTest:
    test: ReleaseTest = write(registry, "lab", lambda s, a: release.record_test(s, a, lot_id, data))
    return test


def _tests(registry: Registry, lot_id: uuid.UUID) -> list[ReleaseTest]:
    found: list[ReleaseTest] = read(registry, "lab", lambda s, a: release.list_tests(s, a, lot_id))
    return found


def _state(registry: Registry, lot_id: uuid.UUID) -> LotState:
    state: LotState = read(registry, "lab", lambda s, a: products.get_lot(s, a, lot_id).state)
    return state


def test_the_test_names_are_the_isct_release_inputs() -> None:
    inputs = [name for name in IsctReleaseInput.model_fields if name != "spec"]
    assert list(typing.get_args(TestName)) == inputs
    assert set(PASSING) | {"endotoxin_eu_ml", "dose_volume_ml", "recipient_weight_kg"} == set(
        inputs
    )


def test_a_name_that_is_no_release_input_is_refused() -> None:
    with pytest.raises(ValidationError, match="name"):
        _test("karyotype", "normal")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("viability_pct", 120),
        ("cd105_pct", -1),
        ("sterility", "maybe"),
        ("plastic_adherent", "yes"),
        ("mycoplasma", True),
        ("endotoxin_eu_per_kg", -0.1),
        ("recipient_weight_kg", 1),
    ],
)
def test_a_result_the_instrument_would_refuse_is_refused(
    registry: Registry, name: str, value: Any
) -> None:
    lot_id, data = new_lot(registry), _test(name, value)
    error = refused_unchanged(registry, "lab", lambda s, a: release.record_test(s, a, lot_id, data))
    assert error.status == 422 and fields(error) == ["value"]


def test_a_result_is_judged_against_the_lots_specification(registry: Registry) -> None:
    lot_id = new_lot(registry)
    low = _record(registry, lot_id, _test("viability_pct", 69.9))
    assert (low.within_spec, low.specification) == (False, "≥ 70 %")
    marker = _record(registry, lot_id, _test("cd45_pct", 2))
    assert (marker.within_spec, marker.specification) == (True, "≤ 2 % of cells")
    sterile = _record(registry, lot_id, _test("sterility", "negative"))
    assert (sterile.within_spec, sterile.specification) == (True, "negative")
    assert sterile.recorded_by_id == registry.users["lab"]


def test_an_exact_value_is_kept_digit_for_digit(registry: Registry) -> None:
    lot_id = new_lot(registry)
    _record(registry, lot_id, _test("cd90_pct", Decimal("95.000000000001")))
    (stored,) = _tests(registry, lot_id)
    assert stored.result["value"] == Decimal("95.000000000001")
    assert release.test_view(stored).value == 95.000000000001


def test_endotoxin_parts_are_judged_once_all_three_are_known(registry: Registry) -> None:
    lot_id = new_lot(registry)
    first = _record(registry, lot_id, _test("endotoxin_eu_ml", 2))
    _record(registry, lot_id, _test("dose_volume_ml", 100))
    third = _record(registry, lot_id, _test("recipient_weight_kg", 50))
    assert first.within_spec is None
    assert third.within_spec is True  # 2 EU/mL × 100 mL ÷ 50 kg = 4 EU/kg ≤ 5
    data = _test("endotoxin_eu_per_kg", 1)
    error = refused_unchanged(registry, "lab", lambda s, a: release.record_test(s, a, lot_id, data))
    assert error.status == 409 and fields(error) == ["name"]


def test_a_retest_needs_a_reason_and_supersedes_the_first_result(registry: Registry) -> None:
    lot_id = new_lot(registry)
    _record(registry, lot_id, _test("viability_pct", 65))
    again = _test("viability_pct", 88)
    error = refused_unchanged(
        registry, "lab", lambda s, a: release.record_test(s, a, lot_id, again)
    )
    assert fields(error) == ["reason"]
    _record(registry, lot_id, _test("viability_pct", 88, reason="first count on a clumped vial"))
    tests = _tests(registry, lot_id)
    assert [(t.result["value"], t.superseded) for t in tests] == [(65, True), (88, False)]


def test_a_test_dated_tomorrow_is_refused(registry: Registry) -> None:
    lot_id = new_lot(registry)
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    data = _test("sterility", "negative", tested_on=tomorrow)
    error = refused_unchanged(registry, "lab", lambda s, a: release.record_test(s, a, lot_id, data))
    assert fields(error) == ["tested_on"]


def test_no_test_is_recorded_once_the_lot_left_quarantine(registry: Registry) -> None:
    lot_id, data = released_lot(registry), _test("mycoplasma", "negative", reason="late retest")
    error = refused_unchanged(registry, "lab", lambda s, a: release.record_test(s, a, lot_id, data))
    assert error.status == 409 and fields(error) == ["state"]


def test_a_monitor_cannot_record_a_test(registry: Registry) -> None:
    lot_id, data = new_lot(registry), _test("mycoplasma", "negative")
    error = refused_unchanged(
        registry, "monitor", lambda s, a: release.record_test(s, a, lot_id, data)
    )
    assert isinstance(error, Forbidden)


# --- the decision -------------------------------------------------------------------------------


def test_a_lot_with_every_result_in_specification_is_released(registry: Registry) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id)
    decision: ReleaseDecision = write(
        registry, "lab", lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert decision.decision == "release" and decision.failures == []
    assert decision.signer_name == "Lab" and decision.signed_by_id == registry.users["lab"]
    assert decision.meaning == "I approve this lot for clinical use"
    assert abs(decision.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert _state(registry, lot_id) is LotState.RELEASED


def test_release_is_refused_while_a_result_is_missing(registry: Registry) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id, {k: v for k, v in PASSING.items() if k != "mycoplasma"})
    error = refused_unchanged(
        registry, "lab", lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert error.status == 409 and fields(error) == ["deviation"]
    assert "mycoplasma: no result" in error.message
    assert _state(registry, lot_id) is LotState.QUARANTINE


def test_release_is_refused_with_a_result_out_of_specification(registry: Registry) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id, {**PASSING, "cd73_pct": Decimal("94.9")})
    error = refused_unchanged(
        registry, "lab", lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert "cd73_pct: out of specification" in error.message


def test_a_documented_deviation_allows_release_and_keeps_the_failures(registry: Registry) -> None:
    lot_id = new_lot(registry)
    results = {k: v for k, v in PASSING.items() if k != "sterility"}
    record_results(registry, lot_id, {**results, "viability_pct": 68})
    deviation = "14-day sterility pending; viability 68 % accepted by the QP (deviation DV-12)"
    decision: ReleaseDecision = write(
        registry,
        "lab",
        lambda s, a: release.decide(s, a, lot_id, release_in(deviation=deviation)),
    )
    assert decision.deviation == deviation
    assert decision.failures == [
        {"test": "viability_pct", "problem": "out of specification"},
        {"test": "sterility", "problem": "no result"},
    ]
    assert _state(registry, lot_id) is LotState.RELEASED


def test_release_is_refused_without_a_lot_release_qualification(registry: Registry) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id)
    error = refused_unchanged(
        registry, "lab_unqualified", lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert error.status == 409 and fields(error) == ["qualification"]


def test_release_is_refused_with_an_expired_qualification(registry: Registry) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    lapsed = dataclasses.replace(
        actor(registry, "lab"),
        qualifications=((QualificationKind.LOT_RELEASE, dt.date(2020, 1, 1), yesterday),),
    )
    error = refused_unchanged(
        registry, lapsed, lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert fields(error) == ["qualification"]


def test_release_is_refused_with_a_wrong_password(registry: Registry) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id)
    wrong = release_in(password="not my password")  # noqa: S106 - the point of the test
    error = refused_unchanged(registry, "lab", lambda s, a: release.decide(s, a, lot_id, wrong))
    assert error.status == 409 and fields(error) == ["password"]


def test_a_lot_out_of_quarantine_is_not_decided_again(registry: Registry) -> None:
    lot_id = released_lot(registry)
    error = refused_unchanged(
        registry, "lab", lambda s, a: release.decide(s, a, lot_id, release_in(decision="reject"))
    )
    assert error.status == 409 and fields(error) == ["state"]


def test_an_expired_lot_is_not_released(registry: Registry) -> None:
    lot_id = new_lot(registry, expires_on=dt.date(2021, 2, 1))
    record_results(registry, lot_id)
    error = refused_unchanged(
        registry, "lab", lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert fields(error) == ["expires_on"]


def test_a_nurse_cannot_release(registry: Registry) -> None:
    lot_id = new_lot(registry)
    error = refused_unchanged(
        registry, "nurse", lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert isinstance(error, Forbidden)


def test_another_sites_lot_is_not_found_for_release(registry: Registry) -> None:
    lot_id = new_lot(registry)
    other_site = dataclasses.replace(actor(registry, "lab"), site_ids=frozenset())
    error = refused_unchanged(
        registry, other_site, lambda s, a: release.decide(s, a, lot_id, release_in())
    )
    assert isinstance(error, NotFound)


def test_a_rejection_needs_no_complete_results_and_records_the_failures(
    registry: Registry,
) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id, {"sterility": "positive"})
    meaning = "I reject this lot: sterility failure"
    decision: ReleaseDecision = write(
        registry,
        "lab",
        lambda s, a: release.decide(s, a, lot_id, release_in(decision="reject", meaning=meaning)),
    )
    assert decision.failures[0] == {"test": "sterility", "problem": "out of specification"}
    assert {"test": "mycoplasma", "problem": "no result"} in decision.failures
    assert _state(registry, lot_id) is LotState.REJECTED
    with registry.database.sessions() as session:
        kept = session.scalars(select(Lot).where(Lot.id == lot_id)).one()
        assert kept.state is LotState.REJECTED


def test_the_evaluation_shows_what_is_missing_and_what_fails(registry: Registry) -> None:
    lot_id = new_lot(registry)
    record_results(registry, lot_id, {"viability_pct": 50, "sterility": "negative"})
    result = read(registry, "statistician", lambda s, a: release.evaluate(s, a, lot_id))
    assert result.releasable is False
    assert result.failures == ["viability_pct"]
    assert "mycoplasma" in result.missing and "sterility" not in result.missing
