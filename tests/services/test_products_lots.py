"""Lots: chain-of-identity codes, plausible values, reading by code, allocation (§14)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lupus_msc.cells.identity import validate_lot_code
from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import lots, products
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import Forbidden, Invalid, NotFound
from lupus_msc.services.lots import AllocationIn
from lupus_msc.store.models import DonorKind, Lot, PatientState
from tests.registry_fixtures import Registry
from tests.services.test_products import (
    elsewhere,
    fields,
    freeze_today,
    lot_in,
    new_donor,
    new_harvest,
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


def _lot(registry: Registry, lot_id: Any) -> Lot:
    def detached(session: Session, who: Actor) -> Lot:
        lot = products.get_lot(session, who, lot_id)
        session.expunge(lot)
        return lot

    found: Lot = read(registry, "lab", detached)
    return found


def test_it_numbers_lots_per_site_and_cryopreservation_year(registry: Registry) -> None:
    harvest_id = new_harvest(registry, on=dt.date(2001, 1, 1))
    first = _lot(registry, new_lot(registry, harvest_id, cryopreserved_on=dt.date(2001, 3, 1)))
    second = _lot(registry, new_lot(registry, harvest_id, cryopreserved_on=dt.date(2001, 4, 1)))
    next_year = _lot(registry, new_lot(registry, harvest_id, cryopreserved_on=dt.date(2002, 1, 2)))
    assert first.code[:-1] == "A01-2001-000001-"
    assert second.code[:-1] == "A01-2001-000002-"
    assert next_year.code[:-1] == "A01-2002-000001-"
    for lot in (first, second, next_year):
        validate_lot_code(lot.code)
    assert first.state is LotState.QUARANTINE


def test_a_lot_carries_its_protocols_release_spec(registry: Registry) -> None:
    lot = _lot(registry, new_lot(registry))
    spec = products.spec_of(lot)
    assert spec.viability_min_pct == 70 and spec.endotoxin_max_eu_per_kg == 5
    assert products.view(lot).release_spec.positive_marker_min_pct == 95


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("passage", 0),
        ("passage", 11),
        ("total_cells", Decimal("9.9e5")),
        ("total_cells", Decimal("1.1e11")),
        ("viable_cells_per_ml", Decimal(99_999)),
        ("viable_cells_per_ml", Decimal("1.01e8")),
        ("viability_pct", Decimal("100.1")),
        ("volume_ml", Decimal(0)),
        ("volume_ml", Decimal(1001)),
    ],
)
def test_an_implausible_lot_value_is_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        lot_in(uuid.uuid4(), **{field: value})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cryopreserved_on": dt.date(2020, 1, 9)}, "cryopreserved_on"),
        ({"expires_on": dt.date(2020, 2, 1)}, "expires_on"),
        ({"expires_on": dt.date(2030, 2, 2)}, "expires_on"),
    ],
)
def test_implausible_lot_dates_are_refused(
    registry: Registry, changes: dict[str, Any], field: str
) -> None:
    data = lot_in(new_harvest(registry, on=dt.date(2020, 1, 10)), **changes)
    error = refused_unchanged(registry, "lab", lambda s, a: lots.create_lot(s, a, data))
    assert error.status == 422 and fields(error) == [field]


def test_a_lot_cryopreserved_tomorrow_is_refused(registry: Registry, frozen: dt.date) -> None:
    tomorrow = frozen + dt.timedelta(days=1)
    data = lot_in(
        new_harvest(registry),
        cryopreserved_on=tomorrow,
        expires_on=tomorrow + dt.timedelta(days=365),
    )
    error = refused_unchanged(registry, "lab", lambda s, a: lots.create_lot(s, a, data))
    assert fields(error) == ["cryopreserved_on"]


def test_a_lot_of_another_sites_harvest_is_not_found(registry: Registry) -> None:
    data = lot_in(new_harvest(registry))
    error = refused_unchanged(registry, "physician_b", lambda s, a: lots.create_lot(s, a, data))
    assert isinstance(error, Forbidden | NotFound)


def test_a_monitor_cannot_make_a_lot(registry: Registry) -> None:
    data = lot_in(new_harvest(registry))
    error = refused_unchanged(registry, "monitor", lambda s, a: lots.create_lot(s, a, data))
    assert isinstance(error, Forbidden)


def test_a_lot_is_found_by_its_code_in_any_case(registry: Registry) -> None:
    lot = _lot(registry, new_lot(registry))
    found = read(registry, "nurse", lambda s, a: products.get_lot_by_code(s, a, lot.code.lower()))
    assert found.id == lot.id


def test_a_mistyped_lot_code_names_the_field_and_the_check_character(registry: Registry) -> None:
    code = _lot(registry, new_lot(registry)).code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(Invalid) as caught:
        read(registry, "lab", lambda s, a: products.get_lot_by_code(s, a, wrong))
    assert fields(caught.value) == ["code"]
    assert "check character" in caught.value.message


def test_another_sites_lot_is_not_found_by_id_or_code(registry: Registry) -> None:
    lot = _lot(registry, new_lot(registry))
    with pytest.raises(NotFound):
        read(registry, "physician_b", lambda s, a: products.get_lot(s, a, lot.id))
    with pytest.raises(NotFound):
        read(registry, "physician_b", lambda s, a: products.get_lot_by_code(s, a, lot.code))


def test_lots_are_listed_by_state(registry: Registry) -> None:
    quarantined = new_lot(registry)
    released = released_lot(registry)

    def ids(state: LotState | None) -> Callable[[Session, Actor], set[uuid.UUID]]:
        def listed(session: Session, who: Actor) -> set[uuid.UUID]:
            found = lots.list_lots(session, who, state=state, site_id=None, limit=500, offset=0)
            return {lot.id for lot in found}

        return listed

    released_ids = read(registry, "lab", ids(LotState.RELEASED))
    assert released in released_ids and quarantined not in released_ids
    assert read(registry, "physician_b", ids(None)) == set()


# --- allocation ---------------------------------------------------------------------------------


def _allocate(patient_id: Any) -> AllocationIn:
    return AllocationIn(patient_id=patient_id)


def test_a_released_lot_is_allocated_to_a_consented_patient(registry: Registry) -> None:
    lot_id, patient_id = released_lot(registry), new_patient(registry)
    lot = write(registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_id)))
    assert lot.state is LotState.ALLOCATED
    assert lot.allocated_patient_id == patient_id


def test_a_quarantined_lot_is_not_allocated(registry: Registry) -> None:
    lot_id, patient_id = new_lot(registry), new_patient(registry)
    error = refused_unchanged(
        registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_id))
    )
    assert error.status == 409 and fields(error) == ["state"]


def test_an_expired_lot_is_not_allocated_after_its_expiry_day(registry: Registry) -> None:
    today = dt.datetime.now(dt.UTC).date()
    lot_id = released_lot(registry, expires_on=today + dt.timedelta(days=1))
    patient_id = new_patient(registry)
    expiry_day_after = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(9), dt.UTC)
    with time_machine.travel(expiry_day_after, tick=False):
        error = refused_unchanged(
            registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_id))
        )
    assert fields(error) == ["expires_on"]
    on_expiry_day = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(23), dt.UTC)
    with time_machine.travel(on_expiry_day, tick=False):
        lot = write(
            registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_id))
        )
    assert lot.state is LotState.ALLOCATED


@pytest.mark.parametrize(
    "state", [PatientState.REFERRED, PatientState.ELIGIBLE, PatientState.WITHDRAWN]
)
def test_a_patient_who_has_not_consented_gets_no_lot(
    registry: Registry, state: PatientState
) -> None:
    lot_id, patient_id = released_lot(registry), new_patient(registry, state)
    error = refused_unchanged(
        registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_id))
    )
    assert fields(error) == ["patient_id"]
    assert state.value in error.message


def test_a_lot_goes_only_to_a_patient_of_its_site(registry: Registry) -> None:
    lot_id, patient_b = released_lot(registry), new_patient(registry, site="B01")
    hidden = refused_unchanged(
        registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_b))
    )
    assert isinstance(hidden, NotFound)
    both = elsewhere(registry, "lab")
    error = refused_unchanged(
        registry, both, lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_b))
    )
    assert error.status == 409 and fields(error) == ["patient_id"]


def test_an_autologous_lot_goes_only_to_its_donor(registry: Registry) -> None:
    owner, other = new_patient(registry), new_patient(registry)
    donor_id = new_donor(registry, kind=DonorKind.AUTOLOGOUS, patient_id=owner)
    lot_id = released_lot(registry, harvest_id=new_harvest(registry, donor_id))
    error = refused_unchanged(
        registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(other))
    )
    assert "another patient's cells" in error.message
    lot = write(registry, "lab", lambda s, a: lots.allocate(s, a, lot_id, _allocate(owner)))
    assert lot.allocated_patient_id == owner


def test_a_nurse_cannot_allocate(registry: Registry) -> None:
    lot_id, patient_id = released_lot(registry), new_patient(registry)
    error = refused_unchanged(
        registry, "nurse", lambda s, a: lots.allocate(s, a, lot_id, _allocate(patient_id))
    )
    assert isinstance(error, Forbidden)
