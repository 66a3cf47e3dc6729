"""Donors of the cells and their harvests (DESIGN.md pathway step 3, collection).

A donor is autologous (the patient's own cells; the donor names a patient of the same site) or
allogeneic (another person). Donor eligibility comes from infectious-disease screening tests,
recorded as ``name → "negative" | "positive"``; ``eligible`` is derived from them on every write:
false if any test is positive, null while a required test has no result, else true. Cells are
harvested only from an eligible donor.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lupus_msc.clinical.common import Num
from lupus_msc.services.access import Action, Actor, fetch, require, require_site
from lupus_msc.services.errors import NotFound, invalid, refused
from lupus_msc.services.fields import Digits, In, NumberOut, Out, Reason, today
from lupus_msc.services.unit import give_reason
from lupus_msc.store.models import Donor, DonorKind, Harvest, Patient, Site, TissueSource

TestName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
"""A donor screening test, in snake_case (e.g. ``hiv_1_2``, ``hbv``, ``cmv``)."""
TestOutcome = Literal["negative", "positive"]
DonorTests = Annotated[dict[TestName, TestOutcome], Field(max_length=40)]

REQUIRED_TESTS: dict[DonorKind, tuple[str, ...]] = {
    DonorKind.ALLOGENEIC: ("hiv_1_2", "hbv", "hcv", "syphilis", "htlv"),
    DonorKind.AUTOLOGOUS: ("hiv_1_2", "hbv", "hcv", "syphilis"),
}
"""Tests every donor needs a result for before cells are harvested [PROJECT choice]: HIV-1/2,
hepatitis B, hepatitis C and syphilis for every donor, and HTLV for an allogeneic donor. A
programme that tests more (CMV, HBc …) records them as well; any positive result makes the donor
not eligible, for autologous donors too (conservative; a programme that accepts positive
autologous donors under a labelled product must change this)."""

EARLIEST_HARVEST = dt.date(1990, 1, 1)
"""Harvests before 1990 are implausible (stored cord tissue included) [PROJECT choice]."""
HarvestAmount = Annotated[Decimal, Num(gt=0, le=2000), Digits]
"""Amount collected: more than 0 and at most 2000 (mL of aspirate or lipoaspirate, g of tissue)
[PROJECT choice: a bone-marrow harvest is ~50–1000 mL, a cord 20–60 g]."""


class DonorIn(In):
    site_id: uuid.UUID
    kind: DonorKind
    tissue_source: TissueSource
    patient_id: uuid.UUID | None = Field(
        default=None, description="Required for an autologous donor (a patient of the same site)."
    )
    eligibility_tests: DonorTests = Field(default_factory=dict)


class DonorTestsIn(In):
    """More eligibility results; changing a result already recorded needs a reason."""

    eligibility_tests: Annotated[dict[TestName, TestOutcome], Field(min_length=1, max_length=40)]
    reason: Reason | None = None


class DonorOut(Out):
    id: uuid.UUID
    site_id: uuid.UUID
    code: str
    kind: DonorKind
    tissue_source: TissueSource
    patient_id: uuid.UUID | None
    eligibility_tests: dict[str, str]
    eligible: bool | None
    missing_tests: list[str]
    created_at: dt.datetime


class HarvestIn(In):
    collected_on: dt.date = Field(description="Not in the future, not before 1990-01-01.")
    amount: HarvestAmount
    amount_unit: Literal["mL", "g"]


class HarvestOut(Out):
    id: uuid.UUID
    donor_id: uuid.UUID
    collected_on: dt.date
    tissue_source: TissueSource
    amount: NumberOut
    amount_unit: str
    collected_by_id: uuid.UUID
    created_at: dt.datetime


def missing_tests(kind: DonorKind, tests: Mapping[str, str]) -> list[str]:
    return [name for name in REQUIRED_TESTS[kind] if name not in tests]


def eligibility(kind: DonorKind, tests: Mapping[str, str]) -> bool | None:
    """False if any test is positive, None while a required test is missing, else True."""
    if any(outcome == "positive" for outcome in tests.values()):
        return False
    return None if missing_tests(kind, tests) else True


def donor_view(donor: Donor) -> DonorOut:
    return DonorOut(
        id=donor.id,
        site_id=donor.site_id,
        code=donor.code,
        kind=donor.kind,
        tissue_source=donor.tissue_source,
        patient_id=donor.patient_id,
        eligibility_tests=dict(donor.eligibility_tests),
        eligible=donor.eligible,
        missing_tests=missing_tests(donor.kind, donor.eligibility_tests),
        created_at=donor.created_at,
    )


def _check_patient(session: Session, actor: Actor, data: DonorIn) -> None:
    """An autologous donor is a patient of the donor's site; an allogeneic donor is not."""
    if data.kind is DonorKind.ALLOGENEIC:
        if data.patient_id is not None:
            raise invalid("patient_id", "an allogeneic donor is not the patient; leave it out")
        return
    if data.patient_id is None:
        raise invalid("patient_id", "an autologous donor must name the patient (their own cells)")
    patient = fetch(session, actor, Patient, data.patient_id)
    if patient.site_id != data.site_id:
        raise refused("patient_id", "the patient is registered at another site than the donor")


def _donor_code(session: Session, site: Site) -> str:
    count = session.scalar(select(func.count()).where(Donor.site_id == site.id)) or 0
    return f"{site.code}-D{count + 1:05d}"


def create_donor(session: Session, actor: Actor, data: DonorIn) -> Donor:
    """A donor with a site-prefixed code (``A01-D00001``) and derived eligibility."""
    require_site(actor, data.site_id, Action.WRITE_PRODUCTS)
    site = session.get(Site, data.site_id)
    if site is None:
        raise NotFound(f"no site {data.site_id}")
    _check_patient(session, actor, data)
    tests = dict(data.eligibility_tests)
    donor = Donor(
        site_id=site.id,
        code=_donor_code(session, site),
        kind=data.kind,
        tissue_source=data.tissue_source,
        patient_id=data.patient_id,
        eligibility_tests=tests,
        eligible=eligibility(data.kind, tests),
    )
    session.add(donor)
    session.flush()
    return donor


def get_donor(session: Session, actor: Actor, donor_id: uuid.UUID) -> Donor:
    require(actor, Action.READ_PRODUCTS)
    return fetch(session, actor, Donor, donor_id)


def list_donors(
    session: Session, actor: Actor, *, site_id: uuid.UUID | None, limit: int, offset: int
) -> list[Donor]:
    require(actor, Action.READ_PRODUCTS)
    query = select(Donor).order_by(Donor.code).limit(limit).offset(offset)
    if not actor.all_sites:
        query = query.where(Donor.site_id.in_(actor.site_ids))
    if site_id is not None:
        query = query.where(Donor.site_id == site_id)
    return list(session.scalars(query))


def record_tests(session: Session, actor: Actor, donor_id: uuid.UUID, data: DonorTestsIn) -> Donor:
    """Add eligibility results; a changed result needs a reason (the old one stays audited)."""
    require(actor, Action.WRITE_PRODUCTS)
    donor = fetch(session, actor, Donor, donor_id)
    changed = [
        name
        for name, outcome in data.eligibility_tests.items()
        if donor.eligibility_tests.get(name, outcome) != outcome
    ]
    if changed and data.reason is None:
        raise invalid("reason", f"is required to change a recorded result ({', '.join(changed)})")
    give_reason(session, data.reason)
    tests = {**donor.eligibility_tests, **data.eligibility_tests}
    donor.eligibility_tests = tests
    donor.eligible = eligibility(donor.kind, tests)
    session.flush()
    return donor


def _require_eligible(donor: Donor) -> None:
    if donor.eligible is False:
        positive = [
            name for name, outcome in donor.eligibility_tests.items() if outcome != "negative"
        ]
        raise refused("donor_id", f"the donor is not eligible: positive {', '.join(positive)}")
    if donor.eligible is None:
        missing = ", ".join(missing_tests(donor.kind, donor.eligibility_tests))
        raise refused(
            "donor_id", f"the donor's eligibility is not established: no result yet for {missing}"
        )


def record_harvest(session: Session, actor: Actor, donor_id: uuid.UUID, data: HarvestIn) -> Harvest:
    """A harvest from an eligible donor, collected by the actor on a plausible date."""
    require(actor, Action.WRITE_PRODUCTS)
    donor = fetch(session, actor, Donor, donor_id)
    if not EARLIEST_HARVEST <= data.collected_on <= today():
        raise invalid("collected_on", "must be between 1990-01-01 and today")
    _require_eligible(donor)
    harvest = Harvest(
        donor_id=donor.id,
        collected_on=data.collected_on,
        tissue_source=donor.tissue_source,
        amount=data.amount,
        amount_unit=data.amount_unit,
        collected_by_id=actor.user_id,
    )
    session.add(harvest)
    session.flush()
    return harvest


def _harvest_site(session: Session) -> Callable[[Harvest], uuid.UUID]:
    def site(harvest: Harvest) -> uuid.UUID:
        donor = session.get(Donor, harvest.donor_id)
        assert donor is not None  # noqa: S101 - a foreign key guarantees it
        return donor.site_id

    return site


def get_harvest(session: Session, actor: Actor, harvest_id: uuid.UUID) -> Harvest:
    require(actor, Action.READ_PRODUCTS)
    return fetch(session, actor, Harvest, harvest_id, site=_harvest_site(session))


def list_harvests(session: Session, actor: Actor, donor_id: uuid.UUID) -> list[Harvest]:
    donor = get_donor(session, actor, donor_id)
    query = select(Harvest).where(Harvest.donor_id == donor.id).order_by(Harvest.collected_on)
    return list(session.scalars(query))
