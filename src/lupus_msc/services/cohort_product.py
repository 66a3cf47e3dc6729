"""The cell product of a synthetic patient (``lupus-msc synth load``), through the lab's and the
nurses' services: the cord donor and harvest (shared by a few patients), one lot per infusion
with its release tests and the qualified person's signed release, allocation, the custody chain
(stored, shipped, thawed), the two-person bedside check and the infusion at the protocol's
dose per kg of the baseline weight (§14, §16.15).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy.orm import Session

from lupus_msc.protocol import Protocol
from lupus_msc.services import custody, donors, infusions, lots, release
from lupus_msc.services.cohort_staff import Crew, act
from lupus_msc.services.custody import CustodyIn
from lupus_msc.services.donors import DonorIn, HarvestIn
from lupus_msc.services.infusions import BedsideCheckIn, InfusionIn, Vitals
from lupus_msc.services.lots import AllocationIn, LotIn
from lupus_msc.services.release import ReleaseIn, ReleaseTestIn
from lupus_msc.store.models import CustodyKind, DonorKind, Infusion, Lot, Patient, TissueSource
from lupus_msc.synth import registry_plan
from lupus_msc.synth.registry_plan import DonorPlan, LotPlan, PatientPlan

DONOR_TESTS = dict.fromkeys(donors.REQUIRED_TESTS[DonorKind.ALLOGENEIC], "negative")
RELEASE_MEANING = "I release this lot for clinical use"
STORE = "LN2 tank 1, cell therapy lab"
INFUSION_START = dt.time(10, 0)
INFUSION_MINUTES = 40
"""Times of an infusion day (UTC): shipped 08:30, thawed 09:30, checked 09:45, started 10:00."""


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def harvest(session: Session, crew: Crew, donor: DonorPlan) -> uuid.UUID:
    """An eligible allogeneic umbilical-cord donor (every required test negative) and its cord."""
    lab = act(session, crew.lab)
    made = donors.create_donor(
        session,
        lab,
        DonorIn(
            site_id=crew.site_id,
            kind=DonorKind.ALLOGENEIC,
            tissue_source=TissueSource.UMBILICAL_CORD,
            eligibility_tests=DONOR_TESTS,
        ),
    )
    cord = HarvestIn(collected_on=donor.harvested_on, amount=donor.amount_g, amount_unit="g")
    return donors.record_harvest(session, lab, made.id, cord).id


def _lot(session: Session, crew: Crew, harvest_id: uuid.UUID, plan: LotPlan) -> Lot:
    lab = act(session, crew.lab)
    lot = lots.create_lot(
        session,
        lab,
        LotIn(
            harvest_id=harvest_id,
            passage=plan.passage,
            total_cells=plan.total_cells,
            viable_cells_per_ml=plan.viable_cells_per_ml,
            viability_pct=plan.viability_pct,
            volume_ml=plan.volume_ml,
            cryopreserved_on=plan.cryopreserved_on,
            expires_on=plan.expires_on,
            storage_location=STORE,
        ),
    )
    stored = CustodyIn(kind=CustodyKind.STORED, at=_at(plan.cryopreserved_on, 15), location=STORE)
    custody.record(session, lab, lot.id, stored)
    for name, value in plan.tests:
        test = ReleaseTestIn(name=name, value=value, tested_on=plan.tested_on)
        release.record_test(session, lab, lot.id, test)
    return lot


def lots_for(
    session: Session, crew: Crew, patient: Patient, harvest_id: uuid.UUID, plan: PatientPlan
) -> list[Lot]:
    """The patient's lots: made, tested, released by the qualified person, allocated."""
    made = [_lot(session, crew, harvest_id, lot) for lot in plan.lots]
    lab = act(session, crew.lab)
    signature = ReleaseIn(decision="release", password=crew.lab.password, meaning=RELEASE_MEANING)
    for lot in made:
        release.decide(session, lab, lot.id, signature)
        lots.allocate(session, lab, lot.id, AllocationIn(patient_id=patient.id))
    return made


def _vitals(planned: registry_plan.Vitals) -> Vitals:
    return Vitals(
        systolic_mmhg=planned.systolic_mmhg,
        diastolic_mmhg=planned.diastolic_mmhg,
        heart_rate_bpm=planned.heart_rate_bpm,
        temperature_c=planned.temperature_c,
        spo2_pct=planned.spo2_pct,
    )


def _to_bedside(session: Session, crew: Crew, lot: Lot, day: dt.date) -> None:
    lab = act(session, crew.lab)
    for kind, hour, minute, where in (
        (CustodyKind.SHIPPED, 8, 30, "courier to the infusion unit"),
        (CustodyKind.THAWED, 9, 30, "infusion unit"),
    ):
        event = CustodyIn(kind=kind, at=_at(day, hour, minute), location=where)
        custody.record(session, lab, lot.id, event)


def infuse(
    session: Session,
    crew: Crew,
    patient: Patient,
    lot: Lot,
    *,
    day: dt.date,
    number: int,
    plan: PatientPlan,
    protocol: Protocol,
) -> Infusion:
    """Ship and thaw the lot, check it at the bedside (two nurses), infuse the protocol's dose
    per kg of the baseline weight (§14: cells = dose/kg × weight; volume from the lot's viable
    cells per mL)."""
    _to_bedside(session, crew, lot, day)
    nurse = act(session, crew.nurse)
    check = infusions.check_at_bedside(
        session,
        nurse,
        patient.id,
        BedsideCheckIn(
            scanned_patient_code=patient.study_code,
            scanned_lot_code=lot.code,
            second_checker_email=crew.nurse2.email,
            second_checker_password=crew.nurse2.password,
            checked_at=_at(day, 9, 45),
        ),
    )
    cells = plan.weight_kg * protocol.dosing.dose_per_kg
    started = dt.datetime.combine(day, INFUSION_START, tzinfo=dt.UTC)
    before, after = plan.infusion_vitals[number - 1]
    return infusions.record(
        session,
        nurse,
        patient.id,
        InfusionIn(
            bedside_check_ids=[check.id],
            weight_kg=plan.weight_kg,
            actual_cells=cells,
            actual_volume_ml=(cells / lot.viable_cells_per_ml).quantize(Decimal("0.1")),
            vitals_before=_vitals(before),
            vitals_after=_vitals(after),
            started_at=started,
            ended_at=started + dt.timedelta(minutes=INFUSION_MINUTES),
        ),
    )
