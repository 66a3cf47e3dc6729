"""The chain of custody: append-only events, state moves through the lot state machine."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import custody, lots, products
from lupus_msc.services.custody import CustodyIn
from lupus_msc.services.errors import Forbidden
from lupus_msc.services.lots import AllocationIn
from lupus_msc.store.models import CustodyEvent, CustodyKind, Lot
from tests.registry_fixtures import Registry
from tests.services.test_products import (
    fields,
    freeze_today,
    new_lot,
    new_patient,
    read,
    refused_unchanged,
    released_lot,
    write,
)


@pytest.fixture
def frozen() -> Iterator[dt.date]:
    yield from freeze_today()


def _at(hours_ago: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)


def _event(kind: str, at: dt.datetime, **changes: Any) -> CustodyIn:
    values = {"kind": kind, "at": at, "location": "Cell lab, A01", **changes}
    return CustodyIn.model_validate(values)


def _append(registry: Registry, lot_id: uuid.UUID, data: CustodyIn) -> CustodyEvent:
    event: CustodyEvent = write(registry, "lab", lambda s, a: custody.record(s, a, lot_id, data))
    return event


def _lot(registry: Registry, lot_id: uuid.UUID) -> Lot:
    def detached(session: Any, who: Any) -> Lot:
        lot = products.get_lot(session, who, lot_id)
        session.expunge(lot)
        return lot

    found: Lot = read(registry, "lab", detached)
    return found


def _allocated(registry: Registry) -> uuid.UUID:
    lot_id, patient_id = released_lot(registry), new_patient(registry)
    data = AllocationIn(patient_id=patient_id)
    write(registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, data))
    return lot_id


def test_ship_and_thaw_move_the_lot_and_the_chain_reads_in_order(registry: Registry) -> None:
    lot_id = _allocated(registry)
    _append(registry, lot_id, _event("received", _at(30), location="Cryostore A01"))
    thawed_at = _at(1)
    not_shipped = _refused(registry, lot_id, _event("thawed", thawed_at, location="Ward 3"))
    assert "cannot go from allocated to thawed" in not_shipped.message
    _append(registry, lot_id, _event("shipped", _at(3), note="dry shipper DS-4"))
    _append(registry, lot_id, _event("thawed", thawed_at, location="Ward 3"))
    lot = _lot(registry, lot_id)
    assert lot.state is LotState.THAWED and lot.thawed_at == thawed_at
    chain = read(registry, "monitor", lambda s, a: custody.chain(s, a, lot_id))
    assert [event.kind for event in chain] == [
        CustodyKind.RECEIVED,
        CustodyKind.SHIPPED,
        CustodyKind.THAWED,
    ]
    assert chain[1].by_id == registry.users["lab"] and chain[1].note == "dry shipper DS-4"


def _refused(registry: Registry, lot_id: uuid.UUID, data: CustodyIn) -> Any:
    return refused_unchanged(registry, "lab", lambda s, a: custody.record(s, a, lot_id, data))


def test_an_illegal_move_is_refused_naming_the_kind(registry: Registry) -> None:
    lot_id = released_lot(registry)
    error = _refused(registry, lot_id, _event("shipped", _at(1)))
    assert error.status == 409 and fields(error) == ["kind"]
    assert "cannot go from released to shipped" in error.message


@pytest.mark.parametrize("kind", ["bedside-verified", "infused"])
def test_infusion_events_are_not_recorded_here(registry: Registry, kind: str) -> None:
    error = _refused(registry, _allocated(registry), _event(kind, _at(1)))
    assert error.status == 422 and fields(error) == ["kind"]
    assert "infusion service" in error.message


def test_an_event_in_the_future_is_refused(registry: Registry, frozen: dt.date) -> None:
    in_a_minute = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    error = _refused(registry, new_lot(registry), _event("stored", in_a_minute))
    assert fields(error) == ["at"]


def test_an_event_before_cryopreservation_is_refused(registry: Registry) -> None:
    before = dt.datetime(2020, 1, 31, 23, 0, tzinfo=dt.UTC)  # the lot is cryopreserved 2020-02-01
    error = _refused(registry, new_lot(registry), _event("stored", before))
    assert fields(error) == ["at"]


def test_a_move_dated_before_the_previous_move_is_refused(registry: Registry) -> None:
    lot_id = _allocated(registry)
    _append(registry, lot_id, _event("shipped", _at(2)))
    error = _refused(registry, lot_id, _event("thawed", _at(3)))
    assert fields(error) == ["at"] and "before the lot was shipped" in error.message


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _event("stored", dt.datetime(2024, 1, 1, 12))  # noqa: DTZ001 - the point of the test


def test_a_discard_needs_a_reason(registry: Registry) -> None:
    lot_id = released_lot(registry)
    error = _refused(registry, lot_id, _event("discarded", _at(1)))
    assert fields(error) == ["reason"]
    _append(registry, lot_id, _event("discarded", _at(1), reason="bag cracked on removal"))
    assert _lot(registry, lot_id).state is LotState.DISCARDED
    gone = _refused(registry, lot_id, _event("moved", _at(0.5)))
    assert fields(gone) == ["kind"] and "discarded" in gone.message


def test_storing_or_moving_updates_the_storage_location(registry: Registry) -> None:
    lot_id = new_lot(registry)
    _append(registry, lot_id, _event("moved", _at(5), location="LN2 tank 7, rack 1"))
    assert _lot(registry, lot_id).storage_location == "LN2 tank 7, rack 1"


def test_a_monitor_cannot_record_custody(registry: Registry) -> None:
    lot_id, data = new_lot(registry), _event("stored", _at(1))
    error = refused_unchanged(registry, "monitor", lambda s, a: custody.record(s, a, lot_id, data))
    assert isinstance(error, Forbidden)
