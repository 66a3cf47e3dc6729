"""``/api/v1/audit``: page through the audit trail, a patient's trail, and verify the chain."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from lupus_msc.services import audit_trail
from lupus_msc.services.audit_trail import AuditEventOut, ChainOut
from lupus_msc.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=list[AuditEventOut])
def audit_page(
    actor: ActorDep,
    registry: DatabaseDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    """Audit events with ``seq`` greater than ``after``, oldest first (admins only)."""
    with registry.reads() as session:
        rows = audit_trail.page(session, actor, after=after, limit=limit)
        return [AuditEventOut.model_validate(row) for row in rows]


@router.get("/audit/verify", response_model=ChainOut)
def audit_verify(actor: ActorDep, registry: DatabaseDep) -> ChainOut:
    """Walk the hash chain and report the first broken row, if any."""
    with registry.reads() as session:
        return audit_trail.verify(session, actor)


@router.get("/patients/{patient_id}/audit", response_model=list[AuditEventOut])
def patient_audit(
    patient_id: uuid.UUID, actor: ActorDep, registry: DatabaseDep
) -> list[AuditEventOut]:
    """Every audit event about the patient's record and what hangs from it (monitors, admins)."""
    with registry.reads() as session:
        rows = audit_trail.for_patient(session, actor, patient_id)
        return [AuditEventOut.model_validate(row) for row in rows]
