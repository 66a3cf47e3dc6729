"""A set of patients' registry records and every FHIR resource built from them (issue 8).

``read`` loads, in a handful of ``IN`` queries, what the builders need for the patients asked
for — their consents, visits, labs, medications, adverse events, infusions, the lots those
infusions used (or the lots allocated to them) with their harvests, and the protocol versions —
and detaches it from the session. ``drafts`` turns it into resource drafts
(``fhir_common.Draft``), ``resources`` into R4B models, each validated by its model. The FHIR
server reads one patient's compartment at a time; the bulk export reads patients in batches,
so memory depends on the batch size, not on the size of the registry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fhir.resources.R4B.resource import Resource
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lupus_msc.interop import (
    fhir_common,
    fhir_medications,
    fhir_observations,
    fhir_patient,
    fhir_products,
    fhir_safety,
    fhir_study,
)
from lupus_msc.store import models

CHUNK = 500
"""Ids per ``IN`` list (SQLite limits a statement's parameters)."""

PATIENT_TYPES = (
    "Patient",
    "Condition",
    "ResearchSubject",
    "Consent",
    "Encounter",
    "Observation",
    "MedicationStatement",
    "BiologicallyDerivedProduct",
    "Procedure",
    "AdverseEvent",
)
"""The resource types of a patient's compartment, in the order they are built."""
TYPES = ("ResearchStudy", *PATIENT_TYPES)

M = TypeVar("M")


@dataclass
class PatientRecords:
    """Registry records of some patients, detached from their session."""

    patients: list[models.Patient] = field(default_factory=list)
    consents: list[models.Consent] = field(default_factory=list)
    visits: list[models.Visit] = field(default_factory=list)
    labs: list[models.LabResult] = field(default_factory=list)
    medications: list[models.Medication] = field(default_factory=list)
    events: list[models.AdverseEvent] = field(default_factory=list)
    infusions: list[models.Infusion] = field(default_factory=list)
    infusion_lots: list[models.InfusionLot] = field(default_factory=list)
    lots: list[models.Lot] = field(default_factory=list)
    harvests: list[models.Harvest] = field(default_factory=list)


def _in(session: Session, model: type[M], column: Any, ids: Sequence[uuid.UUID]) -> list[M]:
    found: list[M] = []
    for start in range(0, len(ids), CHUNK):
        query = select(model).where(column.in_(ids[start : start + CHUNK]))
        found.extend(session.scalars(query))
    return found


def patients(session: Session, patient_ids: Iterable[uuid.UUID]) -> list[models.Patient]:
    """The patients of ``patient_ids`` by study code, detached (what their keys are made from)."""
    found = _in(session, models.Patient, models.Patient.id, sorted(set(patient_ids)))
    session.expunge_all()
    return sorted(found, key=lambda p: p.study_code)


def read(session: Session, patient_ids: Iterable[uuid.UUID]) -> PatientRecords:
    """The records of ``patient_ids`` (unknown ids are simply absent). No access check: the
    caller (``interop.fhir_view`` or the exporter) decides whose records are read."""
    ids = sorted(set(patient_ids))
    patients = _in(session, models.Patient, models.Patient.id, ids)
    visits = _in(session, models.Visit, models.Visit.patient_id, ids)
    infusions = _in(session, models.Infusion, models.Infusion.patient_id, ids)
    links = _in(
        session, models.InfusionLot, models.InfusionLot.infusion_id, [i.id for i in infusions]
    )
    used = sorted({link.lot_id for link in links})
    lots: dict[uuid.UUID, models.Lot] = {}
    for start in range(0, max(len(ids), len(used)), CHUNK):
        query = select(models.Lot).where(
            or_(
                models.Lot.id.in_(used[start : start + CHUNK]),
                models.Lot.allocated_patient_id.in_(ids[start : start + CHUNK]),
            )
        )
        lots.update((lot.id, lot) for lot in session.scalars(query))
    harvest_ids = sorted({lot.harvest_id for lot in lots.values()})
    records = PatientRecords(
        patients=sorted(patients, key=lambda p: p.study_code),
        consents=_in(session, models.Consent, models.Consent.patient_id, ids),
        visits=visits,
        labs=_in(session, models.LabResult, models.LabResult.visit_id, [v.id for v in visits]),
        medications=_in(session, models.Medication, models.Medication.patient_id, ids),
        events=_in(session, models.AdverseEvent, models.AdverseEvent.patient_id, ids),
        infusions=infusions,
        infusion_lots=links,
        lots=sorted(lots.values(), key=lambda lot: lot.code),
        harvests=_in(session, models.Harvest, models.Harvest.id, harvest_ids),
    )
    session.expunge_all()
    return records


def _latest_consent(consents: list[models.Consent]) -> dict[uuid.UUID, models.Consent]:
    latest: dict[uuid.UUID, models.Consent] = {}
    for consent in sorted(consents, key=lambda c: (c.signed_on, c.created_at)):
        latest[consent.patient_id] = consent
    return latest


def _lot_owners(records: PatientRecords) -> dict[uuid.UUID, uuid.UUID]:
    """Lot → the patient it was infused into, else the patient it is allocated to."""
    owners = {lot.id: lot.allocated_patient_id for lot in records.lots}
    infused_into = {infusion.id: infusion.patient_id for infusion in records.infusions}
    for link in records.infusion_lots:
        owners[link.lot_id] = infused_into[link.infusion_id]
    return {lot: patient for lot, patient in owners.items() if patient is not None}


Owned = tuple[uuid.UUID, Resource]
"""A resource with the id of the patient it belongs to."""
OwnedDraft = tuple[uuid.UUID, fhir_common.Draft]


def _people(records: PatientRecords) -> Iterator[OwnedDraft]:
    consent_of = _latest_consent(records.consents)
    for patient in records.patients:
        yield patient.id, fhir_patient.patient_draft(patient)
        yield patient.id, fhir_patient.sle_condition_draft(patient)
        yield patient.id, fhir_study.research_subject_draft(patient, consent_of.get(patient.id))
    for consent in records.consents:
        yield consent.patient_id, fhir_study.research_consent_draft(consent)


EGFR_INPUTS = ("creatinine", "cystatin_c")
"""The lab results the registry computes a visit's eGFR from (§9)."""


def _visits(records: PatientRecords) -> Iterator[OwnedDraft]:
    visits = {visit.id: visit for visit in records.visits}
    recorded = [visit for visit in records.visits if visit.visit_date is not None]
    for visit in recorded:
        yield visit.patient_id, fhir_patient.encounter_draft(visit)
    replaced = {(lab.visit_id, lab.analyte) for lab in records.labs if lab.superseded}
    for lab in records.labs:
        visit = visits[lab.visit_id]
        if visit.visit_date is not None and not lab.superseded:
            amended = (lab.visit_id, lab.analyte) in replaced
            draft = fhir_observations.lab_observation_draft(lab, visit, amended=amended)
            yield visit.patient_id, draft
    for visit in recorded:
        for observation in fhir_observations.score_drafts(visit):
            yield visit.patient_id, observation
        inputs_replaced = any((visit.id, analyte) in replaced for analyte in EGFR_INPUTS)
        for observation in fhir_observations.egfr_drafts(visit, amended=inputs_replaced):
            yield visit.patient_id, observation
    for medication in records.medications:
        yield medication.patient_id, fhir_medications.medication_statement_draft(medication)


def _treatment(records: PatientRecords) -> Iterator[OwnedDraft]:
    harvests = {harvest.id: harvest for harvest in records.harvests}
    lots_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    for link in records.infusion_lots:
        lots_of.setdefault(link.infusion_id, []).append(link.lot_id)
    owners = _lot_owners(records)
    for lot in records.lots:
        if lot.id in owners:
            yield owners[lot.id], fhir_products.product_draft(lot, harvests[lot.harvest_id])
    for infusion in records.infusions:
        lots = sorted(lots_of.get(infusion.id, []))
        yield infusion.patient_id, fhir_products.infusion_procedure_draft(infusion, lots)
    for event in records.events:
        yield event.patient_id, fhir_safety.adverse_event_draft(event)


def drafts(records: PatientRecords) -> Iterator[OwnedDraft]:
    """Every resource of the records' patients, not yet validated, each with its patient's id.

    Only visits that took place become Encounters (and carry Observations). Only current lab
    results are sent, as the SDTM and REDCap exports do: a superseded result (replaced or
    dropped when the visit was recorded again) is not, and the result that replaced one of the
    same analyte is ``amended`` (a receiver, lupus-msc's own import included, takes an
    ``amended`` result as the correction of the one it holds), as is the visit's eGFR when its
    creatinine or cystatin C replaced an earlier result. A lot belongs to the patient it
    was infused into (or is allocated to).
    """
    yield from _people(records)
    yield from _visits(records)
    yield from _treatment(records)


def resources(records: PatientRecords) -> Iterator[Owned]:
    """Every resource of ``drafts(records)`` as its validated R4B model."""
    for patient_id, draft in drafts(records):
        yield patient_id, draft.resource()
