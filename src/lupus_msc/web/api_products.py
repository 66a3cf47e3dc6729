"""``/api/v1``: the cell product: donors, harvests, lots, release tests and decision, allocation,
chain of custody (DESIGN.md pathway step 3)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import custody, donors, lots, products, release
from lupus_msc.services.custody import CustodyIn, CustodyOut
from lupus_msc.services.donors import DonorIn, DonorOut, DonorTestsIn, HarvestIn, HarvestOut
from lupus_msc.services.lots import AllocationIn, LotIn
from lupus_msc.services.products import LotOut
from lupus_msc.services.release import (
    DecisionOut,
    EvaluationOut,
    ReleaseIn,
    ReleaseTestIn,
    ReleaseTestOut,
)
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1", tags=["products"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/donors", response_model=list[DonorOut])
def list_donors(
    actor: ActorDep,
    registry: DatabaseDep,
    site_id: uuid.UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DonorOut]:
    """Donors of the actor's sites, by code, a page at a time."""
    with registry.reads() as session:
        found = donors.list_donors(session, actor, site_id=site_id, limit=limit, offset=offset)
        return [donors.donor_view(donor) for donor in found]


@router.post("/donors", status_code=201, response_model=DonorOut)
def create_donor(data: DonorIn, actor: ActorDep, registry: DatabaseDep) -> DonorOut:
    """A donor; ``eligible`` is derived from the eligibility tests (false if any is positive,
    null while a required one is missing)."""
    with unit_of_work(registry, actor) as session:
        return donors.donor_view(donors.create_donor(session, actor, data))


@router.get("/donors/{donor_id}", response_model=DonorOut)
def read_donor(donor_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> DonorOut:
    with registry.reads() as session:
        return donors.donor_view(donors.get_donor(session, actor, donor_id))


@router.post("/donors/{donor_id}/eligibility-tests", response_model=DonorOut)
def record_donor_tests(
    donor_id: uuid.UUID, data: DonorTestsIn, actor: ActorDep, registry: DatabaseDep
) -> DonorOut:
    """Add eligibility results (changing a recorded one needs a reason)."""
    with unit_of_work(registry, actor) as session:
        return donors.donor_view(donors.record_tests(session, actor, donor_id, data))


@router.get("/donors/{donor_id}/harvests", response_model=list[HarvestOut])
def list_harvests(donor_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> list[HarvestOut]:
    with registry.reads() as session:
        found = donors.list_harvests(session, actor, donor_id)
        return [HarvestOut.model_validate(harvest) for harvest in found]


@router.post("/donors/{donor_id}/harvests", status_code=201, response_model=HarvestOut)
def record_harvest(
    donor_id: uuid.UUID, data: HarvestIn, actor: ActorDep, registry: DatabaseDep
) -> HarvestOut:
    """A harvest from an eligible donor (refused while eligibility is false or unknown)."""
    with unit_of_work(registry, actor) as session:
        return HarvestOut.model_validate(donors.record_harvest(session, actor, donor_id, data))


@router.get("/harvests/{harvest_id}", response_model=HarvestOut)
def read_harvest(harvest_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> HarvestOut:
    with registry.reads() as session:
        return HarvestOut.model_validate(donors.get_harvest(session, actor, harvest_id))


@router.get("/lots", response_model=list[LotOut])
def list_lots(
    actor: ActorDep,
    registry: DatabaseDep,
    state: LotState | None = None,
    site_id: uuid.UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[LotOut]:
    """Lots of the actor's sites by code, optionally only those in one state."""
    with registry.reads() as session:
        found = lots.list_lots(
            session, actor, state=state, site_id=site_id, limit=limit, offset=offset
        )
        return [products.view(lot) for lot in found]


@router.post("/lots", status_code=201, response_model=LotOut)
def create_lot(data: LotIn, actor: ActorDep, registry: DatabaseDep) -> LotOut:
    """A lot in quarantine under a new chain-of-identity code, judged by its protocol's spec."""
    with unit_of_work(registry, actor) as session:
        return products.view(lots.create_lot(session, actor, data))


@router.get("/lots/by-code/{code}", response_model=LotOut)
def read_lot_by_code(
    code: Annotated[str, Path(min_length=1, max_length=40)],
    actor: ActorDep,
    registry: DatabaseDep,
) -> LotOut:
    """The lot under its chain-of-identity code; a mistyped code (check character) is a 422."""
    with registry.reads() as session:
        return products.view(products.get_lot_by_code(session, actor, code))


@router.get("/lots/{lot_id}", response_model=LotOut)
def read_lot(lot_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> LotOut:
    with registry.reads() as session:
        return products.view(products.get_lot(session, actor, lot_id))


@router.get("/lots/{lot_id}/release-tests", response_model=list[ReleaseTestOut])
def list_release_tests(
    lot_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> list[ReleaseTestOut]:
    """Every release test of the lot, superseded ones included."""
    with registry.reads() as session:
        return [release.test_view(test) for test in release.list_tests(session, actor, lot_id)]


@router.post("/lots/{lot_id}/release-tests", status_code=201, response_model=ReleaseTestOut)
def record_release_test(
    lot_id: uuid.UUID, data: ReleaseTestIn, actor: ActorDep, registry: DatabaseDep
) -> ReleaseTestOut:
    """One isct-release input's result (§16.14), judged against the lot's specification."""
    with unit_of_work(registry, actor) as session:
        return release.test_view(release.record_test(session, actor, lot_id, data))


@router.get("/lots/{lot_id}/release-evaluation", response_model=EvaluationOut)
def evaluate_lot(lot_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> EvaluationOut:
    """The isct-release result over the lot's current tests: what fails, what is missing."""
    with registry.reads() as session:
        return release.evaluate(session, actor, lot_id)


@router.get("/lots/{lot_id}/release-decisions", response_model=list[DecisionOut])
def list_decisions(lot_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> list[DecisionOut]:
    with registry.reads() as session:
        found = release.decisions(session, actor, lot_id)
        return [DecisionOut.model_validate(decision) for decision in found]


@router.post("/lots/{lot_id}/release", status_code=201, response_model=DecisionOut)
def decide_release(
    lot_id: uuid.UUID, data: ReleaseIn, actor: ActorDep, registry: DatabaseDep
) -> DecisionOut:
    """Release or reject the lot, signed by a qualified person with their password."""
    with unit_of_work(registry, actor) as session:
        return DecisionOut.model_validate(release.decide(session, actor, lot_id, data))


@router.post("/lots/{lot_id}/allocation", response_model=LotOut)
def allocate_lot(
    lot_id: uuid.UUID, data: AllocationIn, actor: ActorDep, registry: DatabaseDep
) -> LotOut:
    """Reserve a released, unexpired lot for a consented patient of the same site."""
    with unit_of_work(registry, actor) as session:
        return products.view(lots.allocate(session, actor, lot_id, data))


@router.get("/lots/{lot_id}/custody", response_model=list[CustodyOut])
def custody_chain(lot_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep) -> list[CustodyOut]:
    """The chain of custody in the order it happened."""
    with registry.reads() as session:
        return [CustodyOut.model_validate(event) for event in custody.chain(session, actor, lot_id)]


@router.post("/lots/{lot_id}/custody", status_code=201, response_model=CustodyOut)
def record_custody(
    lot_id: uuid.UUID, data: CustodyIn, actor: ActorDep, registry: DatabaseDep
) -> CustodyOut:
    """Append a hand-over; shipped, thawed and discarded move the lot through its states."""
    with unit_of_work(registry, actor) as session:
        return CustodyOut.model_validate(custody.record(session, actor, lot_id, data))
