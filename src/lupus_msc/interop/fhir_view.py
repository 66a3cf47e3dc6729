"""The registry as FHIR resources, for one actor: who may read what, identified or not (issue 8).

Every read needs ``read-patients`` and sees only patients of the actor's sites (another site's
patient is *not found*). A role without ``read-identity`` — the statistician, the lab — gets
every resource de-identified (``interop.fhir_deidentify``): it addresses patients by pseudonym
and resources by their de-identified ids, and never sees a registry id, name or real date. The
keys are created on first need (``services.deidentification.keys_for``, audited).

Resources are returned in JSON form (``dict``), each built and validated by its R4B model.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lupus_msc.interop import fhir_records, fhir_study
from lupus_msc.interop.fhir_deidentify import FhirKey, deidentify
from lupus_msc.interop.free_text import WORD
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.deidentification import keys_for
from lupus_msc.services.errors import NotFound
from lupus_msc.store import models
from lupus_msc.store.database import Database
from lupus_msc.store.models import DeidentificationKey, Infusion, Patient, ProtocolVersion

Json = dict[str, object]
PSEUDONYMOUS_ID = re.compile(r"^(P-[A-Z2-7]{10})(?:-[0-9a-f-]{36})?$")


def identified(actor: Actor | None) -> bool:
    """Whether the actor sees resources as the registry holds them (None: the system)."""
    return actor is None or actor.may(Action.READ_IDENTITY)


def _words(patient: Patient) -> frozenset[str]:
    values = (
        patient.study_code,
        patient.given_name,
        patient.family_name,
        patient.medical_record_number,
    )
    return frozenset(word.lower() for value in values for word in WORD.findall(value))


def fhir_keys(
    database: Database, actor: Actor | None, patients: Iterable[Patient]
) -> dict[uuid.UUID, FhirKey]:
    """The de-identification key of each patient (created on first need, audited), with the
    day of the patient's first infusion, the reference of the age the de-identified Patient
    keeps (``fhir_deidentify`` module doc)."""
    by_code = {patient.study_code: patient for patient in patients}
    keys = keys_for(database, actor, by_code)
    ids = [patient.id for patient in by_code.values()]
    secrets: dict[uuid.UUID, uuid.UUID] = {}
    first: dict[uuid.UUID, dt.date] = {}
    with database.reads() as session:
        for start in range(0, len(ids), fhir_records.CHUNK):
            chunk = ids[start : start + fhir_records.CHUNK]
            query = select(DeidentificationKey.patient_id, DeidentificationKey.id).where(
                DeidentificationKey.patient_id.in_(chunk)
            )
            secrets.update({pid: kid for pid, kid in session.execute(query)})
            infused = (
                select(Infusion.patient_id, func.min(Infusion.started_at))
                .where(Infusion.patient_id.in_(chunk))
                .group_by(Infusion.patient_id)
            )
            first.update({pid: started.date() for pid, started in session.execute(infused)})
    return {
        patient.id: FhirKey(
            patient_id=patient.id,
            pseudonym=keys[code].pseudonym,
            offset_days=keys[code].offset_days,
            secret=secrets[patient.id],
            identifiers=_words(patient),
            first_infusion=first.get(patient.id),
        )
        for code, patient in by_code.items()
    }


def _visible(session: Session, actor: Actor | None, patient_id: uuid.UUID) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or (actor is not None and not actor.sees_site(patient.site_id)):
        raise NotFound(f"no patient {patient_id}")
    return patient


def resolve_patient(session: Session, actor: Actor | None, reference: str) -> uuid.UUID:
    """The patient a FHIR id or reference (``Patient/<id>``) names, for this actor: the
    registry id for identified readers, the pseudonym for the others."""
    wanted = reference.removeprefix("Patient/")
    if identified(actor):
        try:
            patient_id = uuid.UUID(wanted)
        except ValueError:
            raise NotFound(f"no patient {wanted}") from None
    else:
        match = PSEUDONYMOUS_ID.match(wanted)
        found = (
            None
            if match is None
            else session.scalar(
                select(DeidentificationKey.patient_id).where(
                    DeidentificationKey.pseudonym == match[1]
                )
            )
        )
        if found is None:
            raise NotFound(f"no patient {wanted}")
        patient_id = found
    return _visible(session, actor, patient_id).id


@dataclass(frozen=True)
class Compartment:
    """One patient's resources as this actor may see them."""

    patient_id: uuid.UUID
    resources: list[Json]

    def of_type(self, kind: str) -> list[Json]:
        return [r for r in self.resources if r["resourceType"] == kind]


def _as_json(
    owned: Iterable[fhir_records.Owned], keys: dict[uuid.UUID, FhirKey] | None
) -> Iterator[Json]:
    for patient_id, resource in owned:
        data = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
        yield data if keys is None else deidentify(data, keys[patient_id])


def compartment(database: Database, actor: Actor | None, patient_ref: str) -> Compartment:
    """Every resource of the patient ``patient_ref`` names (its ``$everything``)."""
    if actor is not None:
        require(actor, Action.READ_PATIENTS)
    with database.reads() as session:
        patient_id = resolve_patient(session, actor, patient_ref)
        records = fhir_records.read(session, [patient_id])
    keys = None if identified(actor) else fhir_keys(database, actor, records.patients)
    return Compartment(patient_id, list(_as_json(fhir_records.resources(records), keys)))


def research_studies(database: Database, actor: Actor | None) -> list[Json]:
    """The protocol versions as ResearchStudy resources (no patient data in them)."""
    if actor is not None:
        require(actor, Action.READ_PATIENTS)
    with database.reads() as session:
        versions = list(session.scalars(select(ProtocolVersion)))
        return [
            fhir_study.research_study(v).model_dump(mode="json", by_alias=True, exclude_none=True)
            for v in versions
        ]


def owner(session: Session, actor: Actor | None, kind: str, resource_id: str) -> str:
    """The Patient id (as this actor addresses it) that the resource ``kind/resource_id``
    belongs to, to read it from the patient's compartment. NotFound if there is none."""
    if not identified(actor):
        match = PSEUDONYMOUS_ID.match(resource_id)
        if match is None:
            raise NotFound(f"no {kind} {resource_id}")
        return match[1]
    patient_id = _owner_id(session, kind, resource_id)
    if patient_id is None:
        raise NotFound(f"no {kind} {resource_id}")
    return str(patient_id)


OWNED_BY: dict[str, tuple[type[Any], Any]] = {
    "Patient": (models.Patient, models.Patient.id),
    "Condition": (models.Patient, models.Patient.id),
    "ResearchSubject": (models.Patient, models.Patient.id),
    "Consent": (models.Consent, models.Consent.patient_id),
    "Encounter": (models.Visit, models.Visit.patient_id),
    "MedicationStatement": (models.Medication, models.Medication.patient_id),
    "AdverseEvent": (models.AdverseEvent, models.AdverseEvent.patient_id),
    "Procedure": (models.Infusion, models.Infusion.patient_id),
}
"""Resource type → the record it is built from and that record's patient column (the
resource's id is the record's id)."""


def _owner_id(session: Session, kind: str, resource_id: str) -> uuid.UUID | None:
    try:
        record_id = uuid.UUID(resource_id[:36])
    except ValueError:
        return None
    if kind in OWNED_BY:
        model, patient_column = OWNED_BY[kind]
        found: uuid.UUID | None = session.scalar(
            select(patient_column).where(model.id == record_id)
        )
        return found
    if kind == "Observation":  # a lab's id, or a score's "<visit id>-<score>"
        visit_id = (
            record_id
            if len(resource_id) > 36
            else session.scalar(
                select(models.LabResult.visit_id).where(models.LabResult.id == record_id)
            )
        )
        return session.scalar(select(models.Visit.patient_id).where(models.Visit.id == visit_id))
    if kind == "BiologicallyDerivedProduct":
        infused: uuid.UUID | None = session.scalar(
            select(models.Infusion.patient_id)
            .join(models.InfusionLot, models.InfusionLot.infusion_id == models.Infusion.id)
            .where(models.InfusionLot.lot_id == record_id)
        )
        return infused or session.scalar(
            select(models.Lot.allocated_patient_id).where(models.Lot.id == record_id)
        )
    return None


def read(database: Database, actor: Actor | None, kind: str, resource_id: str) -> Json:
    """One resource by type and id, as this actor may see it."""
    if actor is not None:
        require(actor, Action.READ_PATIENTS)
    if kind == "ResearchStudy":
        for study in research_studies(database, actor):
            if study["id"] == resource_id:
                return study
        raise NotFound(f"no ResearchStudy {resource_id}")
    with database.reads() as session:
        patient_ref = owner(session, actor, kind, resource_id)
    for resource in compartment(database, actor, patient_ref).of_type(kind):
        if resource["id"] == resource_id:
            return resource
    raise NotFound(f"no {kind} {resource_id}")


def patients_page(
    database: Database,
    actor: Actor | None,
    *,
    identifier: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Json], int]:
    """A page of the actor's patients as Patient resources, and how many there are in all:
    by study code for identified readers, by random id for the others.

    ``identifier`` (``system|value`` or ``value``) matches the study code for identified
    readers and the pseudonym for the others (``PSEUDONYM_SYSTEM``).
    """

    from lupus_msc.interop import fhir_patient
    from lupus_msc.interop.fhir_common import STUDY_CODE_SYSTEM
    from lupus_msc.interop.fhir_deidentify import PSEUDONYM_SYSTEM

    if actor is not None:
        require(actor, Action.READ_PATIENTS)
    query = select(Patient)
    if actor is not None and not actor.all_sites:
        query = query.where(Patient.site_id.in_(actor.site_ids))
    if identifier is not None:
        system, _, value = identifier.rpartition("|")
        ours = STUDY_CODE_SYSTEM if identified(actor) else PSEUDONYM_SYSTEM
        if system and system != ours:
            return [], 0
        if identified(actor):
            query = query.where(Patient.study_code == value)
        else:
            query = query.join(
                DeidentificationKey, DeidentificationKey.patient_id == Patient.id
            ).where(DeidentificationKey.pseudonym == value)
    # study codes are numbered in order of registration: a de-identified reader gets the
    # patients in the order of their random ids instead, which says nothing of that order
    order = Patient.study_code if identified(actor) else Patient.id
    with database.reads() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        found = list(session.scalars(query.order_by(order).limit(limit).offset(offset)))
        session.expunge_all()
    built = [
        fhir_patient.patient(p).model_dump(mode="json", by_alias=True, exclude_none=True)
        for p in found
    ]
    if identified(actor):
        return built, total
    keys = fhir_keys(database, actor, found)
    return [deidentify(data, keys[p.id]) for data, p in zip(built, found, strict=True)], total
