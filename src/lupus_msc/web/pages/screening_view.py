"""What the screening pages show: the form's items and labels, and a patient's screenings.

The items come from the engine (``clinical.eular_acr_2019.CRITERIA`` for §7,
``clinical.sledai2k.DESCRIPTORS`` for §1); every score shown is computed by the services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, get_args

from sqlalchemy.orm import Session

from lupus_msc.clinical.eular_acr_2019 import CRITERIA, DOMAINS, Criterion
from lupus_msc.clinical.sledai2k import DESCRIPTORS, Descriptor, SledaiLabs
from lupus_msc.protocol import Protocol
from lupus_msc.services import patients, protocols, screening
from lupus_msc.services.access import Action
from lupus_msc.services.screening import DERIVED_FIELDS, SCREENABLE, DrugClass, Organ
from lupus_msc.store.models import Patient, PatientState, Screening, User
from lupus_msc.web.session import WebUser

DOMAIN_LABELS = {
    "constitutional": "Constitutional",
    "hematologic": "Hematologic",
    "neuropsychiatric": "Neuropsychiatric",
    "mucocutaneous": "Mucocutaneous",
    "serosal": "Serosal",
    "musculoskeletal": "Musculoskeletal",
    "renal": "Renal",
    "antiphospholipid": "Antiphospholipid antibodies",
    "complement": "Complement proteins",
    "sle_specific_antibodies": "SLE-specific antibodies",
}
DESCRIPTOR_LABELS = {
    "cva": "Cerebrovascular accident",
    "organic_brain_syndrome": "Organic brain syndrome",
    "increased_dna_binding": "Increased DNA binding",
}
LAB_LABELS = {
    "urine_rbc_hpf": "Urine red cells (/HPF)",
    "urine_wbc_hpf": "Urine white cells (/HPF)",
    "proteinuria_g_24h": "Urine protein (g/24 h)",
    "upcr_g_g": "Urine protein/creatinine ratio (g/g)",
    "platelets_10e9_l": "Platelets (10⁹/L)",
    "wbc_10e9_l": "White cells (10⁹/L)",
    "temperature_c": "Temperature (°C)",
    "c3_g_l": "C3 (g/L)",
    "c3_lln_g_l": "C3 lower limit of normal (g/L)",
    "c4_g_l": "C4 (g/L)",
    "c4_lln_g_l": "C4 lower limit of normal (g/L)",
    "anti_dsdna_iu_ml": "Anti-dsDNA (IU/mL)",
    "anti_dsdna_uln_iu_ml": "Anti-dsDNA upper limit of normal (IU/mL)",
}
ORGANS = [(organ, organ.capitalize()) for organ in get_args(Organ)]
DRUG_CLASSES = [(kind, kind.capitalize()) for kind in get_args(DrugClass)]
MEANING = {
    "eligible": "eligibility decision: eligible for the programme",
    "ineligible": "eligibility decision: screen-failed (not eligible)",
}


@dataclass(frozen=True)
class DomainItems:
    domain: str
    label: str
    clinical: bool
    criteria: list[Criterion]


def eular_domains() -> list[DomainItems]:
    """The §7 domains in the table's order, clinical first, each with its criteria."""
    found = []
    for domain in DOMAINS:
        items = [criterion for criterion in CRITERIA if criterion.domain == domain]
        found.append(DomainItems(domain, DOMAIN_LABELS[domain], items[0].clinical, items))
    return found


def descriptor_label(descriptor: Descriptor) -> str:
    return DESCRIPTOR_LABELS.get(descriptor.key, descriptor.key.replace("_", " ").capitalize())


def form_items(protocol: Protocol) -> dict[str, Any]:
    """What the screening form lists, from the engine's tables and the patient's protocol."""
    return {
        "domains": eular_domains(),
        "descriptors": [(d, descriptor_label(d)) for d in DESCRIPTORS],
        "labs": [(name, LAB_LABELS[name]) for name in SledaiLabs.model_fields],
        "criterion_names": {c.key: c.definition for c in CRITERIA},
        "descriptor_names": {d.key: descriptor_label(d) for d in DESCRIPTORS},
        "lab_names": LAB_LABELS,
        "organs": ORGANS,
        "drug_classes": DRUG_CLASSES,
        "other_rules": [
            rule for rule in protocol.eligibility if rule.condition.field not in DERIVED_FIELDS
        ],
    }


def other_kinds(protocol: Protocol) -> dict[str, type]:
    """The further fields the protocol's rules read, with the kind each rule compares."""
    kinds: dict[str, type] = {}
    for rule in protocol.eligibility:
        if rule.condition.field not in DERIVED_FIELDS:
            value = rule.condition.value
            kinds[rule.condition.field] = (
                bool if isinstance(value, bool) else Decimal if isinstance(value, Decimal) else str
            )
    return kinds


@dataclass(frozen=True)
class Screenings:
    """A patient as this user may see them, their protocol, screenings and who decided them."""

    patient: Patient
    view: patients.PatientOut
    protocol: Protocol
    screenings: list[Screening]
    signers: dict[uuid.UUID, str]

    @property
    def latest(self) -> Screening | None:
        return self.screenings[-1] if self.screenings else None

    def can_record(self, user: WebUser) -> bool:
        return user.can(Action.RECORD_SCREENING) and self.patient.state in SCREENABLE

    def can_decide(self, user: WebUser) -> bool:
        latest = self.latest
        return (
            user.can(Action.SIGN_ELIGIBILITY)
            and latest is not None
            and latest.decision is None
            and self.patient.state is PatientState.SCREENING
        )


def load(session: Session, user: WebUser, patient_id: uuid.UUID) -> Screenings:
    """The screening page's records (the services check role and site: 403, 404)."""
    patient = patients.get(session, user.actor, patient_id)
    found = screening.for_patient(session, user.actor, patient.id)
    signer_ids = {s.decided_by_id for s in found if s.decided_by_id is not None}
    signers = {}
    for signer_id in signer_ids:
        signer = session.get(User, signer_id)
        signers[signer_id] = signer.full_name if signer else "?"
    version = protocols.get(session, patient.protocol_version_id)
    return Screenings(
        patient=patient,
        view=patients.view(user.actor, patient),
        protocol=protocols.definition(version),
        screenings=found,
        signers=signers,
    )
