"""Every table of the registry; importing this package registers them all on ``Base.metadata``."""

from lupus_msc.store.models.audit import AuditEvent, AuditHead
from lupus_msc.store.models.deidentification import DeidentificationKey
from lupus_msc.store.models.followup import AdverseEvent, LabResult, Medication, Visit
from lupus_msc.store.models.patients import (
    Consent,
    Patient,
    PatientState,
    ProtocolVersion,
    Screening,
    Sex,
)
from lupus_msc.store.models.people import (
    ApiToken,
    Membership,
    Qualification,
    QualificationKind,
    Role,
    Site,
    User,
)
from lupus_msc.store.models.products import (
    CustodyEvent,
    CustodyKind,
    Donor,
    DonorKind,
    Harvest,
    Lot,
    ReleaseDecision,
    ReleaseTest,
    TissueSource,
)
from lupus_msc.store.models.treatment import BedsideCheck, Infusion, InfusionLot

__all__ = [
    "AdverseEvent",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "BedsideCheck",
    "Consent",
    "CustodyEvent",
    "CustodyKind",
    "DeidentificationKey",
    "Donor",
    "DonorKind",
    "Harvest",
    "Infusion",
    "InfusionLot",
    "LabResult",
    "Lot",
    "Medication",
    "Membership",
    "Patient",
    "PatientState",
    "ProtocolVersion",
    "Qualification",
    "QualificationKind",
    "ReleaseDecision",
    "ReleaseTest",
    "Role",
    "Screening",
    "Sex",
    "Site",
    "TissueSource",
    "User",
    "Visit",
]
