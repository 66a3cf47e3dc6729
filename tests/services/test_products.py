"""Cell-product services: donors and harvests; the helpers here are shared by the other
``test_products_*`` modules (lots, release, custody).

Every test runs on SQLite and on PostgreSQL (the ``registry`` fixture). Each refusal has its own
test, and a refused write changes nothing: the audit head (the number of audit rows) is the same
before and after.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lupus_msc.services import donors, lots, patients, release
from lupus_msc.services.access import Actor
from lupus_msc.services.donors import DonorIn, DonorTestsIn, HarvestIn
from lupus_msc.services.errors import Forbidden, NotFound, ServiceError
from lupus_msc.services.lots import LotIn
from lupus_msc.services.patients import PatientIn
from lupus_msc.services.release import ReleaseIn, ReleaseTestIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import (
    AuditHead,
    DonorKind,
    Harvest,
    Patient,
    PatientState,
    TissueSource,
    User,
)
from tests.registry_fixtures import PASSWORD, Registry

NEGATIVE = {name: "negative" for name in ("hiv_1_2", "hbv", "hcv", "syphilis", "htlv")}
PASSING: dict[str, Any] = {
    "plastic_adherent": True,
    "trilineage_differentiation": True,
    "cd105_pct": Decimal("98.2"),
    "cd73_pct": Decimal(99),
    "cd90_pct": Decimal("97.5"),
    "cd45_pct": Decimal("0.5"),
    "cd34_pct": Decimal(1),
    "cd14_or_cd11b_pct": Decimal("0.2"),
    "cd79a_or_cd19_pct": Decimal("0.3"),
    "hla_dr_pct": Decimal("1.5"),
    "viability_pct": Decimal(92),
    "sterility": "negative",
    "mycoplasma": "negative",
    "endotoxin_eu_per_kg": Decimal("0.8"),
}
"""A full set of release results, each within the default specification (§14 [IMPL])."""
_mrn = itertools.count(1)


def actor(registry: Registry, persona: str) -> Actor:
    with registry.database.sessions() as session:
        user = session.get(User, registry.users[persona])
        assert user is not None
        return Actor.of(user)


def audit_rows(registry: Registry) -> int:
    with registry.database.sessions() as session:
        return session.scalar(select(func.coalesce(func.max(AuditHead.seq), 0))) or 0


def write(registry: Registry, persona: str | Actor, work: Callable[[Session, Actor], Any]) -> Any:
    """Run ``work`` in one unit of work as ``persona``; return what it returns (ids stay valid)."""
    who = persona if isinstance(persona, Actor) else actor(registry, persona)
    with unit_of_work(registry.database, who) as session:
        return work(session, who)


def read(registry: Registry, persona: str | Actor, work: Callable[[Session, Actor], Any]) -> Any:
    """Run ``work`` in a read-only session as ``persona`` (the actor is looked up first: on
    SQLite every session holds the write lock while it is open)."""
    who = persona if isinstance(persona, Actor) else actor(registry, persona)
    with registry.database.sessions() as session:
        return work(session, who)


def refused_unchanged(
    registry: Registry, persona: str | Actor, work: Callable[[Session, Actor], Any]
) -> ServiceError:
    """The error ``work`` raises; the audit trail (hence every table) is unchanged."""
    before = audit_rows(registry)
    with pytest.raises(ServiceError) as caught:
        write(registry, persona, work)
    assert audit_rows(registry) == before
    return caught.value


def fields(error: ServiceError) -> list[str]:
    return [name for name, _ in error.fields]


def new_patient(
    registry: Registry, state: PatientState = PatientState.CONSENTED, site: str = "A01"
) -> uuid.UUID:
    """A registered patient, put straight into ``state`` by the system (screening and consent
    belong to other services; this module tests the product side only)."""
    persona = "coordinator" if site == "A01" else "coordinator_b"
    data = PatientIn(
        site_id=registry.sites[site],
        given_name="Ada",
        family_name="Lovelace",
        date_of_birth=dt.date(1990, 5, 17),
        sex="female",
        medical_record_number=f"P-{next(_mrn)}",
    )
    patient_id: uuid.UUID = write(registry, persona, lambda s, a: patients.register(s, a, data).id)
    with unit_of_work(registry.database, None) as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.state = state
    return patient_id


def new_donor(
    registry: Registry,
    *,
    kind: DonorKind = DonorKind.ALLOGENEIC,
    tests: dict[str, str] | None = None,
    patient_id: uuid.UUID | None = None,
) -> uuid.UUID:
    data = DonorIn(
        site_id=registry.sites["A01"],
        kind=kind,
        tissue_source=TissueSource.UMBILICAL_CORD,
        patient_id=patient_id,
        eligibility_tests=NEGATIVE if tests is None else tests,
    )
    donor_id: uuid.UUID = write(registry, "lab", lambda s, a: donors.create_donor(s, a, data).id)
    return donor_id


def new_harvest(
    registry: Registry, donor_id: uuid.UUID | None = None, on: dt.date = dt.date(2020, 1, 10)
) -> uuid.UUID:
    donor_id = donor_id or new_donor(registry)
    data = HarvestIn(collected_on=on, amount=Decimal(35), amount_unit="g")
    harvest_id: uuid.UUID = write(
        registry, "lab", lambda s, a: donors.record_harvest(s, a, donor_id, data).id
    )
    return harvest_id


def lot_in(harvest_id: uuid.UUID, **changes: Any) -> LotIn:
    values: dict[str, Any] = {
        "harvest_id": harvest_id,
        "passage": 3,
        "total_cells": Decimal("5e8"),
        "viable_cells_per_ml": Decimal("2e6"),
        "viability_pct": Decimal(92),
        "volume_ml": Decimal(100),
        "cryopreserved_on": dt.date(2020, 2, 1),
        "storage_location": "LN2 tank 2, rack 4",
    }
    values.update(changes)
    cryopreserved: dt.date = values["cryopreserved_on"]
    values.setdefault("expires_on", cryopreserved.replace(year=cryopreserved.year + 10))
    return LotIn(**values)


def new_lot(registry: Registry, harvest_id: uuid.UUID | None = None, **changes: Any) -> uuid.UUID:
    data = lot_in(harvest_id or new_harvest(registry), **changes)
    lot_id: uuid.UUID = write(registry, "lab", lambda s, a: lots.create_lot(s, a, data).id)
    return lot_id


def record_results(
    registry: Registry, lot_id: uuid.UUID, results: dict[str, Any] | None = None
) -> None:
    def work(session: Session, who: Actor) -> None:
        for name, value in (PASSING if results is None else results).items():
            data = ReleaseTestIn(name=name, value=value, tested_on=dt.date(2020, 2, 3))
            release.record_test(session, who, lot_id, data)

    write(registry, "lab", work)


def release_in(**changes: Any) -> ReleaseIn:
    values = {
        "decision": "release",
        "password": PASSWORD,
        "meaning": "I approve this lot for clinical use",
    }
    return ReleaseIn(**{**values, **changes})


def released_lot(registry: Registry, **changes: Any) -> uuid.UUID:
    lot_id = new_lot(registry, **changes)
    record_results(registry, lot_id)
    write(registry, "lab", lambda s, a: release.decide(s, a, lot_id, release_in()))
    return lot_id


def freeze_today() -> Iterator[dt.date]:
    """The clock stopped at noon (UTC) today, so that "today" cannot change during a test
    (qualifications are granted around the real today, so the clock stays on it)."""
    noon = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False):
        yield noon.date()


@pytest.fixture
def frozen() -> Iterator[dt.date]:
    yield from freeze_today()


def elsewhere(registry: Registry, persona: str) -> Actor:
    """``persona`` as if they were a member of both sites (to reach the same-site rules)."""
    return dataclasses.replace(
        actor(registry, persona), site_ids=frozenset(registry.sites.values())
    )


# --- donors -------------------------------------------------------------------------------------


def test_eligibility_is_false_if_any_test_is_positive() -> None:
    assert donors.eligibility(DonorKind.ALLOGENEIC, {**NEGATIVE, "cmv": "positive"}) is False
    assert donors.eligibility(DonorKind.ALLOGENEIC, {"hiv_1_2": "positive"}) is False


def test_eligibility_is_null_while_a_required_test_is_missing() -> None:
    without_htlv = {name: v for name, v in NEGATIVE.items() if name != "htlv"}
    assert donors.eligibility(DonorKind.ALLOGENEIC, without_htlv) is None
    assert donors.missing_tests(DonorKind.ALLOGENEIC, without_htlv) == ["htlv"]
    assert donors.eligibility(DonorKind.ALLOGENEIC, NEGATIVE) is True


def test_an_autologous_donor_needs_no_htlv_result() -> None:
    without_htlv = {name: v for name, v in NEGATIVE.items() if name != "htlv"}
    assert donors.eligibility(DonorKind.AUTOLOGOUS, without_htlv) is True


def test_it_creates_a_donor_with_a_site_prefixed_code_and_derived_eligibility(
    registry: Registry,
) -> None:
    donor_id = new_donor(registry, tests={"hiv_1_2": "negative"})
    donor = read(
        registry, "monitor", lambda s, a: donors.donor_view(donors.get_donor(s, a, donor_id))
    )
    assert donor.code.startswith("A01-D")
    assert donor.eligible is None
    assert donor.missing_tests == ["hbv", "hcv", "syphilis", "htlv"]


def test_an_autologous_donor_must_name_a_patient(registry: Registry) -> None:
    data = DonorIn(
        site_id=registry.sites["A01"],
        kind=DonorKind.AUTOLOGOUS,
        tissue_source=TissueSource.BONE_MARROW,
        eligibility_tests=NEGATIVE,
    )
    error = refused_unchanged(registry, "lab", lambda s, a: donors.create_donor(s, a, data))
    assert error.status == 422 and fields(error) == ["patient_id"]


def test_an_allogeneic_donor_names_no_patient(registry: Registry) -> None:
    patient_id = new_patient(registry)
    data = DonorIn(
        site_id=registry.sites["A01"],
        kind=DonorKind.ALLOGENEIC,
        tissue_source=TissueSource.UMBILICAL_CORD,
        patient_id=patient_id,
    )
    error = refused_unchanged(registry, "lab", lambda s, a: donors.create_donor(s, a, data))
    assert fields(error) == ["patient_id"]


def test_an_autologous_donors_patient_is_of_the_same_site(registry: Registry) -> None:
    patient_b = new_patient(registry, site="B01")
    data = DonorIn(
        site_id=registry.sites["A01"],
        kind=DonorKind.AUTOLOGOUS,
        tissue_source=TissueSource.BONE_MARROW,
        patient_id=patient_b,
    )
    hidden = refused_unchanged(registry, "lab", lambda s, a: donors.create_donor(s, a, data))
    assert isinstance(hidden, NotFound)
    both_sites = elsewhere(registry, "lab")
    error = refused_unchanged(registry, both_sites, lambda s, a: donors.create_donor(s, a, data))
    assert error.status == 409 and fields(error) == ["patient_id"]


def test_a_monitor_cannot_create_a_donor(registry: Registry) -> None:
    data = DonorIn(
        site_id=registry.sites["A01"],
        kind=DonorKind.ALLOGENEIC,
        tissue_source=TissueSource.ADIPOSE,
    )
    error = refused_unchanged(registry, "monitor", lambda s, a: donors.create_donor(s, a, data))
    assert isinstance(error, Forbidden)


def test_another_sites_donor_is_not_found(registry: Registry) -> None:
    donor_id = new_donor(registry)
    with pytest.raises(NotFound):
        read(registry, "physician_b", lambda s, a: donors.get_donor(s, a, donor_id))


def test_an_unknown_test_outcome_is_refused() -> None:
    with pytest.raises(ValidationError):
        DonorTestsIn(eligibility_tests={"hiv_1_2": "unclear"})
    with pytest.raises(ValidationError):
        DonorTestsIn(eligibility_tests={"HIV 1/2": "negative"})


def test_later_results_complete_eligibility(registry: Registry) -> None:
    donor_id = new_donor(registry, tests={"hiv_1_2": "negative"})
    rest = DonorTestsIn(
        eligibility_tests={k: "negative" for k in ("hbv", "hcv", "syphilis", "htlv")}
    )
    eligible = write(
        registry, "lab", lambda s, a: donors.record_tests(s, a, donor_id, rest).eligible
    )
    assert eligible is True


def test_changing_a_recorded_donor_result_needs_a_reason(registry: Registry) -> None:
    donor_id = new_donor(registry)
    change = DonorTestsIn(eligibility_tests={"hbv": "positive"})
    error = refused_unchanged(
        registry, "lab", lambda s, a: donors.record_tests(s, a, donor_id, change)
    )
    assert fields(error) == ["reason"]
    reasoned = DonorTestsIn(eligibility_tests={"hbv": "positive"}, reason="confirmatory NAT")
    eligible = write(
        registry, "lab", lambda s, a: donors.record_tests(s, a, donor_id, reasoned).eligible
    )
    assert eligible is False


# --- harvests -----------------------------------------------------------------------------------


def _harvest(on: dt.date) -> HarvestIn:
    return HarvestIn(collected_on=on, amount=Decimal(60), amount_unit="mL")


def test_it_records_a_harvest_with_the_donors_tissue(registry: Registry) -> None:
    harvest_id = new_harvest(registry)
    with registry.database.sessions() as session:
        harvest = session.get(Harvest, harvest_id)
        assert harvest is not None
        assert harvest.tissue_source is TissueSource.UMBILICAL_CORD
        assert harvest.collected_by_id == registry.users["lab"]


def test_a_harvest_from_a_donor_with_a_positive_test_is_refused(registry: Registry) -> None:
    donor_id = new_donor(registry, tests={**NEGATIVE, "hcv": "positive"})
    data = _harvest(dt.date(2020, 1, 1))
    error = refused_unchanged(
        registry, "lab", lambda s, a: donors.record_harvest(s, a, donor_id, data)
    )
    assert error.status == 409 and fields(error) == ["donor_id"]
    assert "not eligible: positive hcv" in error.message


def test_a_harvest_from_a_donor_of_unknown_eligibility_is_refused(registry: Registry) -> None:
    donor_id = new_donor(registry, tests={"hiv_1_2": "negative"})
    data = _harvest(dt.date(2020, 1, 1))
    error = refused_unchanged(
        registry, "lab", lambda s, a: donors.record_harvest(s, a, donor_id, data)
    )
    assert fields(error) == ["donor_id"]
    assert "not established: no result yet for hbv, hcv, syphilis, htlv" in error.message


def test_a_harvest_collected_tomorrow_is_refused(registry: Registry, frozen: dt.date) -> None:
    donor_id = new_donor(registry)
    tomorrow = _harvest(frozen + dt.timedelta(days=1))
    error = refused_unchanged(
        registry, "lab", lambda s, a: donors.record_harvest(s, a, donor_id, tomorrow)
    )
    assert error.status == 422 and fields(error) == ["collected_on"]
    today = _harvest(frozen)
    assert write(registry, "lab", lambda s, a: donors.record_harvest(s, a, donor_id, today).id)


@pytest.mark.parametrize("amount", [0, -1, 2001])
def test_an_implausible_harvest_amount_is_refused(amount: int) -> None:
    with pytest.raises(ValidationError, match="amount"):
        HarvestIn(collected_on=dt.date(2020, 1, 1), amount=amount, amount_unit="mL")


def test_another_sites_harvest_is_not_found(registry: Registry) -> None:
    harvest_id = new_harvest(registry)
    with pytest.raises(NotFound):
        read(registry, "coordinator_b", lambda s, a: donors.get_harvest(s, a, harvest_id))
